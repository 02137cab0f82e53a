"""Update rules: gradient descent, momentum, RMSprop and Adam (course 2, week 2).

Each optimizer is a pair of pure functions, keyed by name in ``OPTIMIZERS``:

    state = opt.init(params)
    params, state = opt.update(params, grads, state, learning_rate, **hyper)

``params``, ``grads`` and the state's arrays are dicts keyed like the network
(``W1, b1, ...``); ``update`` returns new dicts and leaves its inputs alone.
``hyper`` are the optimizer's own settings (``beta``, ``beta1``, ``beta2``,
``epsilon``), the keys of ``conf/optimizer/<name>.yaml`` besides ``name``.

    gd        W -= lr dW
    momentum  v = beta v + (1 - beta) dW;              W -= lr v
    rmsprop   s = beta2 s + (1 - beta2) dW^2;          W -= lr dW / (sqrt(s) + eps)
    adam      v, s as above (beta1, beta2), t += 1;
              v^ = v / (1 - beta1^t), s^ = s / (1 - beta2^t);  W -= lr v^ / (sqrt(s^) + eps)

``v`` and ``s`` are exponentially weighted averages of the gradient and its
square (``ewma``); Adam divides out their bias towards the zero start.

Every rule is elementwise, and must stay so: ``fit`` (nn/fit.py) hands it all the
network's parameters as one vector (``{"all": vector}``), which gives the bits it
would give array by array, in a sixth of the numpy calls.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

Params = dict[str, np.ndarray]


def ewma(previous, value, beta: float):
    """One step of an exponentially weighted moving average: beta v + (1 - beta) theta."""
    return beta * previous + (1 - beta) * value


def bias_corrected(average, beta: float, t: int):
    """v_t / (1 - beta^t): undoes the pull towards v_0 = 0 in the first steps."""
    return average / (1 - beta**t)


def _zeros_like(params: Params) -> Params:
    return {name: np.zeros_like(value) for name, value in params.items()}


# -- gradient descent -----------------------------------------------------------------


def gd_init(params: Params) -> dict:
    return {}


def gd_update(params: Params, grads: Params, state: dict, learning_rate: float) -> tuple[Params, dict]:
    # The very expression of the course loop, so the course tables stay bit-identical.
    return {name: params[name] - learning_rate * grads[name] for name in params}, state


# -- momentum -------------------------------------------------------------------------


def momentum_init(params: Params) -> dict:
    return {"v": _zeros_like(params)}


def momentum_update(params, grads, state, learning_rate, beta: float = 0.9):
    v = {name: ewma(state["v"][name], grads[name], beta) for name in params}
    return {name: params[name] - learning_rate * v[name] for name in params}, {"v": v}


# -- RMSprop --------------------------------------------------------------------------


def rmsprop_init(params: Params) -> dict:
    return {"s": _zeros_like(params)}


def rmsprop_update(params, grads, state, learning_rate, beta2: float = 0.999, epsilon: float = 1e-8):
    s = {name: ewma(state["s"][name], grads[name] ** 2, beta2) for name in params}
    new = {name: params[name] - learning_rate * grads[name] / (np.sqrt(s[name]) + epsilon) for name in params}
    return new, {"s": s}


# -- Adam -----------------------------------------------------------------------------


def adam_init(params: Params) -> dict:
    return {"v": _zeros_like(params), "s": _zeros_like(params), "t": 0}


def adam_update(params, grads, state, learning_rate, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8):
    # t counts updates (mini-batches), from 1, as in the course's update_parameters_with_adam.
    t = state["t"] + 1
    v = {name: ewma(state["v"][name], grads[name], beta1) for name in params}
    s = {name: ewma(state["s"][name], grads[name] ** 2, beta2) for name in params}
    new = {}
    for name in params:
        v_hat = bias_corrected(v[name], beta1, t)
        s_hat = bias_corrected(s[name], beta2, t)
        new[name] = params[name] - learning_rate * v_hat / (np.sqrt(s_hat) + epsilon)
    return new, {"v": v, "s": s, "t": t}


@dataclass(frozen=True)
class Optimizer:
    name: str
    init: Callable[[Params], dict]
    update: Callable[..., tuple[Params, dict]]
    hyper: dict[str, float]  # name -> default, the keys update() accepts


OPTIMIZERS: dict[str, Optimizer] = {
    "gd": Optimizer("gd", gd_init, gd_update, {}),
    "momentum": Optimizer("momentum", momentum_init, momentum_update, {"beta": 0.9}),
    "rmsprop": Optimizer("rmsprop", rmsprop_init, rmsprop_update, {"beta2": 0.999, "epsilon": 1e-8}),
    "adam": Optimizer("adam", adam_init, adam_update, {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}),
}
