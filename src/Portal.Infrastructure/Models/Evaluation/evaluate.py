"""Scores a candidate model, and the champion when there is one, on a holdout dataset: overall and per slice.

The portal runs this as a job when a model version is registered (see ModelValidation.cs). Inputs arrive as
INPUT_HOLDOUT, INPUT_CANDIDATE and INPUT_CHAMPION (optional); settings as PARAM_TARGET, PARAM_METRIC and
PARAM_SLICE_COLUMN. A model file is a pickle of an estimator, or of {"model": estimator, "columns": [...]}
as the samples write it; a model folder is an MLflow model (MLmodel with the sklearn flavour, or a custom
python_function whose loader_module ships in the folder's code directory). The result goes to outputs/evaluation.json; numbers that cannot be computed are null.
"""
import json
import math
import os
import pickle
import sys

import pandas as pd
from sklearn import metrics

MAX_SLICES = 20
target = os.environ["PARAM_TARGET"]
metric = os.environ.get("PARAM_METRIC", "auc")
slice_column = os.environ.get("PARAM_SLICE_COLUMN") or None
classification = metric in ("auc", "accuracy")


def read(path):
    if path.endswith((".jsonl", ".ndjson", ".json")):
        return pd.read_json(path, lines=True)
    return pd.read_csv(path)


def mlmodel_pickle(folder):
    """The estimator file an MLflow model folder's MLmodel names (sklearn flavour, or python_function
    loaded by mlflow.sklearn). Read without PyYAML: MLmodel's flavour block is plain `key: value` lines."""
    flavour, found = None, {}
    with open(os.path.join(folder, "MLmodel"), encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("  ") and not line.startswith("    ") and line.rstrip().endswith(":"):
                flavour = line.strip()[:-1]
            elif line.startswith("    ") and ":" in line and flavour:
                key, _, value = line.strip().partition(":")
                found.setdefault(flavour, {})[key] = value.strip().strip("'\"")
    sklearn = found.get("sklearn", {})
    if "pickled_model" in sklearn:
        return os.path.join(folder, sklearn["pickled_model"]), sklearn.get("serialization_format", "pickle")
    pyfunc = found.get("python_function", {})
    if pyfunc.get("loader_module") == "mlflow.sklearn" and "model_path" in pyfunc:
        return os.path.join(folder, pyfunc["model_path"]), "cloudpickle"
    return None


def column_names(model):
    # feature_names_in_ is a numpy array on fitted estimators and pipelines; never test its truth value.
    names = getattr(model, "feature_names_in_", None)
    return [] if names is None else [str(n) for n in names]


def read_pickle(path, serialization):
    if serialization == "cloudpickle":
        try:
            import cloudpickle
            with open(path, "rb") as handle:
                return cloudpickle.load(handle)
        except ImportError:
            pass  # cloudpickle writes standard pickles for importable classes such as sklearn estimators
    with open(path, "rb") as handle:
        return pickle.load(handle)


def load_pyfunc(folder):
    """A custom python_function model, loaded as MLflow does: its code directory on sys.path, then
    loader_module._load_pyfunc(data); one MLflow itself loads goes through mlflow.pyfunc where it is installed."""
    conf = {}
    with open(os.path.join(folder, "MLmodel"), encoding="utf-8") as handle:
        inside = False
        for line in handle:
            if line.startswith("  python_function:"):
                inside = True
            elif inside and line.startswith("    ") and ":" in line:
                key, _, value = line.strip().partition(":")
                conf[key] = value.strip().strip("'\"")
            elif inside and not line.startswith("    "):
                inside = False
    loader = conf.get("loader_module")
    if not loader:
        sys.exit(f"{folder}: MLmodel names neither an sklearn model nor a python_function loader_module")
    if loader.startswith("mlflow."):
        # A saved python_model (mlflow.pyfunc.model) is unpickled by MLflow itself.
        try:
            import mlflow.pyfunc
        except ImportError:
            sys.exit(f"{folder}: the MLflow model is loaded by {loader}, which needs the mlflow package; the evaluation job's Python has none "
                     "(install it there, or name the folder holding it in Portal:Local:PythonPath)")
        return mlflow.pyfunc.load_model(folder)
    if conf.get("code"):
        sys.path.insert(0, os.path.join(folder, conf["code"]))
    module = __import__(loader)
    return module._load_pyfunc(os.path.join(folder, conf["data"]) if "data" in conf else folder)


def load(path):
    """The model and the columns it was trained on; columns None marks a python_function model, fed raw rows."""
    serialization = "pickle"
    if os.path.isdir(path):
        found = mlmodel_pickle(path)
        if found is None:
            return load_pyfunc(path), None
        path, serialization = found
    bundle = read_pickle(path, serialization)
    if isinstance(bundle, dict):
        return bundle["model"], bundle.get("columns")
    return bundle, column_names(bundle)


def features(frame, columns):
    x = frame.drop(columns=[target])
    numeric = list(x.select_dtypes("number").columns)
    x[numeric] = x[numeric].fillna(x[numeric].median())
    # Only the categories the model was trained on become indicator columns (an id or e-mail column would explode).
    wanted = [c for c in x.columns if c not in numeric and any(str(k).startswith(f"{c}_") for k in columns)]
    x = pd.get_dummies(x[numeric + wanted], columns=wanted, dtype=float)
    return x.reindex(columns=columns, fill_value=0.0) if columns else x[numeric]


def labels(series):
    if classification:
        return series.astype(str).str.strip().str.lower().isin(["true", "1", "1.0", "yes"]).astype(int)
    return series.astype(float)


def predict(model, x):
    if classification and hasattr(model, "predict_proba"):
        return model.predict_proba(x)[:, 1]
    return model.predict(x)


def score(y, predicted):
    if len(y) == 0:
        return None
    if metric == "auc":
        return metrics.roc_auc_score(y, predicted) if y.nunique() == 2 else None
    if metric == "accuracy":
        return metrics.accuracy_score(y, predicted >= 0.5)
    if metric == "rmse":
        return math.sqrt(metrics.mean_squared_error(y, predicted))
    if metric == "mae":
        return metrics.mean_absolute_error(y, predicted)
    return metrics.r2_score(y, predicted) if len(y) > 1 else None


def finite(value):
    return None if value is None or not math.isfinite(value) else float(value)


frame = read(os.environ["INPUT_HOLDOUT"])
if target not in frame.columns:
    sys.exit(f"the holdout dataset has no column '{target}' (columns: {', '.join(map(str, frame.columns))})")
if slice_column and slice_column not in frame.columns:
    sys.exit(f"the holdout dataset has no slice column '{slice_column}'")
frame = frame.dropna(subset=[target]).reset_index(drop=True)
y = labels(frame[target])
print(f"holdout: {len(frame)} rows, metric {metric}", flush=True)

predictions = {}
for role in ("candidate", "champion"):
    path = os.environ.get(f"INPUT_{role.upper()}")
    if path:
        model, columns = load(path)
        if columns is None:
            predictions[role] = pd.Series(list(model.predict(frame.drop(columns=[target]))), dtype=float)
        else:
            predictions[role] = pd.Series(predict(model, features(frame, columns)))
        print(f"{role}: {metric} = {score(y, predictions[role])}", flush=True)

slices = []
if slice_column:
    groups = frame[slice_column].fillna("(missing)").astype(str)
    for value, count in groups.value_counts().head(MAX_SLICES).items():
        mask = groups == value
        slices.append({
            "slice": value,
            "rows": int(count),
            "candidate": finite(score(y[mask], predictions["candidate"][mask])),
            "champion": finite(score(y[mask], predictions["champion"][mask])) if "champion" in predictions else None,
        })

result = {
    "metric": metric,
    "rows": int(len(frame)),
    "candidate": finite(score(y, predictions["candidate"])),
    "champion": finite(score(y, predictions["champion"])) if "champion" in predictions else None,
    "sliceColumn": slice_column,
    "slices": slices,
}
os.makedirs("outputs", exist_ok=True)
with open("outputs/evaluation.json", "w", encoding="utf-8") as handle:
    json.dump(result, handle, indent=2)
print(json.dumps({k: v for k, v in result.items() if k != "slices"}), flush=True)
