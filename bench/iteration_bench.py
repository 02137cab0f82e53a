"""Microseconds per training iteration: ours vs a naive course-style loop.

Run by hand: ``python bench/iteration_bench.py [--iterations N]``. Both run in
this process, single BLAS thread, on the same data and initial parameters.
The naive loop is written the way the course notebooks write it: dict-based
caches, a separate cost with np.log every iteration, np.int64 ReLU masks.
"compiled" is ``kernels.fit(..., engine="compiled")`` (src/nn/kernels/compiled.py, numba)
as the recipe runs it for rng=modern: fresh dropout masks from the run's
generator every iteration (the course's cached masks would flatter it); its
compile (or cache load) happens in a warm-up call before the clock starts.
"""
from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from src.data.datasets import circles, load_mat
from src.nn import kernels
from src.nn.fit import fit
from src.nn.init import initialize
from src.randomness import CourseRandomness, ModernRandomness

COURSE_MAT = Path(__file__).resolve().parents[1] / "data" / "course" / "data.mat"  # shipped


def naive_course_loop(X, Y, params, learning_rate, num_iterations, lambd=0.0, keep_prob=1.0):
    params = {k: v.copy() for k, v in params.items()}
    L = len(params) // 2
    m = X.shape[1]
    for _ in range(num_iterations):
        if keep_prob < 1:
            np.random.seed(1)
        caches, A = [], X
        for l in range(1, L):
            Z = np.dot(params["W" + str(l)], A) + params["b" + str(l)]
            A_prev, A = A, np.maximum(0, Z)
            D = None
            if keep_prob < 1:
                D = np.random.rand(A.shape[0], A.shape[1]) < keep_prob
                A = A * D / keep_prob
            caches.append({"A_prev": A_prev, "Z": Z, "D": D, "A": A})
        ZL = np.dot(params["W" + str(L)], A) + params["b" + str(L)]
        AL = 1 / (1 + np.exp(-ZL))
        logprobs = np.multiply(-np.log(AL), Y) + np.multiply(-np.log(1 - AL), 1 - Y)
        cost = 1.0 / m * np.nansum(logprobs)
        if lambd:
            cost += lambd / (2 * m) * sum(np.sum(np.square(params["W" + str(l)])) for l in range(1, L + 1))
        grads = {}
        dZ = 1.0 / m * (AL - Y)
        A_prev = A
        for l in range(L, 0, -1):
            A_prev = caches[l - 2]["A"] if l > 1 else X
            grads["dW" + str(l)] = np.dot(dZ, A_prev.T) + (lambd / m) * params["W" + str(l)]
            grads["db" + str(l)] = np.sum(dZ, axis=1, keepdims=True)
            if l > 1:
                dA = np.dot(params["W" + str(l)].T, dZ)
                cache = caches[l - 2]
                if cache["D"] is not None:
                    dA = dA * cache["D"] / keep_prob
                dZ = np.multiply(dA, np.int64(cache["A"] > 0))
        for l in range(1, L + 1):
            params["W" + str(l)] = params["W" + str(l)] - learning_rate * grads["dW" + str(l)]
            params["b" + str(l)] = params["b" + str(l)] - learning_rate * grads["db" + str(l)]
    return params


def ours(X, Y, params, learning_rate, num_iterations, lambd=0.0, keep_prob=1.0, train=kernels.fit):
    """Our numpy kernel (kernels.fit, engine numpy), with the course's cached masks."""
    randomness = CourseRandomness(3)
    return train(params, X, Y, learning_rate=learning_rate, num_iterations=num_iterations, lambd=lambd,
                 keep_prob=keep_prob, draw_masks=randomness.dropout_masks).params


def compiled(X, Y, params, learning_rate, num_iterations, lambd=0.0, keep_prob=1.0):
    """Our numba kernel, as rng=modern runs it (masks drawn every iteration)."""
    randomness = ModernRandomness(3)
    return kernels.fit(params, X, Y, learning_rate=learning_rate, num_iterations=num_iterations, lambd=lambd,
                       keep_prob=keep_prob, draw_masks=randomness.dropout_masks, engine="compiled").params


def general(X, Y, params, learning_rate, num_iterations, lambd=0.0, keep_prob=1.0):
    """Our reference loop (any optimizer, batch norm, mini-batches): nn.fit.fit, no kernel."""
    return ours(X, Y, params, learning_rate, num_iterations, lambd, keep_prob, train=fit)


def flops_per_iteration(dims: list[int], m: int) -> int:
    """Multiply-adds of the matrix products, x2: forward W A, backward dW and dA."""
    products = sum(n * n_prev for n_prev, n in zip(dims[:-1], dims[1:]))
    backward_dA = sum(n * n_prev for n_prev, n in zip(dims[1:-1], dims[2:]))
    return 2 * m * (2 * products + backward_dA)


def matmul_gflops(n: int = 512, repeats: int = 5) -> float:
    """This machine's single-thread dgemm throughput on a large square product."""
    a, b = np.random.default_rng(0).standard_normal((2, n, n))
    best = min(timeit_once(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def timeit_once(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def per_iteration_us(fn, *args, repeats=3, **kwargs) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best / kwargs["num_iterations"] * 1e6


def course_training_set():
    """(name, X, Y): the course's 211 data.mat training examples."""
    d = load_mat(str(COURSE_MAT))
    return "data.mat", d.train.X, d.train.Y


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=3000)
    args = parser.parse_args()
    mat = course_training_set()
    c = circles()
    problems = [("[2,20,3,1]", [2, 20, 3, 1], *mat), ("[2,10,5,1]", [2, 10, 5, 1], "circles", c.train.X, c.train.Y)]
    variants = [("baseline", {}), ("L2 0.7", {"lambd": 0.7}), ("dropout 0.86", {"keep_prob": 0.86})]
    print(f"# {platform.processor() or platform.machine()}, numpy {np.__version__}, 1 BLAS thread, "
          f"{args.iterations} iterations, best of 3")
    print("| net | data (m) | variant | naive us/iter | our general loop | ours (numpy kernel) | ours (compiled) "
          "| numpy kernel vs naive | compiled vs naive | FLOP floor us |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with threadpool_limits(1):
        gflops = matmul_gflops()
        for net, dims, data_name, X, Y in problems:
            params = initialize(dims, "xavier", CourseRandomness(3).normal)
            compiled(X, Y, params, 0.3, 2, keep_prob=0.5)  # compile or load from cache, off the clock
            floor = flops_per_iteration(dims, X.shape[1]) / (gflops * 1e9) * 1e6
            for variant, options in variants:
                kw = dict(learning_rate=0.3, num_iterations=args.iterations, **options)
                naive = per_iteration_us(naive_course_loop, X, Y, params, **kw)
                loop = per_iteration_us(general, X, Y, params, **kw)
                mine = per_iteration_us(ours, X, Y, params, **kw)
                jit = per_iteration_us(compiled, X, Y, params, **kw)
                print(f"| {net} | {data_name} ({X.shape[1]}) | {variant} | {naive:.1f} | {loop:.1f} | {mine:.1f} "
                      f"| {jit:.1f} | {naive / mine:.2f}x | {naive / jit:.2f}x | {floor:.2f} |")
    print(f"\nFLOP floor: matrix-product FLOPs per iteration / {gflops:.1f} GFLOP/s (this machine's "
          "single-thread dgemm on 512x512); the gap to it is per-call overhead of numpy on tiny arrays.")


if __name__ == "__main__":
    main()
