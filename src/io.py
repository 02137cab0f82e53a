"""Atomic file writes: write a temp file beside the target, then rename.

An interrupted stage leaves the previous version or nothing, never half a file.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import zipfile
from pathlib import Path

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | Path):
    """Yield a temp path in the target's directory; rename it onto ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_file(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _new_file(path: Path) -> Path:
    """Create an empty hidden ``.NAME.<random>.tmp<suffix>`` beside ``path``. Not
    tempfile.mkstemp: its files are owner-only (0600), a mode the rename would keep;
    0666 here lets the umask decide, as open() does."""
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp{path.suffix}")
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            return tmp
        except FileExistsError:
            continue  # another writer's temp file took that name: draw another


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def atomic_write_json(path: str | Path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def atomic_write_npz(path: str | Path, **arrays: np.ndarray) -> None:
    """Like ``np.savez``, but byte-reproducible: np.savez stamps the current
    time into each zip entry, which would change the file's hash on every run."""
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with archive.open(entry, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(array), allow_pickle=False)
