"""Hydra finds launchers only in ``hydra_plugins``: this registers src.launcher's."""
from src.launcher import ForkingJoblibLauncher as _ForkingJoblibLauncher


class ForkingJoblibLauncher(_ForkingJoblibLauncher):
    pass
