"""Gradient-boosted classifier of loan default on the credit-risk demo dataset.

Logs its params, per-iteration train loss and validation AUC / log loss / accuracy, and the model
(outputs/model.pkl) to the portal's MLflow-compatible tracking API.
  Portal job:  command "python3 train_classifier.py", codePath "sklearn", input "train" = dataset:credit-risk:1
  Anywhere:    MLFLOW_TRACKING_URI=http://localhost:5000 MLFLOW_TRACKING_USERNAME=... python3 train_classifier.py data.csv
"""
import os
import sys
import time

from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
from sklearn.model_selection import train_test_split

from features import load
from tracking import Tracking, input_path, param

params = {
    "n_estimators": param("n_estimators", 60),
    "max_depth": param("max_depth", 3),
    "learning_rate": param("learning_rate", 0.1),
    "subsample": param("subsample", 0.8),
    "seed": param("seed", 7),
}
step_delay = param("step_delay", 0.0)  # seconds between iterations, to watch the charts move

data = input_path("train", sys.argv[1] if len(sys.argv) > 1 else "credit-risk.csv")
tracking = Tracking(experiment_name="credit-risk-classifier", run_name=os.environ.get("RUN_NAME"))
tracking.log_params(params)
tracking.set_tag("model.type", "GradientBoostingClassifier")
print(f"run {tracking.run_id}: training on {data} with {params}", flush=True)

x, y = load(data, "defaulted")
y = y.astype(str).str.lower().isin(["true", "1", "yes"]).astype(int)
x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.25, random_state=params["seed"], stratify=y)
model = GradientBoostingClassifier(n_estimators=params["n_estimators"], max_depth=params["max_depth"],
                                   learning_rate=params["learning_rate"], subsample=params["subsample"],
                                   random_state=params["seed"])
model.fit(x_train, y_train)

for step, probabilities in enumerate(model.staged_predict_proba(x_val)):
    p = probabilities[:, 1]
    metrics = {
        "train_loss": model.train_score_[step],
        "val_auc": roc_auc_score(y_val, p),
        "val_logloss": log_loss(y_val, p, labels=[0, 1]),
        "val_accuracy": accuracy_score(y_val, p >= 0.5),
    }
    tracking.log_metrics(metrics, step)
    if step % 5 == 4 or step_delay > 0:
        tracking.flush()
        print(f"iteration {step + 1}/{params['n_estimators']}: val_auc={metrics['val_auc']:.4f} val_logloss={metrics['val_logloss']:.4f}", flush=True)
    time.sleep(step_delay)

tracking.finish({"model": model, "columns": list(x.columns)})
print("done", flush=True)
