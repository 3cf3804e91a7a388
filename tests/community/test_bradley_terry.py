"""The Bradley–Terry fit: a hand-solved case, and agreement with an independent fit."""

from __future__ import annotations

import numpy as np
import pytest

from toolverdict.community import bradley_terry


def newton_fit(wins: np.ndarray, prior: float) -> np.ndarray:
    """Independent fit: Newton's method on the log-likelihood in log-strengths.

    Same model and the same reference-item prior as the MM fit, but a different
    algorithm and parameterisation. Without a prior item 0 is pinned at 0.
    """
    n = wins.shape[0]
    games = wins + wins.T
    theta = np.zeros(n)
    free = np.arange(n) if prior > 0 else np.arange(1, n)
    for _ in range(200):
        s = 1.0 / (1.0 + np.exp(-(theta[:, None] - theta[None, :])))  # P(i beats j)
        s_ref = 1.0 / (1.0 + np.exp(-theta))  # P(i beats the reference)
        grad = wins.sum(axis=1) - (games * s).sum(axis=1) + prior / 2 - prior * s_ref
        curvature = games * s * (1 - s)
        hessian = curvature - np.diag(curvature.sum(axis=1) + prior * s_ref * (1 - s_ref))
        step = np.linalg.solve(hessian[np.ix_(free, free)], grad[free])
        theta[free] -= step
        if np.max(np.abs(step)) < 1e-13:
            break
    p = np.exp(theta)
    return p / np.exp(np.log(p).mean())


def test_two_tools_ratio_is_the_win_ratio():
    p = bradley_terry.fit([[0, 6], [3, 0]])
    assert p[0] / p[1] == pytest.approx(2.0)
    assert p[0] * p[1] == pytest.approx(1.0)  # geometric mean 1


def test_hand_computed_chain():
    # A beat B 3-1, B beat C 3-1, A and C never met. The likelihood equations give
    # p_A / (p_A + p_B) = 3/4 and p_C / (p_B + p_C) = 1/4, so p_A = 3 p_B = 9 p_C;
    # with a geometric mean of 1: (3, 1, 1/3).
    p = bradley_terry.fit([[0, 3, 0], [1, 0, 3], [0, 1, 0]])
    assert p == pytest.approx([3.0, 1.0, 1 / 3], rel=1e-9)


def test_hand_computed_with_prior():
    # Two tools, A beat B once, prior 2 (one virtual win and one virtual loss against
    # a reference of strength 1). The equations are symmetric under p -> 1/p, so
    # p_B = 1/p_A, and A's equation 2 = p^2/(p^2 + 1) + 2p/(p + 1) clears to
    # p^3 - p^2 - 2 = 0, whose one real root is about 1.6956.
    p = bradley_terry.fit([[0, 1], [0, 0]], prior=2.0)
    roots = np.roots([1, -1, 0, -2])
    expected = float(roots[np.abs(roots.imag) < 1e-12].real[0])
    assert expected == pytest.approx(1.69562, abs=1e-5)
    assert p == pytest.approx([expected, 1 / expected], rel=1e-9)


def test_without_prior_a_tool_that_never_won_is_not_identifiable():
    with pytest.raises(bradley_terry.NotIdentifiable):
        bradley_terry.fit([[0, 2], [0, 0]])


@pytest.mark.parametrize("bad", [[[0, 1]], [[1, 0], [0, 0]], [[0, -1], [1, 0]]])
def test_bad_matrices_are_rejected(bad):
    with pytest.raises(ValueError):
        bradley_terry.fit(bad)


def synthetic_games(true_p: np.ndarray, games_per_pair: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = len(true_p)
    wins = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            won = rng.binomial(games_per_pair, true_p[i] / (true_p[i] + true_p[j]))
            wins[i, j] += won
            wins[j, i] += games_per_pair - won
    return wins


@pytest.mark.parametrize("prior", [0.0, 2.0])
def test_agrees_with_newton_and_recovers_known_strengths(prior):
    true_log = np.linspace(-1.5, 1.5, 8)
    true_p = np.exp(true_log)  # geometric mean 1 already
    wins = synthetic_games(true_p, games_per_pair=400, seed=7)

    mm = bradley_terry.fit(wins, prior=prior)
    newton = newton_fit(wins, prior)

    assert mm == pytest.approx(newton, rel=1e-7)
    assert list(np.argsort(mm)) == list(range(8))  # the known order
    assert np.max(np.abs(np.log(mm) - true_log)) < 0.15


def test_sparse_votes_with_prior_agree_with_newton():
    # Few, lopsided votes: some tools never won. The prior keeps the fit finite.
    wins = np.zeros((5, 5))
    wins[0, 1] = 3
    wins[1, 2] = 1
    wins[3, 4] = 2
    wins[0, 4] = 1
    mm = bradley_terry.fit(wins, prior=2.0)
    assert np.all(np.isfinite(mm)) and np.all(mm > 0)
    assert mm == pytest.approx(newton_fit(wins, 2.0), rel=1e-7)
