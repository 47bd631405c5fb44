"""Feature preparation shared by the classifier and the regressor: the credit-risk demo dataset's columns."""
import pandas as pd

NUMERIC = ["age", "annual_income", "loan_amount", "term_months", "credit_score"]
CATEGORICAL = ["employment", "home_ownership"]


def load(path, target, drop=()):
    frame = pd.read_csv(path)
    frame = frame.dropna(subset=[target])
    numeric = [c for c in NUMERIC if c != target and c not in drop and c in frame.columns]
    categorical = [c for c in CATEGORICAL if c in frame.columns]
    x = pd.get_dummies(frame[numeric + categorical], columns=categorical, dtype=float)
    x[numeric] = x[numeric].fillna(x[numeric].median())
    return x, frame[target]
