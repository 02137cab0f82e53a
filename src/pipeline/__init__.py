"""The DVC pipeline (dvc.yaml): one module per stage, named as its stage, each a pure
function plus a thin ``main``; ``common`` holds what they share.

generate -> normalize -> train -> gradient_checks -> report, and digits_summary and the
studies (optimizer_race, early_stopping, gradient_norms, batchnorm_rates). The stages
that train (train, course_init, course_regularization, course_optimization, digits,
multi_seed) are Hydra multiruns of ``python -m src.train``: no module of their own.
``report`` (with ``report_studies`` and ``tables``) writes reports/report.md and
reports/summary.json.
"""
