"""The project's Hydra plugin (Hydra finds plugins only under ``hydra_plugins``)."""
