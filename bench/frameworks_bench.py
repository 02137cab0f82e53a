"""Ours vs scikit-learn's MLPClassifier vs PyTorch (CPU), the same work.

Run by hand: ``python bench/frameworks_bench.py [--iterations N]``.
Ours twice: the numpy kernel (the course's bits) and the compiled one (numba,
what rng=modern runs of >= 20 000 iterations use). Same net ([2,20,3,1], ReLU hidden, sigmoid/log-loss output), same data, full-batch
gradient descent at the same learning rate for the same number of iterations,
float64, one thread each, in this one process. PyTorch is optional
(``pip install -e ".[bench]"``); its row is skipped when it is not installed.
"""
from __future__ import annotations

import argparse
import time
import warnings

from threadpoolctl import threadpool_limits

from bench.iteration_bench import course_training_set
from src.nn.kernels import fit
from src.nn.init import initialize
from src.randomness import CourseRandomness

LEARNING_RATE = 0.3


def timed(fn) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def ours(X, Y, dims, iterations, engine="numpy"):
    params = initialize(dims, "xavier", CourseRandomness(3).normal)
    return lambda: fit(params, X, Y, learning_rate=LEARNING_RATE, num_iterations=iterations, engine=engine)


def ours_compiled(X, Y, dims, iterations):
    return ours(X, Y, dims, iterations, engine="compiled")


def sklearn_mlp(X, Y, dims, iterations):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    def run():
        model = MLPClassifier(
            hidden_layer_sizes=tuple(dims[1:-1]), activation="relu", solver="sgd", alpha=0.0,
            batch_size=X.shape[1], learning_rate_init=LEARNING_RATE, momentum=0.0, nesterovs_momentum=False,
            max_iter=iterations, tol=0.0, n_iter_no_change=iterations + 1, shuffle=False, early_stopping=False,
            random_state=3,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X.T, Y.ravel())

    return run


def pytorch(X, Y, dims, iterations):
    import torch

    torch.set_num_threads(1)
    Xt, Yt = torch.tensor(X.T), torch.tensor(Y.T, dtype=torch.float64)
    layers = []
    for n_prev, n in zip(dims[:-1], dims[1:]):
        layers += [torch.nn.Linear(n_prev, n, dtype=torch.float64), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def run():
        optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
        for _ in range(iterations):
            optimizer.zero_grad()
            loss = loss_fn(model(Xt), Yt)
            loss.backward()
            optimizer.step()

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=2000)
    args = parser.parse_args()
    name, X, Y = course_training_set()
    dims = [2, 20, 3, 1]
    contenders = [("ours (numpy kernel)", ours), ("ours (compiled kernel)", ours_compiled),
                  ("scikit-learn MLPClassifier", sklearn_mlp), ("PyTorch CPU", pytorch)]
    print(f"# [2,20,3,1] on {name} (m={X.shape[1]}), full-batch GD, lr {LEARNING_RATE}, "
          f"{args.iterations} iterations, float64, 1 thread, best of 3")
    print("| implementation | us/iter | ours (numpy kernel) is faster by | ours (compiled) is faster by |")
    print("|---|---|---|---|")
    results = {}
    with threadpool_limits(1):
        for label, make in contenders:
            try:
                run = make(X, Y, dims, args.iterations)
            except ImportError as error:
                print(f"| {label} | skipped ({error.name} not installed) | |")
                continue
            results[label] = timed(run) / args.iterations * 1e6
    numpy_kernel, compiled = results["ours (numpy kernel)"], results["ours (compiled kernel)"]
    for label, us in results.items():
        print(f"| {label} | {us:.1f} | {us / numpy_kernel:.2f}x | {us / compiled:.2f}x |")


if __name__ == "__main__":
    main()
