import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from src.io import atomic_path, atomic_write_json, atomic_write_npz, atomic_write_text


def test_failed_write_leaves_the_previous_version_and_no_temp_file(tmp_path):
    target = tmp_path / "metrics.json"
    atomic_write_json(target, {"a": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text('{"a": 2, "half')
            raise RuntimeError("interrupted mid-write")
    assert target.read_text() == '{\n  "a": 1\n}\n'
    assert os.listdir(tmp_path) == ["metrics.json"]


def test_killed_writer_leaves_nothing_partial(tmp_path):
    # A child process writes a large file through atomic_path and is SIGKILLed
    # while writing: the target must not exist (only the hidden temp may).
    target = tmp_path / "params.npz"
    code = textwrap.dedent(f"""
        import os, sys, time
        from src.io import atomic_path
        with atomic_path({str(target)!r}) as tmp, open(tmp, "wb") as f:
            f.write(b"x" * 1000)
            f.flush()
            print("writing", flush=True)
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert not target.exists()
    assert all(name.startswith(".params.npz.") for name in os.listdir(tmp_path))


def test_round_trips(tmp_path):
    atomic_write_text(tmp_path / "a" / "b.md", "hello\n")
    assert (tmp_path / "a" / "b.md").read_text() == "hello\n"
    atomic_write_npz(tmp_path / "p.npz", W1=np.eye(2))
    with np.load(tmp_path / "p.npz", allow_pickle=False) as data:
        assert np.array_equal(data["W1"], np.eye(2))


def test_npz_bytes_do_not_depend_on_when_they_are_written(tmp_path, monkeypatch):
    import time

    atomic_write_npz(tmp_path / "a.npz", W1=np.arange(6.0).reshape(2, 3), b1=np.zeros((2, 1)))
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 86400 * 400)
    atomic_write_npz(tmp_path / "b.npz", W1=np.arange(6.0).reshape(2, 3), b1=np.zeros((2, 1)))
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_object_arrays_are_refused(tmp_path):
    with pytest.raises(ValueError):
        atomic_write_npz(tmp_path / "bad.npz", X=np.array([{"a": 1}], dtype=object))
    assert not (tmp_path / "bad.npz").exists()


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600)])
def test_written_files_get_the_mode_open_gives(tmp_path, umask, mode):
    # 0o666 & ~umask, like open(): not mkstemp's owner-only 0o600 whatever the umask.
    previous = os.umask(umask)
    try:
        with atomic_path(tmp_path / "a.bin") as tmp:
            tmp.write_bytes(b"x")
        atomic_write_text(tmp_path / "b.md", "hello\n")
    finally:
        os.umask(previous)
    assert (tmp_path / "a.bin").stat().st_mode & 0o777 == mode
    assert (tmp_path / "b.md").stat().st_mode & 0o777 == mode
