"""Tests that compare a challenger model with the champion, once and sequentially.

Paired (shadow mode: both versions answered the same requests). On labelled
pairs only the *discordant* pairs carry evidence: ``b`` pairs where only the
challenger is right, ``c`` where only the champion is. McNemar's exact test is
the binomial test of ``b`` out of ``b + c`` at 1/2::

    >>> p = mcnemar(30, 12)
    >>> round(p.p_value, 4), round(p.mid_p, 4)
    (0.0079, 0.0054)

Checking every window would inflate false verdicts, so the verdict uses an
**e-process** on the discordant pairs accumulated across windows: a mixture
sequential probability ratio test with a Beta(a, a) prior restricted to the
alternative side (``p > 1/2`` for "better", ``p < 1/2`` for "worse"). Each is a
nonnegative supermartingale while the challenger is not better (resp. not
worse), so by Ville's inequality it ever exceeds ``1 / level`` with probability
at most ``level``, however often it is looked at::

    >>> e = paired_evalues(60, 20)
    >>> e.better > 1000 > e.worse
    True

Unpaired (split mode: each version served its own share of traffic): the
two-proportion z-test on the accumulated counts, with the level of each look
spent from the budget by ``alpha * (k / K) ** 2`` over at most ``K`` looks
(Bonferroni across looks, valid whatever the looks' correlation)::

    >>> round(spent_alpha(0.01, 1, 10), 6), round(spent_alpha(0.01, 10, 10), 6)
    (0.0001, 0.0019)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.special import betaincc, betaln
from scipy.stats import binom, norm

__all__ = [
    "McNemar",
    "PairedEvidence",
    "TwoProportions",
    "agreement",
    "mcnemar",
    "paired_evalues",
    "paired_interval",
    "spent_alpha",
    "two_proportions",
]

#: Concentration ``a`` of the Beta(a, a) mixing prior on the share of discordant pairs
#: the challenger wins: its standard deviation (about 0.11) spreads the power over
#: shares 0.55-0.8, the range of a few points' accuracy gain.
PRIOR_A = 10.0


@dataclass(frozen=True)
class McNemar:
    """McNemar's exact test of one window's discordant pairs (two-sided)."""

    b: int
    c: int
    p_value: float
    mid_p: float


def mcnemar(b: int, c: int) -> McNemar:
    """Exact (binomial) McNemar test and its mid-p version; 1.0 without discordant pairs."""
    n = b + c
    if n == 0:
        return McNemar(b, c, 1.0, 1.0)
    k = min(b, c)
    exact = min(1.0, 2.0 * float(binom.cdf(k, n, 0.5)))
    mid = min(1.0, 2.0 * (float(binom.cdf(k, n, 0.5)) - 0.5 * float(binom.pmf(k, n, 0.5))))
    if b == c:  # both tails meet at the centre
        exact, mid = 1.0, 1.0 - float(binom.pmf(k, n, 0.5))
    return McNemar(b, c, exact, mid)


@dataclass(frozen=True)
class PairedEvidence:
    """The e-values against "not better" and against "not worse"."""

    better: float
    worse: float


def _log_one_sided(wins: int, losses: int, a: float) -> float:
    # log of 2^n * 2 * B(a+w, a+l) * P(Beta(a+w, a+l) > 1/2) / B(a, a)
    n = wins + losses
    tail = float(betaincc(a + wins, a + losses, 0.5))
    if tail <= 0.0:
        return -math.inf
    return (
        n * math.log(2.0)
        + math.log(2.0)
        + betaln(a + wins, a + losses)
        - betaln(a, a)
        + math.log(tail)
    )


def paired_evalues(b: int, c: int, *, a: float = PRIOR_A) -> PairedEvidence:
    """One-sided mixture-SPRT e-values from ``b`` challenger wins and ``c`` losses."""
    return PairedEvidence(
        better=math.exp(min(_log_one_sided(b, c, a), 700.0)),
        worse=math.exp(min(_log_one_sided(c, b, a), 700.0)),
    )


def paired_interval(
    b: int, c: int, n_pairs: int, level: float, *, a: float = PRIOR_A
) -> tuple[float, float]:
    """Anytime-valid interval for the accuracy difference (challenger - champion).

    The confidence sequence for ``p`` (the share of discordant pairs the challenger
    wins) is ``{p: mixture likelihood ratio against p < 1 / level}`` (two-sided
    Beta(a, a) mixture); it is mapped to the difference ``d * (2p - 1)`` with ``d``
    the observed share of discordant pairs among ``n_pairs``.
    """
    n = b + c
    if n == 0 or n_pairs == 0:
        return (-1.0, 1.0) if n_pairs == 0 else (0.0, 0.0)
    log_mix = betaln(a + b, a + c) - betaln(a, a)
    bound = math.log(1.0 / level)

    def excess(p: float) -> float:
        loglik = (b * math.log(p) if b else 0.0) + (c * math.log1p(-p) if c else 0.0)
        return log_mix - loglik - bound

    centre = min(max(b / n, 1e-12), 1 - 1e-12)
    lo = (
        0.0 if excess(1e-12) <= 0 or excess(centre) >= 0 else optimize.brentq(excess, 1e-12, centre)
    )
    hi = (
        1.0
        if excess(1 - 1e-12) <= 0 or excess(centre) >= 0
        else optimize.brentq(excess, centre, 1 - 1e-12)
    )
    share = n / n_pairs
    return (share * (2 * lo - 1), share * (2 * hi - 1))


def spent_alpha(alpha: float, look: int, max_looks: int) -> float:
    """Level of look ``look`` (1-based) under the spending ``alpha * (k / K) ** 2``; 0 past ``K``."""
    if look < 1 or look > max_looks:
        return 0.0
    return alpha * ((look / max_looks) ** 2 - ((look - 1) / max_looks) ** 2)


@dataclass(frozen=True)
class TwoProportions:
    """Two-proportion z-test of challenger minus champion (one-sided p-values)."""

    difference: float
    z: float
    p_better: float
    p_worse: float
    low: float
    high: float


def two_proportions(
    x_champion: int, n_champion: int, x_challenger: int, n_challenger: int, level: float
) -> TwoProportions:
    """Pooled z-test and the Wald interval (two-sided at ``level``) of the difference."""
    if n_champion == 0 or n_challenger == 0:
        return TwoProportions(math.nan, math.nan, 1.0, 1.0, -1.0, 1.0)
    p1, p2 = x_champion / n_champion, x_challenger / n_challenger
    pooled = (x_champion + x_challenger) / (n_champion + n_challenger)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_champion + 1 / n_challenger))
    diff = p2 - p1
    z = 0.0 if se0 == 0 else diff / se0
    se = math.sqrt(p1 * (1 - p1) / n_champion + p2 * (1 - p2) / n_challenger)
    q = float(norm.isf(level / 2)) if level > 0 else math.inf
    half = q * se if math.isfinite(q) else 1.0
    return TwoProportions(
        diff,
        z,
        float(norm.sf(z)),
        float(norm.cdf(z)),
        max(-1.0, diff - half),
        min(1.0, diff + half),
    )


def agreement(champion: np.ndarray, challenger: np.ndarray) -> float:
    """Share of paired requests where both versions predicted the same."""
    if len(champion) == 0:
        return math.nan
    return float(np.mean(champion.astype(str) == challenger.astype(str)))
