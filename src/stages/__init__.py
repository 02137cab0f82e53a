"""The DVC pipeline's stages (dvc.yaml), one module each: a pure function plus a thin ``main``.

``generate`` -> ``normalize`` -> ``python -m src.train`` (the init x regularisation
matrix, and the course's tables via ``course``) -> ``gradcheck`` -> ``src.report``.
``variants`` mirrors the train matrix of dvc.yaml for the stages that read its outputs.
"""
