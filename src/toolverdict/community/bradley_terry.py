"""Bradley–Terry strengths from head-to-head votes, fitted with Hunter's MM iterations.

The model: P(i beats j) = p_i / (p_i + p_j). ``wins[i, j]`` counts the times i beat j.
The minorise–maximise update (Hunter 2004, "MM algorithms for generalized Bradley–Terry
models") is

    p_i <- W_i / sum_j n_ij / (p_i + p_j)

with W_i the wins of i and n_ij the games between i and j. It increases the likelihood
every step and converges to the maximum-likelihood estimate when the comparison graph is
strongly connected.

Sparse real votes rarely are (a tool nobody preferred has a zero MLE), so ``prior``
adds that many virtual games between each item and a fixed reference item of strength 1,
half won and half lost. That is a proper prior: the estimate always exists, and items
with few votes are pulled towards the reference instead of to 0 or infinity.

Strengths are returned scaled to a geometric mean of 1, so ``p / (p + 1)`` reads as "the
chance to beat a typical tool".
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


class NotIdentifiable(ValueError):
    """Without a prior, the maximum-likelihood strengths do not exist for these votes."""


def strongly_connected(wins: NDArray[np.float64]) -> bool:
    """Whether every item both beats and loses to the rest, directly or by a chain."""
    n = wins.shape[0]
    if n <= 1:
        return True
    beats = wins > 0

    def reach(adjacency: NDArray[np.bool_]) -> int:
        seen = {0}
        stack = [0]
        while stack:
            i = stack.pop()
            for j in np.flatnonzero(adjacency[i]):
                if int(j) not in seen:
                    seen.add(int(j))
                    stack.append(int(j))
        return len(seen)

    return reach(beats) == n and reach(beats.T) == n


def fit(
    wins: NDArray[np.float64] | list[list[float]],
    *,
    prior: float = 0.0,
    tol: float = 1e-12,
    max_iter: int = 100_000,
) -> NDArray[np.float64]:
    """Strengths (geometric mean 1) maximising the likelihood of ``wins``.

    ``wins`` is a square matrix with ``wins[i][j]`` = times item i beat item j.
    ``prior`` > 0 adds virtual games against a reference item (see the module docstring).
    Raises NotIdentifiable when ``prior`` is 0 and the votes leave the fit undefined.
    """
    w = np.asarray(wins, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ValueError("wins must be a square matrix")
    if (w < 0).any() or np.diag(w).any():
        raise ValueError("wins must be non-negative with an empty diagonal")
    if prior < 0:
        raise ValueError("prior must be non-negative")
    n = w.shape[0]
    if n == 0:
        return np.zeros(0)
    if prior == 0 and not strongly_connected(w):
        raise NotIdentifiable("every item needs a win and a loss linked to all others")

    games = w + w.T
    won = w.sum(axis=1) + prior / 2
    p = np.ones(n)
    for _ in range(max_iter):
        denominator = (games / (p[:, None] + p[None, :])).sum(axis=1) + prior / (p + 1.0)
        new = won / denominator
        if prior == 0:
            # Without the reference item the scale is free; pin it each step.
            new /= np.exp(np.log(new).mean())
        if np.max(np.abs(np.log(new) - np.log(p))) < tol:
            p = new
            break
        p = new
    return p / np.exp(np.log(p).mean())


def win_probability(p_i: float, p_j: float) -> float:
    return p_i / (p_i + p_j)
