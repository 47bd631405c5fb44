"""The portal's model server: one instance of a deployment, started by the local backend (ModelServerSupervisor).

It loads the model from the files the portal copied into its working folder (bound by digest at approval)
and answers on 127.0.0.1:$PORT, HTTP/1.1 with keep-alive so the gateway's pooled connections are reused:
  GET  /health/live   200 while the process serves requests
  GET  /health/ready  200 once the model is loaded, 503 while it loads
  POST /score         {"inputs": [{feature: value, ...}, ...]} -> {"predictions": [...]}
A model file is a pickle of an estimator, or of {"model": estimator, "columns": [...]} as the samples write
it; a model folder is an MLflow model (MLmodel): the sklearn flavour, python_function with loader_module
mlflow.sklearn, or a custom loader_module shipped in the folder (MLflow's `code` directory and
`_load_pyfunc(data_path)` convention; the mlflow package is imported only when the loader itself needs it).
The process stops by itself once the portal no longer renews .portal-alive (the portal, and with it the
scoring gateway, is gone).
"""
import importlib
import json
import math
import os
import pickle
import sys
import threading
import time
import traceback
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ["PORT"])
MODEL_PATH = os.environ["MODEL_PATH"]
MAX_BODY = int(os.environ.get("MAX_BODY_BYTES", str(4 * 1024 * 1024)))
ORPHAN_GRACE = float(os.environ.get("ORPHAN_GRACE_SECONDS", "120"))
ALIVE_FILE = os.path.join(os.environ.get("HOME", "."), ".portal-alive")
BIND_FAILED = 98  # the portal picks another port without counting a crash

warnings.filterwarnings("ignore")
state = {"ready": False, "model": None}


def log(message):
    print(message, flush=True)


# ---------------------------------------------------------------------------------------------- loading

def read_mlmodel(folder):
    """MLmodel's flavours as {flavour: {key: value}}; read without PyYAML (its flavour block is `key: value` lines)."""
    flavour, found = None, {}
    with open(os.path.join(folder, "MLmodel"), encoding="utf-8") as handle:
        for line in handle:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if not line.startswith(" "):
                flavour = None
            elif line.startswith("  ") and not line.startswith("    ") and line.rstrip().endswith(":"):
                flavour = line.strip()[:-1]
            elif line.startswith("    ") and ":" in line and flavour:
                key, _, value = line.strip().partition(":")
                found.setdefault(flavour, {})[key] = value.strip().strip("'\"")
    return found


def unpickle(path, serialization="pickle"):
    if serialization == "cloudpickle":
        try:
            import cloudpickle
            with open(path, "rb") as handle:
                return cloudpickle.load(handle)
        except ImportError:
            pass  # cloudpickle writes standard pickles for importable classes such as sklearn estimators
    with open(path, "rb") as handle:
        return pickle.load(handle)


class Estimator:
    """An sklearn-style estimator and the columns it was trained on (one-hot categories as `column_value`)."""

    def __init__(self, model, columns):
        self.model = model
        self.columns = [str(c) for c in columns] if columns is not None and len(columns) else None
        self.classifier = hasattr(model, "predict_proba") and len(getattr(model, "classes_", [])) == 2
        self._plans = {}

    def _plan(self, keys):
        """How each trained column is filled from a row with these keys: the value itself, or 1/0 for a category."""
        plan = []
        for column in self.columns:
            if column in keys:
                plan.append((column, None))
                continue
            source = max((k for k in keys if column.startswith(f"{k}_")), key=len, default=None)
            plan.append((source, column[len(source) + 1:]) if source else (None, None))
        return plan

    def features(self, rows):
        import numpy as np
        import pandas as pd
        if self.columns is None:
            return pd.DataFrame(rows)
        keys = tuple(sorted(rows[0].keys())) if rows else ()
        plan = self._plans.get(keys)
        if plan is None:
            plan = self._plans[keys] = self._plan(set(keys))
        matrix = np.zeros((len(rows), len(plan)), dtype=float)
        for i, row in enumerate(rows):
            for j, (source, category) in enumerate(plan):
                if source is None:
                    continue
                value = row.get(source)
                if category is None:
                    matrix[i, j] = math.nan if value is None else float(value)
                elif value is not None and str(value) == category:
                    matrix[i, j] = 1.0
        return pd.DataFrame(matrix, columns=self.columns)

    def predict(self, rows):
        x = self.features(rows)
        if self.classifier:
            return self.model.predict_proba(x)[:, 1]
        return self.model.predict(x)


class PyFunc:
    """A custom MLflow python_function model: its loader module's _load_pyfunc, fed a DataFrame."""

    def __init__(self, model):
        self.model = model

    def predict(self, rows):
        import pandas as pd
        return self.model.predict(pd.DataFrame(rows))


def load(path):
    if not os.path.isdir(path):
        bundle = unpickle(path)
        if isinstance(bundle, dict):
            return Estimator(bundle["model"], bundle.get("columns"))
        return Estimator(bundle, getattr(bundle, "feature_names_in_", None))
    flavours = read_mlmodel(path)
    sklearn = flavours.get("sklearn", {})
    if "pickled_model" in sklearn:
        model = unpickle(os.path.join(path, sklearn["pickled_model"]), sklearn.get("serialization_format", "pickle"))
        return Estimator(model, getattr(model, "feature_names_in_", None))
    pyfunc = flavours.get("python_function", {})
    loader = pyfunc.get("loader_module")
    if loader == "mlflow.sklearn" and "model_path" in pyfunc:
        model = unpickle(os.path.join(path, pyfunc["model_path"]), "cloudpickle")
        return Estimator(model, getattr(model, "feature_names_in_", None))
    if not loader:
        raise SystemExit(f"{path}: MLmodel names neither an sklearn model nor a python_function loader_module")
    code = pyfunc.get("code")
    if code:
        sys.path.insert(0, os.path.join(path, code))
    if loader.startswith("mlflow."):
        try:
            import mlflow.pyfunc
        except ImportError:
            raise SystemExit(f"this MLflow model is loaded by {loader}, which needs the mlflow package; the configured Python has none "
                             "(install it there, or name the folder holding it in Portal:Local:PythonPath)")
        return PyFunc(mlflow.pyfunc.load_model(path))
    module = importlib.import_module(loader)
    data = os.path.join(path, pyfunc["data"]) if "data" in pyfunc else path
    return PyFunc(module._load_pyfunc(data))


def load_in_background():
    started = time.monotonic()
    try:
        import numpy  # noqa: F401 -- imported before ready, so the first request does not pay for it
        import pandas  # noqa: F401
        state["model"] = load(MODEL_PATH)
        state["ready"] = True
        log(f"model loaded from {os.path.basename(MODEL_PATH)} in {time.monotonic() - started:.2f} s; ready on 127.0.0.1:{PORT}")
    except BaseException as error:  # a model that cannot load is a crash the portal reports with these lines
        traceback.print_exc()
        log(f"could not load the model: {error}")
        sys.stdout.flush()
        os._exit(1)


def plain(value):
    """numpy scalars and arrays as JSON values (NaN stays NaN: the gateway refuses it as a garbage answer)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------- serving

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: with Nagle's algorithm and the gateway's delayed ACK each
    # answer would wait ~40 ms on a keep-alive connection.
    disable_nagle_algorithm = True
    server_version = "portal-model-server"
    sys_version = ""

    def log_message(self, format, *args):  # one line per request would drown the log
        pass

    def answer(self, status, document):
        body = json.dumps(document).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/health/live":
            self.answer(200, {"live": True})
        elif self.path == "/health/ready":
            self.answer(200 if state["ready"] else 503, {"ready": state["ready"]})
        else:
            self.answer(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            self.answer(413, {"error": f"body over {MAX_BODY} bytes"})
            return
        body = self.rfile.read(length)
        if self.path != "/score":
            self.answer(404, {"error": "not found"})
            return
        if not state["ready"]:
            self.answer(503, {"error": "the model is still loading"})
            return
        try:
            rows = json.loads(body)["inputs"]
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise ValueError("inputs must be a list of objects")
        except (ValueError, KeyError, TypeError) as error:
            self.answer(400, {"error": f"bad request: {error}"})
            return
        try:
            predictions = plain(state["model"].predict(rows))
        except Exception as error:
            traceback.print_exc()
            self.answer(500, {"error": f"{type(error).__name__}: {error}"})
            return
        self.answer(200, {"predictions": predictions})


def watch_portal():
    """Stops the server once the portal has not renewed .portal-alive for ORPHAN_GRACE seconds."""
    while True:
        time.sleep(min(5.0, max(0.5, ORPHAN_GRACE / 4)))
        try:
            age = time.time() - os.stat(ALIVE_FILE).st_mtime
        except OSError:
            age = ORPHAN_GRACE + 1
        if age > ORPHAN_GRACE:
            log(f"the portal has not been heard of for {age:.0f} s; stopping")
            os._exit(0)


def main():
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 128
    try:
        server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    except OSError as error:
        log(f"cannot listen on 127.0.0.1:{PORT}: {error}")
        sys.exit(BIND_FAILED)
    log(f"listening on 127.0.0.1:{PORT}; loading {os.path.basename(MODEL_PATH)}")
    threading.Thread(target=load_in_background, daemon=True).start()
    threading.Thread(target=watch_portal, daemon=True).start()
    server.serve_forever(poll_interval=0.5)


if __name__ == "__main__":
    main()
