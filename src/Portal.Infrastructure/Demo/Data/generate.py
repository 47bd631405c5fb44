"""Generates the demo credit-risk dataset (two monthly extracts) shipped with the portal.

Run with Debian's Python (numpy): /usr/bin/python3 generate.py. Fixed seeds, so the files are reproducible.
Version 2 is the next month's extract with realistic trouble: incomes up and credit scores down (drift),
a new employment category the contract does not allow, missing ages and a few repeated customer ids.
"""
import csv
import numpy as np

EMPLOYMENT = ["salaried", "self-employed", "unemployed", "retired", "student"]
EMPLOYMENT_P = [0.58, 0.17, 0.07, 0.12, 0.06]
HOMES = ["rent", "own", "mortgage"]
FIRST = ["anna", "ben", "carla", "dev", "emma", "femi", "gita", "hugo", "ines", "jon", "kai", "lena", "milo", "nora", "omar", "pia"]
LAST = ["smith", "meyer", "rossi", "garcia", "novak", "kowalski", "jensen", "dubois", "silva", "murphy"]


def extract(seed, start_id, rows, income_factor=1.0, score_shift=0.0, gig_share=0.0, missing_ages=0, duplicates=0):
    rng = np.random.default_rng(seed)
    ids = np.arange(start_id, start_id + rows)
    age = rng.integers(19, 76, rows)
    income = np.round(rng.lognormal(10.6, 0.45, rows) * income_factor, 2)
    loan = np.round(np.clip(income * rng.uniform(0.1, 0.9, rows), 1000, None), 2)
    term = rng.choice([12, 24, 36, 48, 60], rows, p=[0.1, 0.2, 0.35, 0.2, 0.15])
    employment = rng.choice(EMPLOYMENT, rows, p=EMPLOYMENT_P)
    if gig_share:
        employment = np.where(rng.random(rows) < gig_share, "gig", employment)
    home = rng.choice(HOMES, rows, p=[0.45, 0.2, 0.35])
    score = np.clip(np.round(rng.normal(680 + score_shift, 60, rows)), 300, 850).astype(int)
    risk = 1 / (1 + np.exp(0.012 * (score - 600) + 0.00001 * (income - loan) - 0.8 * (employment == "unemployed")))
    defaulted = rng.random(rows) < risk * 0.6
    email = [f"{FIRST[i % len(FIRST)]}.{LAST[(i * 7) % len(LAST)]}{cid % 1000}@mail.example" for i, cid in enumerate(ids)]
    rows_out = []
    for i in range(rows):
        rows_out.append([ids[i], age[i], income[i], loan[i], term[i], employment[i], home[i], score[i], email[i], "true" if defaulted[i] else "false"])
    for i in rng.choice(rows, missing_ages, replace=False):
        rows_out[i][1] = ""
    for k in range(duplicates):
        rows_out[-(k + 1)][0] = rows_out[k][0]
    return rows_out


def usable(rows):
    """The rows a holdout can be scored on: an age, and each customer once (first occurrence kept)."""
    seen = set()
    kept = []
    for row in rows:
        if row[1] != "" and row[0] not in seen:
            seen.add(row[0])
            kept.append(row)
    return kept


HEADER = ["customer_id", "age", "annual_income", "loan_amount", "term_months", "employment", "home_ownership", "credit_score", "email", "defaulted"]
october = extract(12, 102001, 2000, income_factor=1.35, score_shift=-45, gig_share=0.06, missing_ages=12, duplicates=3)
for name, data in [
    ("credit-risk-2026-09.csv", extract(11, 100001, 2000)),
    ("credit-risk-2026-10.csv", october),
    # October's applications cleaned for scoring models: a holdout must pass validation to be trusted.
    ("credit-risk-holdout-2026-10.csv", usable(october)),
]:
    with open(name, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(data)
