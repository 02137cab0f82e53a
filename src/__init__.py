"""improving-dnn: see README.md (the Architecture section maps the packages)."""
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
