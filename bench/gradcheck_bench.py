"""Time gradient checks of a [2, 100, 100, 1] network on m = 300 examples.

    python bench/gradcheck_bench.py [--subset 100] [--skip-loop] [--blas-threads 1]

Prints seconds for a full check and a subset check, each by the loop path
(two cost_fn calls per coordinate, the course's method) and by the vectorised
path of ``check_model``. The loop-path full check is the slow one (~21k forward
passes); --skip-loop leaves it out.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from src.gradcheck import check_model  # noqa: E402
from src.nn.init import initialize  # noqa: E402


def problem(m: int = 300, seed: int = 0):
    """He-initialised [2, 100, 100, 1] parameters, X (2, m), Y (1, m)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2, m))
    Y = (rng.random((1, m)) < 0.5).astype(np.int64)
    params = initialize([2, 100, 100, 1], "he", rng.standard_normal)
    return params, X, Y


def timed(label: str, **kwargs):
    params, X, Y = problem()
    start = time.perf_counter()
    result = check_model(params, X, Y, **kwargs)
    seconds = time.perf_counter() - start
    checked = sum(result.checked.values())
    print(f"{label:<28} {seconds:8.2f} s  {checked:6d} coords  difference {result.difference:.2e}  {'passed' if result.passed else 'FAILED'}", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", type=int, default=100, help="coordinates per array for the subset check")
    parser.add_argument("--skip-loop", action="store_true", help="leave out the slow full loop check")
    parser.add_argument("--blas-threads", type=int, default=1, help="BLAS threads (0 = the library's default)")
    args = parser.parse_args()
    threads = args.blas_threads or None
    print(f"network [2, 100, 100, 1] (10501 parameters), m = 300, subset = {args.subset} per array, "
          f"BLAS threads: {threads or 'default'}, numpy {np.__version__}")
    with threadpool_limits(threads):
        timed("full, vectorised", vectorised=True)
        timed(f"subset {args.subset}, vectorised", vectorised=True, subset=args.subset)
        timed(f"subset {args.subset}, loop", vectorised=False, subset=args.subset)
        if not args.skip_loop:
            timed("full, loop", vectorised=False)


if __name__ == "__main__":
    main()
