"""The tracking figures, measured with the real MLflow client against whatever MLFLOW_TRACKING_URI names
(the portal or MLflow's own server), so both sides get the same client, machine and run.

Prints one line "FIGURES {...}": log-batch points/s, runs/search p50 over N runs ordered by a metric,
get-history of P points, and log_model + register_model round trip (until the version is READY).
"""
import argparse
import json
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import mlflow
import mlflow.sklearn
import numpy as np
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
from sklearn.linear_model import LogisticRegression

parser = argparse.ArgumentParser()
parser.add_argument("--batches", type=int, default=100)
parser.add_argument("--runs", type=int, default=10_000)
parser.add_argument("--points", type=int, default=100_000)
parser.add_argument("--searches", type=int, default=10)
parser.add_argument("--model", default=f"bench-{uuid.uuid4().hex[:8]}")
args = parser.parse_args()
client = MlflowClient()
figures = {}
now = int(time.time() * 1000)


def experiment(name):
    return client.create_experiment(f"{name}-{uuid.uuid4().hex[:8]}")


# 1. log-batch: 1,000 points per request (10 metrics x 100 steps), one run, as a training loop logs.
run = client.create_run(experiment("bench-ingest"))
started = time.perf_counter()
for b in range(args.batches):
    client.log_batch(run.info.run_id, metrics=[Metric(f"m{k}", float(s + k), now, b * 100 + s) for s in range(100) for k in range(10)])
figures["log_batch_points_per_s"] = args.batches * 1000 / (time.perf_counter() - started)

# 2. runs/search over N runs (5 metrics, 5 params each), ordered by a metric; runs are created 8 at a time.
search_experiment = experiment("bench-search")
rng = np.random.default_rng(42)


def make(i):
    r = client.create_run(search_experiment, run_name=f"run-{i:05d}")
    client.log_batch(r.info.run_id, metrics=[Metric(f"metric_{m}", float(rng.random()), now, 0) for m in range(5)],
                     params=[Param(f"param_{p}", str(int(rng.integers(50)))) for p in range(5)])


started = time.perf_counter()
with ThreadPoolExecutor(8) as pool:
    list(pool.map(make, range(args.runs)))
figures["runs_created_per_s"] = args.runs / (time.perf_counter() - started)
times = []
for q in range(args.searches):
    started = time.perf_counter()
    page = client.search_runs([search_experiment], order_by=[f"metrics.metric_{q % 5} DESC"], max_results=100)
    times.append(time.perf_counter() - started)
    assert len(page) == 100, len(page)
figures["runs_search_p50_ms"] = statistics.median(times) * 1000

# 3. get-history of P points of one metric.
run = client.create_run(experiment("bench-history"))
for start in range(0, args.points, 1000):
    client.log_batch(run.info.run_id, metrics=[Metric("loss", 1.0 / (i + 1), now, i) for i in range(start, min(args.points, start + 1000))])
times = []
for _ in range(3):
    started = time.perf_counter()
    history = client.get_metric_history(run.info.run_id, "loss")
    times.append(time.perf_counter() - started)
    assert len(history) == args.points, len(history)
figures["get_history_s"] = statistics.median(times)

# 4. log_model + register_model, until the registry says READY (the portal runs its checks first).
mlflow.set_experiment(f"bench-model-{uuid.uuid4().hex[:8]}")
x = rng.random((200, 5))
y = (x[:, 0] > 0.5).astype(int)
with mlflow.start_run() as model_run:
    started = time.perf_counter()
    mlflow.sklearn.log_model(LogisticRegression().fit(x, y), "model")
    logged = time.perf_counter() - started
try:
    mlflow.register_model(f"runs:/{model_run.info.run_id}/model", args.model)
except mlflow.exceptions.MlflowException as e:
    # The portal's checks may fail this synthetic model (it has no recorded training data): still a final answer.
    figures["registration_refused"] = str(e)[:300]
figures["log_model_s"] = logged
figures["log_model_and_register_s"] = time.perf_counter() - started
figures["registered_status"] = client.search_model_versions(f"name = '{args.model}'")[0].status
print("FIGURES " + json.dumps(figures), flush=True)
