"""The champion/challenger comparison: its tests against independent computations, and its
sequential error rates and power by simulation over many seeds (at the statistics level,
so hundreds of monitors take seconds), plus the signal on real labelled frames."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from monitor.metrics.challenger_tests import (
    mcnemar,
    paired_evalues,
    paired_interval,
    spent_alpha,
    two_proportions,
)
from monitor.signals import SIGNALS, split_budget
from monitor.signals.base import SignalContext
from monitor.signals.challenger import (
    ChallengerWindow,
    Settings,
    evaluate,
    fresh_state,
    judge_shadow,
    judge_split,
)
from monitor.spec.model_version import parse_model_version
from monitor.spec.signal_config import SignalConfig

MV = parse_model_version({
    "name": "world", "version": "1", "task": "binary", "target": "y", "prediction": "prediction",
    "scores": ["score"], "classes": ["0", "1"], "model_uri": "world.joblib",
    "features": [{"name": "x", "type": "numeric"}],
})  # fmt: skip
CONFIG = SignalConfig.model_validate({"challenger": {"enabled": True}})
#: The challenger signal's share of the default budget (alpha 0.01) when every signal applies.
SHARE = split_budget(CONFIG.alpha, SIGNALS, CONFIG.signal_settings(), MV)["challenger"]
# Pair outcome probabilities: (both right, only the challenger right, only the champion right, both wrong).
THREE_POINTS_BETTER = (0.76, 0.07, 0.04, 0.13)  # champion 0.80, challenger 0.83
EQUAL = (0.76, 0.055, 0.055, 0.13)  # both 0.815


# --- the tests against independent computations --------------------------------------------


@pytest.mark.parametrize(("b", "c"), [(30, 12), (12, 30), (5, 5), (0, 7), (1, 0), (40, 31), (200, 160)])
def test_mcnemar_exact_is_scipy_binomtest_and_mid_p_the_closed_form(b: int, c: int) -> None:
    got = mcnemar(b, c)
    assert got.p_value == pytest.approx(stats.binomtest(b, b + c, 0.5).pvalue, rel=1e-9)
    n, k = b + c, min(b, c)
    pmf = [math.comb(n, i) / 2**n for i in range(n + 1)]
    mid = 1.0 - pmf[k] if b == c else 2 * (sum(pmf[:k]) + 0.5 * pmf[k])
    assert got.mid_p == pytest.approx(min(1.0, mid), rel=1e-9)
    assert mcnemar(0, 0).p_value == 1.0


@pytest.mark.parametrize(("b", "c"), [(0, 0), (8, 3), (3, 8), (60, 20), (25, 25)])
def test_e_values_are_the_mixture_likelihood_ratio_by_numerical_integration(b: int, c: int) -> None:
    a = 10.0
    prior = stats.beta(a, a)

    def ratio(p: float) -> float:
        return float((2 * p) ** b * (2 * (1 - p)) ** c * 2 * prior.pdf(p))

    better = integrate.quad(ratio, 0.5, 1.0)[0]
    worse = integrate.quad(ratio, 0.0, 0.5)[0]
    e = paired_evalues(b, c)
    assert e.better == pytest.approx(better, rel=1e-6) and e.worse == pytest.approx(worse, rel=1e-6)


def test_two_proportions_z_squared_is_the_chi_squared_of_the_2x2_table() -> None:
    got = two_proportions(400, 500, 430, 500, 0.05)
    chi2 = stats.chi2_contingency([[400, 100], [430, 70]], correction=False)[0]
    assert got.z**2 == pytest.approx(chi2, rel=1e-9)
    assert got.p_better == pytest.approx(stats.norm.sf(got.z)) and got.difference == pytest.approx(0.06)
    assert got.low < 0.06 < got.high


def test_spending_adds_up_to_the_budget_and_stops_after_the_last_look() -> None:
    assert sum(spent_alpha(0.01, k, 30) for k in range(1, 31)) == pytest.approx(0.01)
    assert spent_alpha(0.01, 31, 30) == 0.0 and spent_alpha(0.01, 0, 30) == 0.0


def test_paired_interval_covers_the_true_difference_at_every_look_by_simulation() -> None:
    """Anytime validity: over 400 seeded streams the interval covers the truth at *every*
    one of 20 looks in at least 1 - level of the streams."""
    rng = np.random.default_rng(11)
    level, misses = 0.1, 0
    truth = THREE_POINTS_BETTER[1] - THREE_POINTS_BETTER[2]
    for _ in range(400):
        b = c = n = 0
        missed = False
        for _ in range(20):
            _, db, dc, _ = rng.multinomial(300, THREE_POINTS_BETTER)
            b, c, n = b + db, c + dc, n + 300
            low, high = paired_interval(b, c, n, level)
            missed |= not (low <= truth <= high)
        misses += missed
    assert misses / 400 <= level


# --- sequential error rates and power (simulation over many seeded monitors) -------------------


def _shadow_monitor(rng: np.random.Generator, probs: tuple[float, ...], alpha: float, *, pairs: int = 500,
                    windows: int = 40) -> tuple[str, int | None]:  # fmt: skip
    """One simulated shadow monitor: the verdict and the window it was reached in."""
    state = fresh_state("2", "shadow")
    for w in range(1, windows + 1):
        _, b, c, _ = rng.multinomial(pairs, probs)
        state["pairs"], state["b"], state["c"] = state["pairs"] + pairs, state["b"] + b, state["c"] + c
        judge_shadow(state, alpha / 2, Settings())
        if state["verdict"] != "undecided":
            return state["verdict"], w
    return "undecided", None


def test_a_challenger_three_points_better_is_found_better_within_12_windows() -> None:
    """Bound: with 500 labelled pairs per window, champion 0.80 vs challenger 0.83 and the
    default budget share, >= 95 % of 300 seeded monitors say ``better`` within 12 windows
    (6,000 pairs), every one within 20, and none ever says ``worse``."""
    rng = np.random.default_rng(2026)
    runs = [_shadow_monitor(rng, THREE_POINTS_BETTER, SHARE) for _ in range(300)]
    assert all(v == "better" for v, _ in runs), {v for v, _ in runs}
    found_at = np.array([w for _, w in runs])
    assert np.mean(found_at <= 12) >= 0.95 and found_at.max() <= 20


def test_an_equal_challenger_is_not_called_better_beyond_its_budget_share() -> None:
    """400 seeded monitors x 40 windows with an equally accurate challenger: the share that
    ever says ``better`` stays within the budget's ``better`` half (binomial 99.9 % bound)."""
    rng = np.random.default_rng(7)
    runs = [_shadow_monitor(rng, EQUAL, SHARE) for _ in range(400)]
    false_better = sum(v == "better" for v, _ in runs)
    assert false_better <= stats.binom.ppf(0.999, 400, SHARE / 2)


def test_sequential_protection_holds_at_a_large_budget_where_naive_looks_do_not() -> None:
    """At alpha 0.2 (0.1 per direction) the e-process keeps the false ``better`` rate over 40
    looks below 0.1; testing the accumulated pairs each window with McNemar at 0.1 does not."""
    rng = np.random.default_rng(8)
    alpha, monitors = 0.2, 400
    sequential = sum(_shadow_monitor(rng, EQUAL, alpha)[0] == "better" for _ in range(monitors))
    naive = 0
    for _ in range(monitors):
        b = c = 0
        for _ in range(40):
            _, db, dc, _ = rng.multinomial(500, EQUAL)
            b, c = b + db, c + dc
            if b > c and mcnemar(b, c).p_value / 2 <= alpha / 2:  # one-sided
                naive += 1
                break
    assert sequential / monitors <= alpha / 2 < naive / monitors


def _split_monitor(rng: np.random.Generator, champion: float, challenger: float, alpha: float, *,
                   rows: int = 500, windows: int = 30) -> tuple[str, int | None]:  # fmt: skip
    state, settings = fresh_state("2", "split"), Settings()
    for w in range(1, windows + 1):
        window = {"n_champion": rows, "x_champion": int(rng.binomial(rows, champion)),
                  "n_challenger": rows, "x_challenger": int(rng.binomial(rows, challenger))}  # fmt: skip
        for k, v in window.items():
            state[k] += v
        judge_split(state, window, alpha / 2, settings)
        if state["verdict"] != "undecided":
            return state["verdict"], w
    return "undecided", None


def test_split_mode_false_better_rate_within_its_share_and_power_on_three_points() -> None:
    rng = np.random.default_rng(9)
    alpha = 0.2  # a large budget, so the bound has teeth
    equal = [_split_monitor(rng, 0.80, 0.80, alpha)[0] for _ in range(600)]
    assert sum(v == "better" for v in equal) <= stats.binom.ppf(0.999, 600, alpha / 2)
    better = [_split_monitor(rng, 0.80, 0.83, SHARE) for _ in range(200)]
    found = np.array([w if v == "better" else 99 for v, w in better])
    assert np.mean(found <= 30) >= 0.95 and not any(v == "worse" for v, _ in better)


# --- the signal on labelled frames ---------------------------------------------------------------


def _frames(rng: np.random.Generator, n: int, probs: tuple[float, ...], prefix: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    outcome = rng.choice(4, size=n, p=probs)
    y = rng.integers(0, 2, size=n)
    champion_right = np.isin(outcome, (0, 2))
    challenger_right = np.isin(outcome, (0, 1))
    ids = [f"{prefix}-{i}" for i in range(n)]
    champ = pd.DataFrame({"request_id": ids, "prediction": np.where(champion_right, y, 1 - y), "label": y})
    chall = pd.DataFrame({"request_id": ids, "prediction": np.where(challenger_right, y, 1 - y), "label": y})
    return champ, chall


def _context(champ: pd.DataFrame | None, side: ChallengerWindow | None, carry: dict | None = None) -> SignalContext:
    class _Baseline:
        model_version = MV

    return SignalContext(baseline=_Baseline(), window=None, labelled=champ, challenger=side,  # type: ignore[arg-type]
                         alphas={"challenger": SHARE}, carry=carry if carry is not None else {})  # fmt: skip


def test_the_signal_accumulates_windows_and_reports_the_evidence() -> None:
    rng = np.random.default_rng(3)
    carry: dict = {}
    verdicts = []
    for w in range(12):
        champ, chall = _frames(rng, 500, THREE_POINTS_BETTER, f"w{w}")
        side = ChallengerWindow(version="2", mode="shadow", labelled=chall, state=carry.get("challenger"))
        (r,) = evaluate(_context(champ, side, carry), Settings())
        verdicts.append(r.details["verdict"])
    assert verdicts[-1] == "better" and r.status == "warning"
    cum = r.details["cumulative"]
    assert cum["pairs"] == 6000 and r.value == pytest.approx((cum["b"] - cum["c"]) / 6000)
    assert r.details["interval"][0] <= r.value <= r.details["interval"][1]
    window = r.details["window"]
    assert window["mcnemar_p"] == pytest.approx(stats.binomtest(window["b"], window["b"] + window["c"]).pvalue)
    assert window["agreement_labelled"] == pytest.approx(1 - (window["b"] + window["c"]) / 500)
    assert r.alpha == pytest.approx(SHARE / 2) and r.p_value is not None and r.p_value <= r.alpha
    first = verdicts.index("better")
    assert r.details["previous_verdict"] == ("undecided" if first == 11 else "better")


def test_a_worse_challenger_is_an_alert() -> None:
    rng = np.random.default_rng(4)
    carry: dict = {}
    for w in range(15):
        champ, chall = _frames(rng, 500, (0.76, 0.03, 0.08, 0.13), f"w{w}")
        side = ChallengerWindow(version="2", mode="shadow", labelled=chall, state=carry.get("challenger"))
        (r,) = evaluate(_context(champ, side, carry), Settings())
    assert r.details["verdict"] == "worse" and r.status == "alert"


def test_a_new_challenger_version_starts_from_no_evidence() -> None:
    rng = np.random.default_rng(5)
    champ, chall = _frames(rng, 300, EQUAL, "a")
    carry: dict = {}
    evaluate(_context(champ, ChallengerWindow(version="2", mode="shadow", labelled=chall), carry), Settings())
    assert carry["challenger"]["pairs"] == 300
    side = ChallengerWindow(version="3", mode="shadow", labelled=chall, state=carry["challenger"])
    (r,) = evaluate(_context(champ, side, carry), Settings())
    assert r.details["cumulative"]["pairs"] == 300 and carry["challenger"]["challenger"] == "3"


def test_missing_columns_and_missing_inputs_say_what_to_do() -> None:
    champ, chall = _frames(np.random.default_rng(6), 50, EQUAL, "x")
    (r,) = evaluate(_context(champ, None), Settings())
    assert r.status == "no_data" and "declare 'challenger:'" in (r.message or "")
    (r,) = evaluate(_context(None, ChallengerWindow(version="2", mode="shadow", labelled=chall)), Settings())
    assert r.status == "no_data"
    side = ChallengerWindow(version="2", mode="shadow", labelled=chall.drop(columns=["prediction"]))
    with pytest.raises(ValueError, match=r"challenger \(version 2\)'s labelled rows have no column\(s\) \['prediction'\]"):
        evaluate(_context(champ, side), Settings())
    side = ChallengerWindow(version="2", mode="shadow", labelled=chall, state={"version": 999})
    with pytest.raises(ValueError, match="unknown format"):
        evaluate(_context(champ, side), Settings())


def test_split_mode_compares_disjoint_traffic_unpaired() -> None:
    rng = np.random.default_rng(12)
    carry: dict = {}
    for w in range(30):
        n = 600
        y1, y2 = rng.integers(0, 2, n), rng.integers(0, 2, n)
        ok1, ok2 = rng.uniform(size=n) < 0.75, rng.uniform(size=n) < 0.85
        champ = pd.DataFrame({"request_id": [f"a{w}-{i}" for i in range(n)], "prediction": np.where(ok1, y1, 1 - y1), "label": y1})
        chall = pd.DataFrame({"request_id": [f"b{w}-{i}" for i in range(n)], "prediction": np.where(ok2, y2, 1 - y2), "label": y2})
        side = ChallengerWindow(version="2", mode="split", labelled=chall, state=carry.get("challenger"))
        (r,) = evaluate(_context(champ, side, carry), Settings())
        if r.details["verdict"] != "undecided":
            break
    assert r.details["verdict"] == "better" and r.status == "warning"
    cum = r.details["cumulative"]
    expected = two_proportions(cum["x_champion"], cum["n_champion"], cum["x_challenger"], cum["n_challenger"], 0.05)
    assert r.value == pytest.approx(expected.difference) and r.statistic == pytest.approx(expected.z)
    assert r.details["look_alpha"] == pytest.approx(spent_alpha(SHARE / 2, cum["looks"], 30))
    assert r.p_value is not None and r.p_value <= r.details["look_alpha"]
    assert "pairs" not in r.details["window"]  # no pairing in split mode
