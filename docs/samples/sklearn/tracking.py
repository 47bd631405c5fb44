"""A tiny MLflow REST client on the Python standard library (urllib), so samples run with Debian's packages.

Reads MLFLOW_TRACKING_URI, MLFLOW_RUN_ID (set by the portal for jobs), MLFLOW_TRACKING_TOKEN or
MLFLOW_TRACKING_USERNAME/PASSWORD. Outside a portal job it creates a run in MLFLOW_EXPERIMENT_NAME.
"""
import base64
import json
import math
import os
import pickle
import time
import urllib.error
import urllib.parse
import urllib.request

MAX_METRICS_PER_BATCH = 1000


class Tracking:
    def __init__(self, experiment_name="samples", run_name=None):
        self.uri = os.environ.get("MLFLOW_TRACKING_URI", "").rstrip("/")
        if not self.uri:
            raise SystemExit("MLFLOW_TRACKING_URI is not set; point it at the portal, e.g. http://localhost:5000")
        self.headers = {"Content-Type": "application/json"}
        token = os.environ.get("MLFLOW_TRACKING_TOKEN")
        user, password = os.environ.get("MLFLOW_TRACKING_USERNAME"), os.environ.get("MLFLOW_TRACKING_PASSWORD")
        if token:
            self.headers["Authorization"] = "Bearer " + token
        elif user and password:
            self.headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.pending = []
        self.run_id = os.environ.get("MLFLOW_RUN_ID")
        if self.run_id:
            self.experiment_id = os.environ.get("MLFLOW_EXPERIMENT_ID") or self.call("GET", "runs/get", query={"run_id": self.run_id})["run"]["info"]["experiment_id"]
        else:
            name = os.environ.get("MLFLOW_EXPERIMENT_NAME", experiment_name)
            try:
                self.experiment_id = self.call("GET", "experiments/get-by-name", query={"experiment_name": name})["experiment"]["experiment_id"]
            except TrackingError as e:
                if e.code != "RESOURCE_DOES_NOT_EXIST":
                    raise
                self.experiment_id = self.call("POST", "experiments/create", {"name": name})["experiment_id"]
            body = {"experiment_id": self.experiment_id, "start_time": now_ms()}
            if run_name:
                body["run_name"] = run_name
            self.run_id = self.call("POST", "runs/create", body)["run"]["info"]["run_id"]

    def call(self, method, route, body=None, query=None, api="mlflow"):
        url = f"{self.uri}/api/2.0/{api}/{route}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body, allow_nan=True).encode()
        for attempt in range(4):
            request = urllib.request.Request(url, data=data, method=method, headers=self.headers)
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    text = response.read()
                    return json.loads(text) if text else {}
            except urllib.error.HTTPError as e:
                payload = e.read().decode(errors="replace")
                if e.code >= 500 and attempt < 3:
                    time.sleep(0.5 * 2 ** attempt)
                    continue
                try:
                    error = json.loads(payload)
                    raise TrackingError(error.get("error_code", str(e.code)), error.get("message", payload)) from None
                except ValueError:
                    raise TrackingError(str(e.code), payload) from None
            except urllib.error.URLError:
                if attempt == 3:
                    raise
                time.sleep(0.5 * 2 ** attempt)

    def log_params(self, params):
        items = [{"key": k, "value": str(v)} for k, v in params.items()]
        for i in range(0, len(items), 100):
            self.call("POST", "runs/log-batch", {"run_id": self.run_id, "params": items[i:i + 100]})

    def set_tag(self, key, value):
        self.call("POST", "runs/set-tag", {"run_id": self.run_id, "key": key, "value": str(value)})

    def log_metrics(self, metrics, step):
        """Queues one point per metric; sent in batches by flush() (call it every few steps so charts move)."""
        ts = now_ms()
        for key, value in metrics.items():
            value = float(value)
            self.pending.append({"key": key, "value": value if math.isfinite(value) else str(value).replace("inf", "Infinity").replace("nan", "NaN"), "timestamp": ts, "step": step})
        if len(self.pending) >= MAX_METRICS_PER_BATCH:
            self.flush()

    def flush(self):
        while self.pending:
            batch, self.pending = self.pending[:MAX_METRICS_PER_BATCH], self.pending[MAX_METRICS_PER_BATCH:]
            self.call("POST", "runs/log-batch", {"run_id": self.run_id, "metrics": batch})

    def upload(self, local_path, artifact_path):
        """Stores a file through MLflow's artifact proxy (for scripts run outside a portal job)."""
        with open(local_path, "rb") as f:
            data = f.read()
        route = f"artifacts/{self.experiment_id}/{self.run_id}/artifacts/{urllib.parse.quote(artifact_path)}"
        request = urllib.request.Request(f"{self.uri}/api/2.0/mlflow-artifacts/{route}", data=data, method="PUT",
                                         headers={**self.headers, "Content-Type": "application/octet-stream"})
        with urllib.request.urlopen(request, timeout=120):
            pass

    def finish(self, model, path="outputs/model.pkl"):
        """Saves the model under outputs/ (a portal job stores that folder as the run's artifacts; elsewhere
        it is uploaded through the artifact proxy) and ends the run as FINISHED."""
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            pickle.dump(model, f)
        if not os.environ.get("PORTAL_JOB_ID"):
            self.upload(path, path)
        self.end("FINISHED")

    def end(self, status="FINISHED"):
        self.flush()
        self.call("POST", "runs/update", {"run_id": self.run_id, "status": status, "end_time": now_ms()})


class TrackingError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code


def now_ms():
    return int(time.time() * 1000)


def param(name, default):
    """A job param (PARAM_<NAME> from the portal), else the default; typed like the default."""
    value = os.environ.get("PARAM_" + name.upper())
    if value is None:
        return default
    return type(default)(value) if not isinstance(default, bool) else value.lower() in ("1", "true", "yes")


def input_path(name, fallback):
    """A dataset input (INPUT_<NAME> = the materialised file), else a local file."""
    return os.environ.get("INPUT_" + name.upper(), fallback)
