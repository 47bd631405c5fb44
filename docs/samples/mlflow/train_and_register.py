"""A plain MLflow script for the portal: only MLflow's environment variables, nothing portal-specific in
the training code. It trains on a portal dataset version, logs and registers the model, and asks the
reviewers for approval.

    export MLFLOW_TRACKING_URI=http://localhost:5000           # the portal
    export MLFLOW_TRACKING_USERNAME=scientist@demo.local         # or MLFLOW_TRACKING_TOKEN=<access token>
    export MLFLOW_TRACKING_PASSWORD=...
    python3 train_and_register.py credit-risk 1

The registration waits (as mlflow.register_model always does) until the portal's checks have run: READY
means they passed, a failure names the check. Protected aliases (champion, production) and the Staging and
Production stages are refused until the version is approved; the script asks for approval and tells you
what to run once reviewers decide.
"""
import base64
import json
import os
import sys
import urllib.request

import mlflow
import mlflow.sklearn
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

DATASET, VERSION = (sys.argv[1], sys.argv[2]) if len(sys.argv) > 2 else ("credit-risk", "1")
MODEL = os.environ.get("MODEL_NAME", "credit-risk-mlflow")
FEATURES = ["age", "annual_income", "loan_amount", "term_months", "credit_score"]
PORTAL = os.environ["MLFLOW_TRACKING_URI"].rstrip("/")
SOURCE = f"{PORTAL}/api/v1/datasets/{DATASET}/versions/{VERSION}/content"


def portal(method, path, body=None):
    """The portal's own REST API, with the same credentials the MLflow client uses."""
    request = urllib.request.Request(PORTAL + path, method=method, data=None if body is None else json.dumps(body).encode())
    if os.environ.get("MLFLOW_TRACKING_TOKEN"):
        request.add_header("Authorization", "Bearer " + os.environ["MLFLOW_TRACKING_TOKEN"])
    else:
        pair = f"{os.environ['MLFLOW_TRACKING_USERNAME']}:{os.environ['MLFLOW_TRACKING_PASSWORD']}"
        request.add_header("Authorization", "Basic " + base64.b64encode(pair.encode()).decode())
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request) as response:
        return response.read()


with open("train.csv", "wb") as handle:
    handle.write(portal("GET", f"/api/v1/datasets/{DATASET}/versions/{VERSION}/content"))
frame = pd.read_csv("train.csv")
frame["defaulted"] = frame["defaulted"].astype(str).str.lower().isin(["true", "1"]).astype(int)
cut = int(len(frame) * 0.8)
train, valid = frame.iloc[:cut], frame.iloc[cut:]

mlflow.set_experiment("credit-risk-mlflow")
with mlflow.start_run(run_name="logreg-5-features") as run:
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(train[FEATURES], train["defaulted"])
    mlflow.log_params({"model": "logistic_regression", "features": ",".join(FEATURES)})
    mlflow.log_metric("val_auc", roc_auc_score(valid["defaulted"], model.predict_proba(valid[FEATURES])[:, 1]))
    # A dataset whose source is the portal's URL of a version becomes the run's training input (lineage,
    # and the registry's "training data passed validation" check).
    mlflow.log_input(mlflow.data.from_pandas(frame, source=SOURCE, name=DATASET), context="training")
    mlflow.sklearn.log_model(model, "model", signature=infer_signature(train[FEATURES], model.predict(train[FEATURES])),
                             input_example=train[FEATURES].head(3))

try:
    version = mlflow.register_model(f"runs:/{run.info.run_id}/model", MODEL)
except MlflowException as e:
    sys.exit(f"registration failed its checks: {e.message}")

client = MlflowClient()
client.set_registered_model_alias(MODEL, "candidate", version.version)  # unprotected: always allowed
try:
    client.set_registered_model_alias(MODEL, "champion", version.version)
except MlflowException as e:
    print(f"champion refused until approval: {e.message}")
    request = json.loads(portal("POST", f"/api/v1/models/{MODEL}/versions/{version.version}/approval-requests",
                                {"comment": "Logistic regression on five numeric columns."}))
    print(f"approval request {request['id']} is open; once it is approved run:\n"
          f"  python3 -c \"from mlflow import MlflowClient; MlflowClient().set_registered_model_alias('{MODEL}', 'champion', '{version.version}')\"\n"
          f"and load it anywhere with mlflow.pyfunc.load_model('models:/{MODEL}@champion').")
