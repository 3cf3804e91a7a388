"""Head-to-head intervals: coverage and fit time of both methods, and position bias.

Everything runs on synthetic votes drawn from known strengths, with the functions the site
uses (``toolverdict.community.intervals`` and ``bradley_terry``):

1. coverage: in each trial draw true log-strengths (normal, sd 1), votes between random
   pairs from the Bradley–Terry model, fit both interval methods, and count how often the
   95% interval holds the true (centred) strength; a dense and a sparse setting;
2. fit time for 100,000 pair votes over 100 tools: the point fit (MM, as the site runs it),
   the sandwich intervals and the bootstrap intervals (1,000 resamples), side by side, with
   the bootstrap/sandwich ratio (median of ``--repeats`` runs);
3. position bias: readers see the two buttons in a random order and prefer the first by a
   known logit shift; the share of votes for the tool shown first, with its Wilson
   interval, against the share the simulation implies.

    .venv/bin/python bench/rankings.py [--trials 200] [--resamples 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from toolverdict.community import bradley_terry, intervals  # noqa: E402

PRIOR = 2.0  # the site's LEADERBOARD_PRIOR


def simulate(rng: np.random.Generator, n: int, votes: int, position_shift: float = 0.0):
    """(truth, winners, losers, shown_first) for ``votes`` random pairs."""
    truth = rng.normal(0.0, 1.0, n)
    truth -= truth.mean()
    i = rng.integers(0, n, votes)
    j = (i + rng.integers(1, n, votes)) % n
    first_is_i = rng.random(votes) < 0.5
    shift = np.where(first_is_i, position_shift, -position_shift)
    p_i = 1.0 / (1.0 + np.exp(-(truth[i] - truth[j] + shift)))
    i_wins = rng.random(votes) < p_i
    winners, losers = np.where(i_wins, i, j), np.where(i_wins, j, i)
    shown_first = np.where(first_is_i, i, j)
    implied = float(np.mean(np.where(first_is_i, p_i, 1.0 - p_i)))
    return truth, winners, losers, shown_first, implied


def coverage(trials: int, n: int, votes: int, resamples: int, seed: int) -> dict[str, tuple]:
    rng = np.random.default_rng(seed)
    hits = {m: 0 for m in intervals.METHODS}
    widths: dict[str, list[float]] = {m: [] for m in intervals.METHODS}
    seconds = {m: 0.0 for m in intervals.METHODS}
    for trial in range(trials):
        truth, winners, losers, _, _ = simulate(rng, n, votes)
        for method in intervals.METHODS:
            started = time.perf_counter()
            fit = intervals.strength_intervals(
                winners, losers, n, prior=PRIOR, method=method, resamples=resamples, seed=trial
            )
            seconds[method] += time.perf_counter() - started
            hits[method] += int(((fit.low <= truth) & (truth <= fit.high)).sum())
            widths[method].append(float((fit.high - fit.low).mean()))
    return {
        m: (hits[m] / (trials * n), statistics.mean(widths[m]), seconds[m] / trials)
        for m in intervals.METHODS
    }


def timing(repeats: int, resamples: int, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    n, votes = 100, 100_000
    _, winners, losers, _, _ = simulate(rng, n, votes)
    runs: dict[str, list[float]] = {"mm": [], "sandwich": [], "bootstrap": []}
    for _ in range(repeats):
        started = time.perf_counter()
        wins = intervals.wins_matrix(winners, losers, n)
        strengths = bradley_terry.fit(wins, prior=PRIOR)
        runs["mm"].append(time.perf_counter() - started)
        theta = np.log(strengths)
        started = time.perf_counter()
        intervals.sandwich(winners, losers, n, prior=PRIOR, theta=theta)
        runs["sandwich"].append(time.perf_counter() - started)
        started = time.perf_counter()
        intervals.bootstrap(winners, losers, n, prior=PRIOR, resamples=resamples, theta=theta)
        runs["bootstrap"].append(time.perf_counter() - started)
    return {k: statistics.median(v) for k, v in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()

    print(f"coverage of 95% intervals, {args.trials} trials each, prior {PRIOR}, "
          f"bootstrap {args.resamples} resamples")  # fmt: skip
    print(f"{'setting':34} {'method':10} {'coverage':>8} {'mean width':>10} {'s/fit':>8}")
    for label, n, votes in (
        ("20 tools, 5,000 votes (dense)", 20, 5000),
        ("20 tools, 400 votes (sparse)", 20, 400),
    ):
        result = coverage(args.trials, n, votes, args.resamples, args.seed)
        for method, (cov, width, secs) in result.items():
            print(f"{label:34} {method:10} {cov:8.3f} {width:10.3f} {secs:8.4f}")

    print()
    print(f"fit time, 100,000 pair votes over 100 tools, median of {args.repeats} runs")
    times = timing(args.repeats, args.resamples, args.seed)
    print(f"point fit (MM, as the site runs it)   {times['mm']:8.3f} s")
    print(f"sandwich intervals                    {times['sandwich']:8.3f} s")
    print(f"bootstrap intervals ({args.resamples} resamples)   {times['bootstrap']:8.3f} s")
    print(f"bootstrap / sandwich                  {times['bootstrap'] / times['sandwich']:8.0f}x")

    print()
    print("position bias, 20 tools, 20,000 votes, button order random per vote")
    header = ("true logit shift", "implied share", "measured share", "95% interval")
    print(f"{header[0]:>16} {header[1]:>13} {header[2]:>14} {header[3]:>16}")
    rng = np.random.default_rng(args.seed + 1)
    for shift in (0.0, 0.1, 0.3):
        _, winners, _, shown_first, implied = simulate(rng, 20, 20_000, position_shift=shift)
        first_won = int((winners == shown_first).sum())
        share, (low, high) = intervals.position_bias(first_won, winners.size)
        print(f"{shift:16.1f} {implied:13.3f} {share:14.3f}      {low:.3f}–{high:.3f}")


if __name__ == "__main__":
    main()
