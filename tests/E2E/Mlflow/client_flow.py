"""What a data scientist's MLflow script does, end to end, with the real MLflow client (2.12.2).

Runs against the portal (--portal: protected aliases are refused until two reviewers approve through the
portal's API) or against MLflow's own tracking server (the benchmark's peer), so differences show up side
by side. Configuration is MLflow's own environment (MLFLOW_TRACKING_URI, MLFLOW_TRACKING_USERNAME,
MLFLOW_TRACKING_PASSWORD) plus:
  --data FILE       training CSV (credit-risk columns); --source URL names it for mlflow.log_input
  --portal          also ask for approval and approve as the reviewers in PORTAL_REVIEWERS ("user:pass,user:pass")
Prints one JSON line "RESULT {...}" with what it saw and how long each step took.
"""
import argparse
import base64
import json
import os
import sys
import time
import urllib.request

import mlflow
import mlflow.pyfunc
import mlflow.sklearn
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--source", default=None)
parser.add_argument("--model", default="mlflow-compat")
parser.add_argument("--experiment", default="mlflow-client-compat")
parser.add_argument("--history", type=int, default=30_000)
parser.add_argument("--portal", action="store_true")
args = parser.parse_args()

FEATURES = ["age", "annual_income", "loan_amount", "term_months", "credit_score"]
result = {"seconds": {}}


def step(name):
    class Timer:
        def __enter__(self):
            self.start = time.perf_counter()

        def __exit__(self, *exc):
            result["seconds"][name] = round(time.perf_counter() - self.start, 3)
    return Timer()


def portal(method, path, user, body=None):
    """The portal's own REST API (approval requests), with basic auth like the MLflow client."""
    request = urllib.request.Request(os.environ["MLFLOW_TRACKING_URI"].rstrip("/") + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
    name, password = user.split(":", 1)
    request.add_header("Authorization", "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode())
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"{}")


frame = pd.read_csv(args.data)
frame["defaulted"] = frame["defaulted"].astype(str).str.lower().isin(["true", "1"]).astype(int)
train, valid = frame.iloc[: int(len(frame) * 0.8)], frame.iloc[int(len(frame) * 0.8):]
client = MlflowClient()
mlflow.set_experiment(args.experiment)

with step("train_and_log"), mlflow.start_run(run_name="compat-logreg") as run:
    run_id = run.info.run_id
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(train[FEATURES], train["defaulted"])
    val_auc = roc_auc_score(valid["defaulted"], model.predict_proba(valid[FEATURES])[:, 1])
    mlflow.log_params({"C": 1.0, "features": ",".join(FEATURES)})
    mlflow.set_tag("team", "credit")
    mlflow.log_metric("val_auc", val_auc)
    mlflow.log_input(mlflow.data.from_pandas(frame, source=args.source or args.data, name="credit-risk"), context="training")
    with open("notes.txt", "w", encoding="utf-8") as handle:
        handle.write("trained by client_flow.py\n")
    mlflow.log_artifact("notes.txt", artifact_path="docs")
    started = time.perf_counter()
    now = int(time.time() * 1000)
    points = [mlflow.entities.Metric("loss", 1.0 / (i + 1), now, i) for i in range(args.history)]
    for start in range(0, len(points), 1000):
        client.log_batch(run_id, metrics=points[start:start + 1000])
    result["seconds"]["history_log"] = round(time.perf_counter() - started, 3)

with step("history_read"):
    history = client.get_metric_history(run_id, "loss")
result["history_points"] = len(history)

# Resuming the ended run to log the model afterwards, as many training scripts do.
with step("log_model"), mlflow.start_run(run_id=run_id):
    signature = infer_signature(train[FEATURES], model.predict(train[FEATURES]))
    mlflow.sklearn.log_model(model, "model", signature=signature, input_example=train[FEATURES].head(3))

with step("load_model"):
    loaded = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    predictions = loaded.predict(valid[FEATURES].head(5))
result["loaded_predictions"] = len(predictions)
result["model_files"] = sorted(f.path for f in client.list_artifacts(run_id, "model"))
result["run_files"] = sorted(f.path for f in client.list_artifacts(run_id))

found = mlflow.search_runs(filter_string="metrics.val_auc > 0.5 and tags.team = 'credit'", order_by=["metrics.val_auc DESC"], output_format="list")
result["search_found_run"] = any(r.info.run_id == run_id for r in found)

with step("register_model"):
    version = mlflow.register_model(f"runs:/{run_id}/model", args.model)
result["version"] = version.version
result["status"] = version.status
result["status_message"] = version.status_message

client.set_model_version_tag(args.model, version.version, "validated_by", "client_flow")
client.update_model_version(args.model, version.version, description="Logistic regression on five numeric columns.")
client.set_registered_model_tag(args.model, "owner", "credit-team")
again = client.get_model_version(args.model, version.version)
result["version_tags"] = dict(again.tags)
result["version_description"] = again.description
result["searched_versions"] = [v.version for v in client.search_model_versions(f"name = '{args.model}'")]
result["searched_models"] = [m.name for m in client.search_registered_models(filter_string=f"name = '{args.model}'")]
result["latest"] = [v.version for v in client.get_latest_versions(args.model, stages=["None"])]

client.set_registered_model_alias(args.model, "candidate", version.version)
result["candidate_alias"] = client.get_model_version_by_alias(args.model, "candidate").version
try:
    client.set_registered_model_alias(args.model, "champion", version.version)
    result["champion_before_approval"] = "accepted"
except MlflowException as e:
    result["champion_before_approval"] = f"{e.error_code}: {e.message}"
try:
    client.transition_model_version_stage(args.model, version.version, "Production")
    result["production_before_approval"] = "accepted"
except MlflowException as e:
    result["production_before_approval"] = f"{e.error_code}: {e.message}"

if args.portal:
    scientist = f"{os.environ['MLFLOW_TRACKING_USERNAME']}:{os.environ['MLFLOW_TRACKING_PASSWORD']}"
    request = portal("POST", f"/api/v1/models/{args.model}/versions/{version.version}/approval-requests", scientist, {"comment": "from client_flow.py"})
    for reviewer in os.environ["PORTAL_REVIEWERS"].split(","):
        portal("POST", f"/api/v1/approval-requests/{request['id']}/decisions", reviewer, {"verdict": "approve", "reason": "evaluation and card reviewed"})
    client.set_registered_model_alias(args.model, "champion", version.version)
    client.transition_model_version_stage(args.model, version.version, "Production")
    result["champion_after_approval"] = client.get_model_version_by_alias(args.model, "champion").version

with step("load_champion"):
    champion = mlflow.pyfunc.load_model(f"models:/{args.model}@champion") if "champion_after_approval" in result or not args.portal else None
result["champion_predictions"] = None if champion is None else len(champion.predict(valid[FEATURES].head(5)))
result["stage"] = client.get_model_version(args.model, version.version).current_stage
print("RESULT " + json.dumps(result), flush=True)
