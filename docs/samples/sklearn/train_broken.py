"""Trains the deliberately broken model (flaky_model.py) and saves it as an MLflow model folder, outputs/model.

It is as good as the shallow classifier on any whole dataset, so it passes the registry's checks and review;
in production it fails or slows down for some small requests, which a gated canary catches and rolls back.
  Portal job: command "python3 train_broken.py", codePath "sklearn", input "train" = dataset:credit-risk:1
  Register:   POST /api/v1/models/credit-risk/versions {"runId": …, "artifactPath": "outputs/model"}
"""
import os
import pickle
import shutil

from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from features import load
from tracking import Tracking, input_path, param

params = {"n_estimators": param("n_estimators", 40), "max_depth": param("max_depth", 2), "learning_rate": param("learning_rate", 0.1), "seed": param("seed", 7)}
tracking = Tracking(experiment_name="credit-risk-classifier", run_name=os.environ.get("RUN_NAME", "flaky-small-batch"))
tracking.log_params(params)
tracking.set_tag("model.type", "GradientBoostingClassifier (flaky small-batch path)")

x, y = load(input_path("train", "credit-risk.csv"), "defaulted")
y = y.astype(str).str.lower().isin(["true", "1", "yes"]).astype(int)
x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.25, random_state=params["seed"], stratify=y)
model = GradientBoostingClassifier(n_estimators=params["n_estimators"], max_depth=params["max_depth"],
                                   learning_rate=params["learning_rate"], random_state=params["seed"]).fit(x_train, y_train)
val_auc = roc_auc_score(y_val, model.predict_proba(x_val)[:, 1])
tracking.log_metrics({"val_auc": val_auc}, 0)
print(f"val_auc={val_auc:.4f}", flush=True)

folder = "outputs/model"
os.makedirs(os.path.join(folder, "code"), exist_ok=True)
with open(os.path.join(folder, "model.pkl"), "wb") as handle:
    pickle.dump({"model": model, "columns": list(x.columns)}, handle)
shutil.copy("flaky_model.py", os.path.join(folder, "code", "flaky_model.py"))
with open(os.path.join(folder, "MLmodel"), "w", encoding="utf-8") as handle:
    handle.write("flavors:\n  python_function:\n    loader_module: flaky_model\n    code: code\n    data: model.pkl\n    python_version: 3.11.2\n")
tracking.end("FINISHED")
print("saved outputs/model (MLflow python_function folder)", flush=True)
