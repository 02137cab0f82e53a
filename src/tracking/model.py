"""The trained network as an MLflow pyfunc model, logged from code (no pickle).

MLflow runs this file when it loads the model (its models-from-code): ``set_model``
hands it a ``Network``, whose weights are the run's ``params.npz`` artifact. Loading
needs the project importable (``pip install -e .``, as ``mlflow models predict
--env-manager local`` has it). ``predict`` takes examples as rows, shape
(m, n_features) (an array or a DataFrame), as the run's dataset gives them, and
returns each one's class: the project's own prediction (src/nn/model.py), A_L > 0.5
or the argmax class. A run that standardised its input (``normalize``) logs the
training split's mean and std beside the weights (``normalization.json``): the
model standardises the examples with them first, as training did.
"""
import json

import mlflow
import numpy as np
from mlflow.pyfunc import PythonModel


class Network(PythonModel):
    def load_context(self, context) -> None:
        with np.load(context.artifacts["weights"], allow_pickle=False) as f:
            self.params = {name: f[name] for name in f.files}
        self.stats = None
        if "normalization" in context.artifacts:
            with open(context.artifacts["normalization"]) as f:
                stats = json.load(f)
            self.stats = tuple(np.asarray(stats[key], dtype=np.float64).reshape(-1, 1) for key in ("mean", "std"))

    def predict(self, context, model_input: np.ndarray, params=None) -> np.ndarray:
        from src.nn.model import predict
        from src.nn.standardize import standardize

        X = np.asarray(model_input, dtype=np.float64).T  # course layout inside: (n_features, m)
        if self.stats is not None:
            X = standardize(X, *self.stats)
        return predict(X, self.params).reshape(-1)


mlflow.models.set_model(Network())
