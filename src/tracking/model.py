"""The trained network as an MLflow pyfunc model, logged from code (no pickle).

MLflow runs this file when it loads the model (its models-from-code): ``set_model``
hands it a ``Network``, whose weights are the run's ``params.npz`` artifact. Loading
needs the project importable (``pip install -e .``, as ``mlflow models predict
--env-manager local`` has it). ``predict`` takes examples as rows, shape
(m, n_features) (an array or a DataFrame), and returns each one's class: the
project's own prediction (src/nn/model.py), A_L > 0.5 or the argmax class.
"""
import mlflow
import numpy as np
from mlflow.pyfunc import PythonModel


class Network(PythonModel):
    def load_context(self, context) -> None:
        with np.load(context.artifacts["weights"], allow_pickle=False) as f:
            self.params = {name: f[name] for name in f.files}

    def predict(self, context, model_input: np.ndarray, params=None) -> np.ndarray:
        from src.nn.model import predict

        examples = np.asarray(model_input, dtype=np.float64)
        return predict(examples.T, self.params).reshape(-1)  # course layout inside: (n_features, m)


mlflow.models.set_model(Network())
