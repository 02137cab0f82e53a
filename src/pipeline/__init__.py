"""The DVC pipeline (dvc.yaml): one module per stage, named as its stage, each a pure
function plus a thin ``main``; ``common`` holds what they share.

generate -> normalize -> train (``python -m src.train``, the init x regularisation
matrix) -> gradient_checks -> report; the course's tables (course_init and
course_optimization through ``python -m src.train``, course_regularization), digits
and digits_summary, and the studies: optimizer_race, early_stopping, multi_seed,
gradient_norms, batchnorm_rates. ``report`` (with ``report_studies`` and ``tables``)
writes reports/report.md.
"""
