"""MLflow tracking: one run per training job, one parent run per sweep.

``store`` (where runs go, the tags every run carries), ``runs`` (a job's run:
``start``, ``Run``), ``sweep`` (the Hydra callback that makes a sweep's parent run),
``model`` (the trained network as an MLflow model, logged from code).
``tracking=false`` imports none of MLflow.
"""
