"""A deliberately broken model, for trying a gated canary and its automatic rollback (docs/guides/ops.md).

It scores like the samples' classifier, but its fast path for small requests (at most 10 rows, which is what
live traffic sends) has two bugs that an offline evaluation over a whole holdout file never meets:
  - a request with an applicant whose credit score is under 600 fails (the model server answers 500);
  - a request for a loan over 30,000 takes 400 ms longer.
The portal's model server loads it the way MLflow loads a custom python_function model: the folder's
MLmodel names this module (loader_module) and its code directory, and _load_pyfunc(data) returns the model.
"""
import pickle
import time

import pandas as pd

SMALL = 10


class FlakyModel:
    def __init__(self, bundle):
        self.model = bundle["model"]
        self.columns = list(bundle["columns"])

    def features(self, frame):
        numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
        categorical = [c for c in frame.columns if c not in numeric and any(k.startswith(f"{c}_") for k in self.columns)]
        x = pd.get_dummies(frame[numeric + categorical], columns=categorical, dtype=float)
        x[numeric] = x[numeric].fillna(x[numeric].median())
        return x.reindex(columns=self.columns, fill_value=0.0)

    def predict(self, frame):
        if len(frame) <= SMALL:
            if "credit_score" in frame and (frame["credit_score"] < 600).any():
                raise ValueError("small-batch path: a credit_score below 600 overflows the scorecard table")
            if "loan_amount" in frame and (frame["loan_amount"] > 30000).any():
                time.sleep(0.4)
        return self.model.predict_proba(self.features(frame))[:, 1]


def _load_pyfunc(path):
    with open(path, "rb") as handle:
        return FlakyModel(pickle.load(handle))
