"""Gradient-boosted regressor of the loan amount on the credit-risk demo dataset.

Logs its params, per-iteration validation RMSE / MAE / R² and the model (outputs/model.pkl) to the portal.
  Portal job: command "python3 train_regressor.py", codePath "sklearn", input "train" = dataset:credit-risk:1
"""
import os
import sys
import time

from sklearn.ensemble import GradientBoostingRegressor
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split

from features import load
from tracking import Tracking, input_path, param

params = {
    "n_estimators": param("n_estimators", 80),
    "max_depth": param("max_depth", 3),
    "learning_rate": param("learning_rate", 0.05),
    "seed": param("seed", 7),
}
step_delay = param("step_delay", 0.0)

data = input_path("train", sys.argv[1] if len(sys.argv) > 1 else "credit-risk.csv")
tracking = Tracking(experiment_name="credit-risk-regressor", run_name=os.environ.get("RUN_NAME"))
tracking.log_params(params)
tracking.set_tag("model.type", "GradientBoostingRegressor")
print(f"run {tracking.run_id}: training on {data} with {params}", flush=True)

x, y = load(data, "loan_amount")
x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.25, random_state=params["seed"])
model = GradientBoostingRegressor(n_estimators=params["n_estimators"], max_depth=params["max_depth"],
                                  learning_rate=params["learning_rate"], random_state=params["seed"])
model.fit(x_train, y_train)

for step, predicted in enumerate(model.staged_predict(x_val)):
    tracking.log_metrics({
        "train_loss": model.train_score_[step],
        "val_rmse": mean_squared_error(y_val, predicted) ** 0.5,
        "val_mae": mean_absolute_error(y_val, predicted),
        "val_r2": r2_score(y_val, predicted),
    }, step)
    if step % 10 == 9 or step_delay > 0:
        tracking.flush()
    time.sleep(step_delay)

tracking.finish({"model": model, "columns": list(x.columns)})
print("done", flush=True)
