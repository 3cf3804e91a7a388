"""How sure the figures are: 95% intervals for Bradley–Terry strengths and for shares.

Strengths are compared on the log scale, ``theta_i = log p_i`` centred to mean 0 (the
same places as ``bradley_terry.fit``'s geometric mean of 1). Two ways to get an interval
for each ``theta_i``:

* **sandwich** – the robust (Huber–White) covariance ``H⁻¹ M H⁻¹`` at the fitted
  strengths: ``H`` is the Hessian of the penalised log-likelihood (the prior's virtual
  games included, so it is always invertible), ``M`` the sum of the outer products of
  each vote's score. Normal intervals ``theta ± 1.96·se`` on the centred scale. One
  linear solve: milliseconds.
* **bootstrap** – resample the votes with replacement ``resamples`` times (a multinomial
  draw over the distinct (winner, loser) cells, so 100,000 votes cost no more than their
  cells), refit each resample by Newton's method, batched in numpy, and take the 2.5th
  and 97.5th percentiles of each centred strength.

``docs/benchmarks.md`` (``bench/rankings.py``) measures both for coverage and speed; the
setting ``TOOLVERDICT_COMMUNITY_INTERVAL_METHOD`` picks one.

The **rank range** of a tool is read off the intervals: its best possible place is one
more than the number of tools whose whole interval lies above its own, its worst is the
number of tools minus those whose interval lies wholly below. Two tools whose intervals
overlap are **too close to call**.

Ship shares (panel reviews saying ship, community ship votes) get the Wilson score
interval, which behaves at 0 of n and n of n, where the normal interval collapses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Z95 = 1.959963984540054
METHODS = ("sandwich", "bootstrap")


def wilson_interval(positive: int, total: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval (95% by default) for positive/total; None for no data."""
    if total <= 0:
        return None
    if not 0 <= positive <= total:
        raise ValueError("positive must lie between 0 and total")
    phat = positive / total
    z2 = z * z
    centre = phat + z2 / (2 * total)
    margin = z * math.sqrt((phat * (1 - phat) + z2 / (4 * total)) / total)
    low = (centre - margin) / (1 + z2 / total)
    high = (centre + margin) / (1 + z2 / total)
    return max(0.0, low), min(1.0, high)


def overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether two closed intervals share a point: then neither side can be called."""
    return a[0] <= b[1] and b[0] <= a[1]


@dataclass(frozen=True)
class StrengthIntervals:
    """Centred log-strengths with their 95% intervals and rank ranges (one entry per item)."""

    theta: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    rank_best: NDArray[np.int64]  # smallest place number the item could hold (1 = top)
    rank_worst: NDArray[np.int64]
    method: str


def vote_cells(
    winners: NDArray[np.int64], losers: NDArray[np.int64], n: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Distinct (winner, loser) cells and how many votes each holds."""
    winners = np.asarray(winners, dtype=np.int64)
    losers = np.asarray(losers, dtype=np.int64)
    if winners.shape != losers.shape:
        raise ValueError("winners and losers must have the same length")
    if winners.size and (
        min(winners.min(), losers.min()) < 0 or max(winners.max(), losers.max()) >= n
    ):
        raise ValueError("vote indexes must lie in range(n)")
    if (winners == losers).any():
        raise ValueError("a vote needs two different items")
    flat = np.bincount(winners * n + losers, minlength=n * n)
    cells = np.flatnonzero(flat)
    return cells // n, cells % n, flat[cells].astype(np.float64)


def wins_matrix(winners: NDArray[np.int64], losers: NDArray[np.int64], n: int) -> NDArray:
    """``wins[i, j]`` = votes in which i beat j."""
    w, lo, counts = vote_cells(winners, losers, n)
    wins = np.zeros((n, n))
    wins[w, lo] = counts
    return wins


def _sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free logistic


def newton_fit(
    wins: NDArray[np.float64],
    prior: float,
    *,
    theta0: NDArray[np.float64] | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> NDArray[np.float64]:
    """Maximum penalised-likelihood log-strengths for one matrix (n, n) or a batch (b, n, n).

    The same model and prior as ``bradley_terry.fit`` (``prior`` virtual games against a
    reference item of strength 1, half won), solved by Newton's method: the penalised
    log-likelihood is strictly concave when ``prior`` > 0, so a few steps converge.
    Returns log-strengths on the reference's scale (not centred).
    """
    if prior <= 0:
        raise ValueError("interval fits need a positive prior")
    w = np.asarray(wins, dtype=np.float64)
    single = w.ndim == 2
    if single:
        w = w[None]
    batch, n, _ = w.shape
    games = w + np.swapaxes(w, 1, 2)
    won = w.sum(axis=2) + prior / 2
    theta = np.zeros((batch, n)) if theta0 is None else np.broadcast_to(theta0, (batch, n)).copy()
    eye = np.eye(n)
    for _ in range(max_iter):
        s = _sigmoid(theta[:, :, None] - theta[:, None, :])  # P(i beats j)
        s_ref = _sigmoid(theta)
        grad = won - (games * s).sum(axis=2) - prior * s_ref
        curvature = games * s * (1 - s)
        info = eye * (curvature.sum(axis=2) + prior * s_ref * (1 - s_ref))[:, :, None]
        info -= curvature  # the negative Hessian: positive definite
        step = np.linalg.solve(info, grad[:, :, None])[:, :, 0]
        # A full Newton step can overshoot from far away; a log-strength never needs
        # to move more than a few units at once.
        step = np.clip(step, -4.0, 4.0)
        theta += step
        if np.max(np.abs(step)) < tol:
            break
    return theta[0] if single else theta


def _centred(theta: NDArray[np.float64]) -> NDArray[np.float64]:
    return theta - theta.mean(axis=-1, keepdims=True)


def rank_ranges(
    low: NDArray[np.float64], high: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(best, worst) place per item from the intervals (1 = top)."""
    above = (low[None, :] > high[:, None]).sum(axis=1)  # items surely stronger than i
    below = (high[None, :] < low[:, None]).sum(axis=1)  # items surely weaker than i
    n = low.shape[0]
    return (above + 1).astype(np.int64), (n - below).astype(np.int64)


def sandwich(
    winners: NDArray[np.int64],
    losers: NDArray[np.int64],
    n: int,
    *,
    prior: float,
    theta: NDArray[np.float64] | None = None,
) -> StrengthIntervals:
    """Intervals from the robust sandwich covariance at the fitted strengths."""
    w_idx, l_idx, counts = vote_cells(winners, losers, n)
    wins = np.zeros((n, n))
    wins[w_idx, l_idx] = counts
    theta = newton_fit(wins, prior, theta0=theta)
    s = _sigmoid(theta[:, None] - theta[None, :])
    s_ref = _sigmoid(theta)
    games = wins + wins.T
    curvature = games * s * (1 - s)
    info = np.diag(curvature.sum(axis=1) + prior * s_ref * (1 - s_ref)) - curvature
    # Each vote's score: +r for the winner, -r for the loser, r = P(the loser had won).
    r2 = counts * (1.0 - s[w_idx, l_idx]) ** 2
    meat = np.zeros((n, n))
    np.add.at(meat, (w_idx, w_idx), r2)
    np.add.at(meat, (l_idx, l_idx), r2)
    np.add.at(meat, (w_idx, l_idx), -r2)
    np.add.at(meat, (l_idx, w_idx), -r2)
    bread = np.linalg.inv(info)
    cov = bread @ meat @ bread
    centre = np.eye(n) - 1.0 / n  # the centring map theta -> theta - mean(theta)
    cov_c = centre @ cov @ centre
    se = np.sqrt(np.clip(np.diag(cov_c), 0.0, None))
    est = _centred(theta)
    low, high = est - Z95 * se, est + Z95 * se
    best, worst = rank_ranges(low, high)
    return StrengthIntervals(est, low, high, best, worst, "sandwich")


def bootstrap(
    winners: NDArray[np.int64],
    losers: NDArray[np.int64],
    n: int,
    *,
    prior: float,
    resamples: int = 1000,
    seed: int = 0,
    theta: NDArray[np.float64] | None = None,
    chunk: int = 100,
) -> StrengthIntervals:
    """Percentile intervals from ``resamples`` refits of votes drawn with replacement."""
    if resamples < 1:
        raise ValueError("resamples must be at least 1")
    w_idx, l_idx, counts = vote_cells(winners, losers, n)
    total = int(counts.sum())
    wins = np.zeros((n, n))
    wins[w_idx, l_idx] = counts
    theta = newton_fit(wins, prior, theta0=theta)
    rng = np.random.default_rng(seed)
    draws = np.empty((resamples, n))
    p = counts / total if total else counts
    done = 0
    while done < resamples:
        size = min(chunk, resamples - done)
        batch = np.zeros((size, n, n))
        if total:
            batch[:, w_idx, l_idx] = rng.multinomial(total, p, size=size)
        # Started at the full fit, three Newton steps reach 1e-7: far below the spread.
        fitted = newton_fit(batch, prior, theta0=theta, tol=1e-7)
        draws[done : done + size] = _centred(fitted)
        done += size
    low, high = np.percentile(draws, [2.5, 97.5], axis=0)
    best, worst = rank_ranges(low, high)
    return StrengthIntervals(_centred(theta), low, high, best, worst, "bootstrap")


def strength_intervals(
    winners: NDArray[np.int64],
    losers: NDArray[np.int64],
    n: int,
    *,
    prior: float,
    method: str = "sandwich",
    resamples: int = 1000,
    seed: int = 0,
    theta: NDArray[np.float64] | None = None,
) -> StrengthIntervals:
    """Intervals by the named method (see the module docstring)."""
    if method == "sandwich":
        return sandwich(winners, losers, n, prior=prior, theta=theta)
    if method == "bootstrap":
        return bootstrap(
            winners, losers, n, prior=prior, resamples=resamples, seed=seed, theta=theta
        )
    raise ValueError(f"unknown interval method {method!r}; use one of {', '.join(METHODS)}")


def position_bias(first_won: int, total: int) -> tuple[float, tuple[float, float] | None]:
    """Share of votes that went to the tool shown first, with its Wilson interval.

    With the order randomised per reader, strengths cancel out on average, so 0.5 means
    no position bias and the interval says whether the data can tell.
    """
    share = first_won / total if total else float("nan")
    return share, wilson_interval(first_won, total)
