import json
import math
from math import comb

import pytest
from helpers.ncu_logs import SAMPLE_CSV

from pytest_cudabench.reporting.aggregates import aggregate, best_of_k, cudabench_score, pass_at_k
from pytest_cudabench.timing.scoring import (
    NCU_REQUIRED,
    is_suspicious,
    item_performance_score,
    ncu_metric_names,
    ncu_performance_score,
    ncu_score_from_launches,
    ncu_unit_factor,
    parse_ncu_csv,
    performance_score,
    roofline_bound_s,
)


def test_roofline_bound_and_score():
    # ReLU on 2^28 floats: 2^28 FLOPs, 2 x 4 x 2^28 bytes; H100 SXM datasheet peaks.
    bound = roofline_bound_s(2**28, 8 * 2**28, 67e12, 3.35e12)
    assert bound == pytest.approx(8 * 2**28 / 3.35e12)
    assert roofline_bound_s(2e12, 1.0, 1e12, 1e12) == 2.0  # compute-bound side
    assert performance_score(1.0, 4.0) == 0.25
    with pytest.raises(ValueError):
        performance_score(1.0, 0.0)
    assert not is_suspicious(1.04) and is_suspicious(1.06) and not is_suspicious(1.06, spread=0.02)


def test_item_performance_score_convention():
    assert item_performance_score([0.5, 0.0, None, 0.7]) == pytest.approx(0.4)  # failed scale = 0, None left out
    assert item_performance_score([None, None]) is None
    assert item_performance_score([]) is None


def _item(**kw):
    base = dict(task="t", domain="d", tier="easy", level=1, sample=0, outcome="passed", compiled=True, correct=True,
                performance_score=None, speedup=None)
    base.update(kw)
    return base


def test_cudabench_score_zeros_included():
    items = [
        _item(performance_score=0.8),
        _item(performance_score=0.4),
        _item(outcome="failed", correct=False, performance_score=None),
        _item(outcome="failed", compiled=False, correct=None),
        _item(outcome="skipped", correct=None, performance_score=None),  # left out entirely
    ]
    assert cudabench_score(items) == pytest.approx((0.8 + 0.4) / 4)
    # A score on an incorrect answer earns nothing.
    assert cudabench_score([_item(correct=False, performance_score=0.9), _item(performance_score=0.1)]) == 0.05
    assert cudabench_score([_item(), _item(correct=False)]) is None  # not measured
    assert cudabench_score([]) is None


@pytest.mark.parametrize("n,c,k", [(10, 3, 1), (10, 3, 5), (20, 0, 3), (5, 5, 2), (100, 7, 10), (3, 1, 3)])
def test_pass_at_k_matches_binomial(n, c, k):
    exact = 1 - comb(n - c, k) / comb(n, k)
    assert pass_at_k(n, c, k) == pytest.approx(exact, abs=1e-12)


def test_pass_at_k_edges():
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(4, 2, 3) == 1.0
    assert 0 <= pass_at_k(2000, 1, 1000) <= 1  # stable where the binomials overflow floats
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)


def test_best_of_k_prefers_correct_then_score():
    a = _item(sample=0, correct=False, compiled=True, performance_score=None)
    b = _item(sample=1, correct=True, performance_score=0.3)
    c = _item(sample=2, correct=True, performance_score=0.6)
    d = _item(sample=3, correct=False, performance_score=0.9)
    assert best_of_k([a, b, c, d]) is c
    assert best_of_k([a, d]) is d
    e = _item(sample=0, compiled=False, correct=None)
    assert best_of_k([e, a]) is a  # compiled beats not compiled when neither is correct
    assert best_of_k([b, _item(sample=9, correct=True, performance_score=0.3)]) is b  # tie: earliest
    assert best_of_k([]) is None


def _ncu(ffma, fmul, fadd, dram_bps, ffma_peak=512.0, sm_hz=1.755e9, smsp_hz=1.755e9, dram_peak=1024.0,
         dram_hz=2.6e9):
    return {
        "smsp__sass_thread_inst_executed_op_ffma_pred_on.sum.per_cycle_elapsed": ffma,
        "smsp__sass_thread_inst_executed_op_fmul_pred_on.sum.per_cycle_elapsed": fmul,
        "smsp__sass_thread_inst_executed_op_fadd_pred_on.sum.per_cycle_elapsed": fadd,
        "smsp__cycles_elapsed.avg.per_second": smsp_hz,
        "sm__cycles_elapsed.avg.per_second": sm_hz,
        "sm__sass_thread_inst_executed_op_ffma_pred_on.sum.peak_sustained": ffma_peak,
        "dram__bytes.sum.per_second": dram_bps,
        "dram__bytes.sum.peak_sustained": dram_peak,
        "dram__cycles_elapsed.avg.per_second": dram_hz,
    }


def test_ncu_score_definitions():
    m = _ncu(ffma=100.0, fmul=20.0, fadd=10.0, dram_bps=1.0e12)
    r = ncu_performance_score(m)
    peak_work = 2 * 512 * 1.755e9
    peak_traffic = 1024 * 2.6e9
    flop_s = (2 * 100 + 20 + 10) * 1.755e9
    assert r["peak_work"] == pytest.approx(peak_work) and r["peak_traffic"] == pytest.approx(peak_traffic)
    assert r["flop_s"] == pytest.approx(flop_s)
    assert r["ce"] == pytest.approx(flop_s / peak_work)
    assert r["bu"] == pytest.approx(1e12 / peak_traffic)
    assert r["ai"] == pytest.approx(flop_s / 1e12)
    assert r["score"] == pytest.approx(flop_s / min(peak_work, r["ai"] * peak_traffic))
    assert r["score"] == pytest.approx(max(r["ce"], r["bu"]))
    json.dumps(r)


def test_ncu_score_no_flops_is_bandwidth_and_no_dram_is_compute():
    r = ncu_performance_score(_ncu(0.0, 0.0, 0.0, dram_bps=2.0e12))
    assert r["ce"] == 0 and r["score"] == r["bu"] == pytest.approx(2e12 / (1024 * 2.6e9))
    r = ncu_performance_score(_ncu(256.0, 0.0, 0.0, dram_bps=0.0))
    assert r["ai"] is None and r["score"] == pytest.approx(r["ce"]) == pytest.approx(0.5)
    with pytest.raises(KeyError, match="dram__bytes.sum.per_second"):
        ncu_performance_score({k: v for k, v in _ncu(1, 1, 1, 1).items() if k != "dram__bytes.sum.per_second"})


def test_metric_names():
    names = ncu_metric_names()
    assert set(NCU_REQUIRED) <= set(names) and "gpu__time_duration.sum" in names
    assert len(names) == len(set(names))




def test_parse_ncu_csv_sample():
    launches = parse_ncu_csv(SAMPLE_CSV)
    assert [(launch["id"], launch["kernel"]) for launch in launches] == [
        ("0", "relu_kernel(const float *, float *, int)"),
        ("1", "relu_kernel(const float *, float *, int)"),
        ("2", "init(float *, int)"),
    ]
    m = launches[0]["metrics"]
    assert m["dram__bytes.sum.per_second"] == pytest.approx(2.8e12)
    assert m["dram__bytes.sum.peak_sustained"] == pytest.approx(1020.0)
    assert m["dram__cycles_elapsed.avg.per_second"] == pytest.approx(2.62e9)
    assert m["gpu__time_duration.sum"] == pytest.approx(766.5e-6)
    assert m["dram__bytes.sum"] == pytest.approx(2147.48e6)
    assert m["sm__sass_thread_inst_executed_op_ffma_pred_on.sum.peak_sustained"] == 16896.0
    assert launches[2]["metrics"]["smsp__sass_thread_inst_executed_op_fadd_pred_on.sum.per_cycle_elapsed"] is None
    assert launches[0]["units"]["gpu__time_duration.sum"] == "usecond"
    assert parse_ncu_csv("no table here\n") == []


def test_ncu_kernel_choice_averages_launches():
    r = ncu_score_from_launches(parse_ncu_csv(SAMPLE_CSV))
    # "init" lacks a metric (n/a), so only relu is eligible; no FLOPs: the score is BU of the averaged launches.
    assert r["kernel"].startswith("relu_kernel") and r["launches"] == 2
    assert r["score"] == pytest.approx(2.85e12 / (1020.0 * 2.62e9))
    assert ncu_score_from_launches([]) is None


def test_ncu_kernel_choice_prefers_flops():
    launches = [
        {"kernel": "copy", "metrics": _ncu(0, 0, 0, dram_bps=3e12)},
        {"kernel": "gemm", "metrics": _ncu(300, 0, 0, dram_bps=1e11)},
    ]
    assert ncu_score_from_launches(launches)["kernel"] == "gemm"


def test_unit_factors():
    assert ncu_unit_factor("Gbyte/second") == 1e9
    assert ncu_unit_factor("byte/usecond") == 1e6
    assert ncu_unit_factor("GHz") == 1e9
    assert ncu_unit_factor("msecond") == 1e-3
    assert ncu_unit_factor("inst/cycle") == 1.0
    assert ncu_unit_factor("%") == 1.0
    assert ncu_unit_factor("") == 1.0


def test_aggregate_overall_and_by_level():
    items = [
        _item(task="relu", level=1, performance_score=0.8, speedup=2.0),
        _item(task="relu", level=2, performance_score=0.2, speedup=0.5),
        _item(task="gemm", level=1, outcome="failed", correct=False),
        _item(task="gemm", level=2, outcome="failed", compiled=False, correct=None),
        _item(task="scan", level=1, outcome="skipped", compiled=False, correct=None),
    ]
    out = aggregate(items)
    json.dumps(out)
    a = out["all"]
    assert (a["n_items"], a["n_skipped"], a["n_judged"]) == (5, 1, 4)
    assert a["compile_rate"] == 0.75 and a["correct_rate"] == 0.5
    assert a["mean_performance_score_correct"] == pytest.approx(0.5)
    assert a["mean_performance_score_all"] == pytest.approx(0.25) == a["cudabench_score"]
    assert a["speedup"] == pytest.approx(1.0)
    assert (a["fast_0"], a["fast_1"], a["fast_1.5"]) == (0.5, 0.25, 0.25)
    assert a["pass_at_k"] is None and a["best_of_k"] is None

    by_level = aggregate(items, "level")
    assert list(by_level) == ["1", "2"]
    assert by_level["1"]["n_skipped"] == 1 and by_level["1"]["correct_rate"] == 0.5
    assert by_level["2"]["compile_rate"] == 0.5


def test_aggregate_not_measured_on_cpu():
    items = [_item(), _item(correct=False, outcome="failed")]
    a = aggregate(items)["all"]
    assert a["correct_rate"] == 0.5 and a["cudabench_score"] is None
    assert a["mean_performance_score_all"] is None and a["speedup"] is None and a["fast_1"] is None


def test_aggregate_pass_at_k_and_best_of_k():
    items = []
    # relu: 3 samples, 2 correct; gemm: 3 samples, 1 compiles, none correct.
    for s, (comp, corr, score) in enumerate([(True, False, None), (True, True, 0.5), (True, True, 0.7)]):
        items.append(_item(task="relu", sample=s, compiled=comp, correct=corr, performance_score=score))
    for s, comp in enumerate([False, True, False]):
        items.append(_item(task="gemm", sample=s, compiled=comp, correct=False if comp else None))
    a = aggregate(items)["all"]
    pk = a["pass_at_k"]
    assert pk["n_problems"] == 2 and pk["k_max"] == 3
    assert pk["correct"]["1"] == pytest.approx((2 / 3 + 0) / 2)
    assert pk["correct"]["3"] == pytest.approx(0.5)
    assert pk["compile"]["1"] == pytest.approx((1 + 1 / 3) / 2)
    assert pk["compile"]["2"] == pytest.approx((1 + (1 - comb(2, 2) / comb(3, 2))) / 2)
    best = a["best_of_k"]
    assert best == {"k": 3, "n_problems": 2, "compile_rate": 1.0, "correct_rate": 0.5, "cudabench_score": 0.35}
    json.dumps(a)
    assert math.isclose(a["correct_rate"], 2 / 6)


def test_report_aggregates_are_aggregate_groups():
    """One implementation: the report's aggregates are aggregate's groups, no items included."""
    from pytest_cudabench.reporting.aggregates import aggregates

    items = [_item(task="relu", level=1, performance_score=0.8, speedup=2.0),
             _item(task="gemm", level=2, outcome="failed", correct=False)]
    report = aggregates(items)
    # the report adds the refinement summary beside aggregate's statistics (null without --cudabench-refine)
    assert {k: v for k, v in report["overall"].items() if k != "refinement"} == aggregate(items)["all"]
    def without_refinement(groups):
        return {name: {k: v for k, v in g.items() if k != "refinement"} for name, g in groups.items()}

    assert without_refinement(report["by_level"]) == aggregate(items, "level")
    assert without_refinement(report["by_tier"]) == aggregate(items, "tier")
    assert report["overall"]["mean_performance_score"] == report["overall"]["mean_performance_score_correct"] == 0.8
    assert aggregates([])["overall"]["n_items"] == 0 and aggregates([])["by_domain"] == {}
