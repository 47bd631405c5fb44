"""Trains a small credit-risk classifier on INPUT_TRAIN and writes outputs/model.pkl as the samples do.

The model tests run it as a portal job; they have no HTTP address for tracking, so nothing is logged.
"""
import os
import pickle

from sklearn.ensemble import GradientBoostingClassifier

from features import load  # the samples' own, copied beside this script by the build

x, y = load(os.environ["INPUT_TRAIN"], "defaulted")
y = y.astype(str).str.lower().isin(["true", "1", "yes"]).astype(int)
model = GradientBoostingClassifier(n_estimators=int(os.environ.get("PARAM_N_ESTIMATORS", "20")), max_depth=2, random_state=7).fit(x, y)
os.makedirs("outputs", exist_ok=True)
with open("outputs/model.pkl", "wb") as handle:
    pickle.dump({"model": model, "columns": list(x.columns)}, handle)
print("trained", flush=True)
