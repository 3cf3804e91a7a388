"""95% intervals: Wilson shares, Bradley–Terry sandwich and bootstrap, rank ranges, coverage."""

from __future__ import annotations

import numpy as np
import pytest

from toolverdict.community import bradley_terry, intervals


def simulate(rng: np.random.Generator, n: int, votes: int) -> tuple[np.ndarray, ...]:
    """Votes between random pairs drawn from known (centred) log-strengths."""
    truth = rng.normal(0.0, 1.0, n)
    truth -= truth.mean()
    i = rng.integers(0, n, votes)
    j = (i + rng.integers(1, n, votes)) % n
    i_wins = rng.random(votes) < 1.0 / (1.0 + np.exp(-(truth[i] - truth[j])))
    return truth, np.where(i_wins, i, j), np.where(i_wins, j, i)


def test_wilson_interval_matches_the_closed_form():
    # 8 of 10 at z = 1.96: the textbook interval is (0.4902, 0.9433).
    low, high = intervals.wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)
    # It behaves at the edges, where the normal interval collapses to a point.
    low, high = intervals.wilson_interval(0, 4)
    assert low == 0.0 and 0.4 < high < 0.5
    low, high = intervals.wilson_interval(4, 4)
    assert high == 1.0 and 0.5 < low < 0.6
    assert intervals.wilson_interval(0, 0) is None
    with pytest.raises(ValueError):
        intervals.wilson_interval(5, 4)


def test_newton_fit_agrees_with_the_mm_fit():
    rng = np.random.default_rng(3)
    _, winners, losers = simulate(rng, 6, 400)
    wins = intervals.wins_matrix(winners, losers, 6)
    mm = np.log(bradley_terry.fit(wins, prior=2.0))
    newton = intervals.newton_fit(wins, 2.0)
    assert newton - newton.mean() == pytest.approx(mm, abs=1e-8)


def test_a_batch_fit_equals_the_single_fits():
    rng = np.random.default_rng(4)
    mats = []
    for _ in range(3):
        _, w, lo = simulate(rng, 5, 200)
        mats.append(intervals.wins_matrix(w, lo, 5))
    batch = intervals.newton_fit(np.stack(mats), 2.0)
    for k, wins in enumerate(mats):
        assert batch[k] == pytest.approx(intervals.newton_fit(wins, 2.0), abs=1e-9)


@pytest.mark.parametrize("method", ["sandwich", "bootstrap"])
def test_intervals_narrow_with_more_votes_and_contain_the_estimate(method):
    rng = np.random.default_rng(5)
    truth, winners, losers = simulate(rng, 5, 4000)
    few = intervals.strength_intervals(
        winners[:200], losers[:200], 5, prior=2.0, method=method, resamples=300
    )
    many = intervals.strength_intervals(winners, losers, 5, prior=2.0, method=method, resamples=300)
    assert ((few.low <= few.theta) & (few.theta <= few.high)).all()
    assert (many.high - many.low).mean() < 0.5 * (few.high - few.low).mean()
    assert many.method == method


def test_sandwich_and_bootstrap_agree_on_the_width():
    rng = np.random.default_rng(6)
    _, winners, losers = simulate(rng, 6, 3000)
    s = intervals.sandwich(winners, losers, 6, prior=2.0)
    b = intervals.bootstrap(winners, losers, 6, prior=2.0, resamples=1000, seed=1)
    ratio = (b.high - b.low) / (s.high - s.low)
    assert ratio == pytest.approx(np.ones(6), abs=0.2)
    assert b.theta == pytest.approx(s.theta, abs=1e-8)


def test_bootstrap_is_repeatable_with_a_seed():
    rng = np.random.default_rng(7)
    _, winners, losers = simulate(rng, 4, 300)
    first = intervals.bootstrap(winners, losers, 4, prior=2.0, resamples=200, seed=9)
    again = intervals.bootstrap(winners, losers, 4, prior=2.0, resamples=200, seed=9)
    assert np.array_equal(first.low, again.low) and np.array_equal(first.high, again.high)


def test_rank_ranges_follow_the_overlaps():
    # A clear of everyone; B and C overlap each other; D clear below.
    low = np.array([3.0, 1.0, 0.5, -2.0])
    high = np.array([4.0, 2.0, 1.5, -1.0])
    best, worst = intervals.rank_ranges(low, high)
    assert best.tolist() == [1, 2, 2, 4]
    assert worst.tolist() == [1, 3, 3, 4]
    assert intervals.overlaps((1.0, 2.0), (0.5, 1.5))
    assert not intervals.overlaps((3.0, 4.0), (1.0, 2.0))


@pytest.mark.parametrize("method", ["sandwich", "bootstrap"])
def test_95_percent_intervals_cover_the_true_strengths(method):
    """Coverage simulation: votes drawn from known strengths, refitted 40 times."""
    rng = np.random.default_rng(2026)
    n, trials, covered = 8, 40, 0
    for trial in range(trials):
        truth, winners, losers = simulate(rng, n, 1500)
        fit = intervals.strength_intervals(
            winners, losers, n, prior=2.0, method=method, resamples=300, seed=trial
        )
        covered += int(((fit.low <= truth) & (truth <= fit.high)).sum())
    coverage = covered / (n * trials)
    assert coverage >= 0.90, coverage
    assert coverage <= 0.995, coverage  # not vacuously wide either


def test_bad_votes_are_refused_with_a_clear_error():
    with pytest.raises(ValueError, match="range"):
        intervals.sandwich(np.array([0]), np.array([3]), 2, prior=2.0)
    with pytest.raises(ValueError, match="different"):
        intervals.sandwich(np.array([1]), np.array([1]), 2, prior=2.0)
    with pytest.raises(ValueError, match="unknown interval method"):
        intervals.strength_intervals(np.array([0]), np.array([1]), 2, prior=2.0, method="x")
    with pytest.raises(ValueError, match="prior"):
        intervals.newton_fit(np.zeros((2, 2)), 0.0)


def test_position_bias_share_and_interval():
    share, interval = intervals.position_bias(60, 100)
    assert share == 0.6
    assert interval[0] < 0.6 < interval[1]
    assert intervals.position_bias(0, 0)[1] is None
