"""The claim rule (suite.claims.rule): Welch against scipy, each outcome, one seed, seeds needed, the prediction
interval, a relative claim, speed ratios, scope, budget, predicted and busy measurements."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from suite.claims.rule import (
    BUSY,
    INCONCLUSIVE,
    NO_SPREAD,
    NOT_REPRODUCED,
    ONE_SEED,
    PARTIAL,
    PREDICTED,
    REPRODUCED,
    Question,
    Sample,
    judge,
    prediction_interval,
    published_inside,
    seeds_needed,
    welch,
)
from suite.tables.claim import DIRECTION, ERROR, EXACT, SPEED, Magnitude, Scope

# textbook samples (unequal variances and sizes)
A1 = (27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4)
B1 = (27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4)
A2 = (17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8)
B2 = (21.5, 22.8, 21.0, 23.0, 21.6, 23.6, 22.5, 20.7, 23.4, 21.8, 20.7, 21.7, 21.5, 22.5, 23.6, 21.5, 22.5, 23.5,
      21.5, 21.8)


def err(a, b, magnitude=DIRECTION, **kw) -> Question:
    return Question(ERROR, Sample("A", tuple(a)), Sample("B", tuple(b)), magnitude, **kw)


def _scipy_ci(a, b):
    res = stats.ttest_ind(b, a, equal_var=False)
    ci = res.confidence_interval(0.95)
    return ci.low, ci.high, res.pvalue


@pytest.mark.parametrize("a, b", [(A1, B1), (A2, B2), ((13.6, 13.9, 13.7), (14.7, 14.6, 14.9))])
def test_welch_interval_and_p_value_equal_scipy(a, b):
    diff, low, high, p = welch(a, b)
    s_low, s_high, s_p = _scipy_ci(a, b)
    assert diff == pytest.approx(sum(b) / len(b) - sum(a) / len(a))
    assert low == pytest.approx(s_low, abs=0.01) and high == pytest.approx(s_high, abs=0.01)
    assert p == pytest.approx(s_p, rel=1e-9)
    j = judge(err(a, b))
    assert j.ci == pytest.approx((s_low, s_high), abs=0.01) and j.p_value == pytest.approx(s_p)


def test_each_outcome():
    a = (13.6, 13.9, 13.7)
    assert judge(err(a, (14.7, 14.6, 14.9), Magnitude.pp(1.0))).verdict == REPRODUCED  # CI [0.65, 1.35]
    assert judge(err(a, (14.7, 14.6, 14.9), Magnitude.pp(2.0))).verdict == PARTIAL  # above 0, below 2, above 1
    assert judge(err(a, (14.7, 14.6, 14.9), Magnitude.pp(3.0))).verdict == NOT_REPRODUCED  # upper end < D/2
    assert judge(err((14.7, 14.6, 14.9), a)).verdict == NOT_REPRODUCED  # entirely below 0
    inc = judge(err((13.0, 14.5, 13.8), (14.0, 13.6, 14.9), Magnitude.pp(1.0)))
    assert inc.verdict == INCONCLUSIVE and inc.ci[0] < 0 < inc.ci[1]
    assert inc.seeds_needed is not None and f"about {inc.seeds_needed} seeds per model" in inc.detail


def test_not_reproduced_is_checked_first():
    # lower end above 0 (the direction holds) but the upper end is below D/2: not reproduced, not partial
    j = judge(err((13.6, 13.61, 13.59), (13.9, 13.91, 13.89), Magnitude.pp(1.0)))
    assert j.ci[0] > 0 and j.ci[1] < 0.5 and j.verdict == NOT_REPRODUCED


def test_seeds_needed_formula():
    # the figures: std 0.25 pp, 1 pp needs about 3 seeds (at least 2), 0.3 pp about 11-12
    assert seeds_needed(0.25, 1.0) == max(2, math.ceil(2 * 2.8 ** 2 * 0.25 ** 2 / 1.0)) == 2
    assert seeds_needed(0.25, 0.3) == math.ceil(2 * 2.8 ** 2 * 0.0625 / 0.09) == 11
    assert seeds_needed(0.5, 0.0) == math.ceil(2 * 2.8 ** 2 * 0.25 / 0.01)  # D floored at 0.1 pp
    assert seeds_needed(0.0, 1.0) == 2


def test_one_seed_gives_the_direction_and_the_binomial_floor():
    j = judge(Question(ERROR, Sample("A", (13.0,), n_test=10000), Sample("B", (14.5, 14.4)), Magnitude.pp(1.0)))
    assert j.verdict == ONE_SEED and j.ci is None
    floor = 100 * math.sqrt(0.13 * 0.87 / 10000)
    assert f"±{floor:.2f} pp" in j.detail and "A lower" in j.detail
    assert j.seeds_needed == seeds_needed(floor, 1.0)


def test_relative_claim_is_converted_at_the_published_b_value():
    a = Sample("ThreshNet79", (13.6, 13.7, 13.5))
    b = Sample("HarDNet68", (14.7, 14.6, 14.8), published=14.66)
    j = judge(Question(ERROR, a, b, Magnitude.relative(7.0)))
    assert j.claimed == pytest.approx(0.07 * 14.66)
    assert "7 % relative = 1.03 pp at the published HarDNet68 14.66 %" in j.detail
    assert j.verdict == REPRODUCED  # CI about [0.87, 1.23]: above 0, reaches 1.03


def test_prediction_interval_and_published_value():
    values = (13.6, 13.9, 13.7)
    low, high = prediction_interval(values)
    m, s = sum(values) / 3, stats.tstd(values)
    half = stats.t.ppf(0.975, 2) * s * math.sqrt(1 + 1 / 3)
    assert (low, high) == pytest.approx((m - half, m + half))
    assert "published value inside our seed spread" in published_inside(values, 13.66)
    assert "published value outside our seed spread" in published_inside(values, 12.0)
    assert prediction_interval((13.0,)) is None


def test_best_epoch_is_context_never_the_decision():
    a = Sample("A", (13.6, 13.9, 13.7), best=(13.0, 13.1, 13.2), published=13.66)
    b = Sample("B", (14.7, 14.6, 14.9), best=(14.1, 14.2, 14.0))
    j = judge(Question(ERROR, a, b, Magnitude.pp(1.0)))
    assert j.verdict == REPRODUCED  # decided on the final epoch
    assert any("final - best per seed: +0.60, +0.80, +0.50 pp" in c and "outside our seed spread" in c
               for c in j.context)


def test_reduced_budget_and_predictions_never_decide_errors():
    q = err((13.6, 13.9, 13.7), (14.7, 14.6, 14.9), reduced="smoke run: 1 epoch")
    j = judge(q)
    assert j.verdict == INCONCLUSIVE and "reduced budget never decides" in j.detail and "smoke run" in j.detail
    pred = Question(ERROR, Sample("A", (10.0, 10.1), predicted=True), Sample("B", (20.0, 20.1)))
    assert judge(pred).verdict == PREDICTED


def _times(mean: float, n: int = 4, spread: float = 0.01) -> tuple[float, ...]:
    return tuple(mean * (1 + spread * (i - (n - 1) / 2)) for i in range(n))


def speed(ta, tb, pct=None, device="rpi4", scope=("rpi4",), **kw) -> Question:
    mag = Magnitude.percent(pct) if pct is not None else Magnitude()
    return Question(SPEED, Sample("A", ta, **kw), Sample("B", tb), mag, Scope(scope), device)


def test_speed_ratio_interval_and_outcomes():
    # A 20 % faster than B: ratio 1.25; claimed 20 % -> ratio 1.25 reached, 30 % -> 1.43 partial, 60 % -> 2.5 not
    ta, tb = _times(40.0), _times(50.0)
    j = judge(speed(ta, tb, 20.0))
    low, high = j.ci
    ref = _scipy_ci([math.log(v) for v in ta], [math.log(v) for v in tb])
    assert (low, high) == pytest.approx((math.exp(ref[0]), math.exp(ref[1])))
    assert low < 1.25 < high and j.verdict == REPRODUCED and j.claimed == pytest.approx(1.25)
    assert judge(speed(ta, _times(52.0), 30.0)).verdict == PARTIAL
    assert judge(speed(ta, tb, 60.0)).verdict == NOT_REPRODUCED
    assert judge(speed(tb, ta)).verdict == NOT_REPRODUCED
    assert judge(speed(_times(40.0, spread=0.2), _times(41.0, spread=0.2))).verdict == INCONCLUSIVE


def test_speed_noisy_single_round_busy_predicted():
    ta, tb = _times(40.0), _times(50.0)
    noisy = judge(speed(ta, tb, dispersion=0.12))
    assert noisy.verdict == INCONCLUSIVE and "IQR/median above 10%" in noisy.detail
    assert judge(speed((40.0,), (50.0,))).verdict == INCONCLUSIVE
    assert judge(speed(ta, tb, busy=True)).verdict == BUSY
    assert judge(speed(ta, tb, predicted=True)).verdict == PREDICTED


def test_out_of_scope_device_is_never_evidence():
    q = Question(SPEED, Sample("ThreshNet79", (25.0, 25.1)), Sample("GhostNet", (10.0, 10.1)), Magnitude.percent(9),
                 Scope(("gpu", "rpi4")), "cpu", "this CPU")
    j = judge(q)
    assert j.verdict == "not testable here (needs gpu, rpi4)"
    assert j.detail.startswith("on this CPU ThreshNet79 is 2.5x slower than GhostNet (95 % CI of the ratio [0.3")
    assert j.detail.endswith("]): the claim does not carry over to this CPU")


def test_out_of_scope_wording_follows_the_direction_and_its_interval():
    def context(a, b, **kw) -> str:
        q = Question(SPEED, Sample("ThreshNet95", a, **kw), Sample("HarDNet85", b, **kw), Magnitude(),
                     Scope(("gpu",)), "cpu", "this CPU")
        return judge(q).detail

    assert context((10.0, 10.1), (19.0, 19.1)) == ("on this CPU ThreshNet95 is 1.9x faster than HarDNet85 (same "
                                                    "direction as claimed; this CPU is outside the claim's scope)")
    reversed_wide = context((10.0, 14.0), (9.0, 12.0))  # slower, but the interval reaches the claimed direction
    assert "slower" in reversed_wide and "not excluded by its interval" in reversed_wide
    assert "carry over" not in reversed_wide
    one_round = context((10.0,), (9.0,))
    assert "one round gives no interval" in one_round and "carry over" not in one_round
    busy = context((10.0, 10.1), (19.0, 19.1), busy=True)
    assert busy == "on this CPU: busy machine, not evidence"
    assert context((10.0, 10.1), (19.0, 19.1), predicted=True) == "this CPU is outside the claim's scope"


def test_exact_quantities_within_one_point():
    q = Question(EXACT, Sample("a", (16.19,)), Sample("b", (35.40,)), Magnitude.percent(55.0), unit="M")
    assert judge(q).verdict == REPRODUCED  # 54.3 %
    q = Question(EXACT, Sample("a", (16.19,)), Sample("b", (30.0,)), Magnitude.percent(55.0), unit="M")
    assert judge(q).verdict == NOT_REPRODUCED


@pytest.mark.parametrize("a, b", [
    ((13.6, 13.6, 13.6), (14.7, 14.7, 14.7)),  # no spread on either side: a zero-width interval
    ((13.6, 13.6, 13.6), (14.7, 14.6, 14.9)),  # no spread on one side
    ((14.7, 14.6, 14.9), (13.6, 13.6, 13.6)),
])
@pytest.mark.parametrize("magnitude", [DIRECTION, Magnitude.pp(1.0), Magnitude.same(0.5)])
def test_a_sample_without_spread_gives_a_degenerate_interval_that_decides_nothing(a, b, magnitude):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy's precision-loss warning included
        j = judge(err(a, b, magnitude))
    assert j.verdict == NO_SPREAD and j.ci is None and j.seeds_needed is None
    assert "no spread measured" in j.detail and "degenerate" in j.detail


def test_speed_rounds_without_spread_decide_nothing():
    j = judge(speed((20.0, 20.0, 20.0), (30.0, 30.0, 30.0), pct=10))
    assert j.verdict == NO_SPREAD and j.ci is None and "degenerate" in j.detail


def test_nearly_equal_values_give_no_library_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        diff, low, high, p = welch((13.6, 13.6, 13.600000000000001), (14.7, 14.7, 14.700000000000001))
    assert low <= diff <= high and 0.0 <= p <= 1.0
