"""Data: the datasets in course layout (``datasets``), their standardisation with the
training split's statistics (``standardize``) and augmentation (``augment``)."""
