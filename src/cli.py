"""Entry-point wrapper for every CLI: each failure becomes one line on stderr
and exit status 1, with no traceback (IMPROVING_DNN_DEBUG=1 shows it)."""
from __future__ import annotations

import atexit
import functools
import gc
import os
import sys

from hydra.errors import HydraException
from omegaconf.errors import OmegaConfBaseException

from .errors import Abort, InputError
from .nn.errors import DivergedError
from .workers import mark_launcher

EXPECTED = (InputError, DivergedError, HydraException, OmegaConfBaseException, OSError)

# At exit CPython's last garbage collection walks every object the imports made:
# ~0.6 s for MLflow's alone, ~1 s a CLI process. Nothing left by then needs it
# (runs are ended, files closed explicitly), so the last exit handler moves all
# objects out of the collector's sight; registered first, it runs last.
atexit.register(gc.freeze)


def one_line(error: BaseException) -> str:
    """Fold a multi-line message (Hydra lists options on lines of their own)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    if "Config search path:" in lines:
        lines = lines[: lines.index("Config search path:")]
    head, rest = lines[0], lines[1:]
    if rest and rest[0].startswith("Available options"):
        return f"{head} ({rest[0].rstrip(':').lower()}: {', '.join(rest[1:])})"
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror or head}"
    return " ".join([head, *rest])


class _WithoutHydraJobError:
    """stderr, minus the "Error executing job with overrides" line Hydra writes
    straight to sys.stderr before re-raising: our one line says it better."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        if text.startswith("Error executing job with overrides"):
            return len(text)
        return self._stream.write(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def arguments(argv: list[str] | None, count: int, usage: str) -> list[str]:
    """A stage CLI's ``count`` positional arguments (``argv``, else the command
    line's); any other number is an InputError that shows ``usage``."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != count:
        raise InputError(f"usage: {usage}")
    return argv


def report_errors(main):
    """Wrap a CLI's main: an expected failure becomes one line on stderr and exit 1;
    Ctrl-C, "interrupted" and exit 130."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            try:
                return main(*args, **kwargs)
            except Abort as abort:
                raise abort.error from None
        except EXPECTED as error:
            if os.environ.get("IMPROVING_DNN_DEBUG"):
                raise
            print(f"error: {one_line(error)}", file=sys.stderr)
            sys.exit(1)
        except KeyboardInterrupt:
            if os.environ.get("IMPROVING_DNN_DEBUG"):
                raise
            print("interrupted", file=sys.stderr)  # runs still open are ended at exit (src/tracking.py)
            sys.exit(130)  # 128 + SIGINT, as shells report it

    return wrapper


def run(hydra_main) -> None:
    """Call a ``@hydra.main`` function through ``report_errors``, Hydra's own errors included."""
    # Make Hydra re-raise instead of printing its own multi-line report.
    os.environ["HYDRA_FULL_ERROR"] = "1"
    _read_mode_from_the_command_line()
    mark_launcher()  # a sweep's workers die with this process (src/workers.py)
    stderr, sys.stderr = sys.stderr, _WithoutHydraJobError(sys.stderr)
    try:
        report_errors(hydra_main)()
    finally:
        sys.stderr = stderr
        _release_sweep_workers()


# The options that bring configs other than conf/'s, which might set hydra.mode.
OTHER_CONFIGS = ("--config-dir", "-cd", "--config-path", "-cp", "--config-name", "-cn")


def _read_mode_from_the_command_line() -> None:
    """Hydra composes a run's whole config twice: first only to read ``hydra.mode``
    (~0.07 s), then for the run. conf/ never sets ``hydra.mode`` (tests/test_config.py), so
    only the command line can: without a ``hydra.mode`` override or another config, the
    first composition would find None, which Hydra's own default (RUN, or MULTIRUN with
    ``-m``) replaces. That answer, without composing."""
    from hydra._internal.hydra import Hydra

    get_mode = getattr(Hydra.get_mode, "composing", Hydra.get_mode)

    def get_mode_without_composing(self, config_name, overrides):
        if any("hydra.mode" in override for override in overrides) or any(
                arg.split("=")[0] in OTHER_CONFIGS for arg in sys.argv[1:]):
            return get_mode(self, config_name, overrides)
        return None

    get_mode_without_composing.composing = get_mode
    Hydra.get_mode = get_mode_without_composing


def _release_sweep_workers() -> None:
    """joblib's reusable loky executor keeps its idle workers, and a non-daemon
    thread Python waits for at exit, for seconds after a sweep; end them now. Only
    an executor that exists: asking loky for one would start one, and its resource
    tracker process, which holds the caller's stdout ~0.2 s after this one exits."""
    reusable = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(reusable, "_executor", None)  # loky's own global: it has no public "is there one?"
    if executor is not None:
        executor.shutdown(wait=False, kill_workers=True)
