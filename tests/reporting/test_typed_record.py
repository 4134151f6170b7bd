"""The typed record around the readers: the run record built from plain values (reporting/run_facts.py), the
report loader's check of the schema's required keys (reporting/report_files.py), and the package's one geometric
mean (averages.py)."""

from __future__ import annotations

import json

import pytest
from helpers.report_factory import make_item, make_report

from pytest_cudabench.averages import geomean
from pytest_cudabench.config import Settings
from pytest_cudabench.errors import ReportFileError
from pytest_cudabench.reporting.report import build_report
from pytest_cudabench.reporting.report_files import load_report
from pytest_cudabench.reporting.run_facts import run_record
from pytest_cudabench.results import ROOFLINE_DEFINITION, TEMPLATE_VERSION, RunRecord


def record(**given) -> RunRecord:
    plain = dict(started=1_800_000_000.0, finished=1_800_000_012.5, items=[make_item()], collected=None,
                 stopped=None, workers=None, worker_machines={}, shard=None, prices=None, resumed_from=None)
    return run_record(Settings(model="reference", seed=7, run_id="r1", runtime="cpu", arch="sm_90"),
                      **{**plain, **given})


def test_the_run_record_is_built_from_plain_values():
    run = record()
    assert set(RunRecord.__required_keys__) <= set(run)
    assert (run["id"], run["seed"], run["runtime"], run["arch"], run["template_version"]) == \
        ("r1", 7, "cpu", "sm_90", TEMPLATE_VERSION)
    assert run["started"] == "2027-01-15T08:00:00+00:00" and run["duration_s"] == 12.5
    assert run["performance_definition"] == ROOFLINE_DEFINITION and run["ncu_performance_definition"] is None
    assert (run["collected_items"], run["complete"], run["stopped"], run["interrupted"]) == (1, True, None, False)
    assert run["worker_machines"] is None and run["performance_measured"] is False
    assert run["usage"]["synthetic-model"]["items"] == 1  # the item's answer, by its model
    json.dumps(run)


def test_a_run_that_stopped_or_ran_fewer_items_than_collected_is_incomplete():
    assert record(collected=3)["complete"] is False
    stopped = record(stopped="interrupted")
    assert (stopped["complete"], stopped["interrupted"], stopped["stopped"]) == (False, True, "interrupted")


def test_a_report_missing_a_field_the_schema_requires_is_refused_naming_file_and_field(tmp_path):
    report = make_report()
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    assert load_report(path)["run"]["id"] == report["run"]["id"]
    for damaged, field in ((lambda r: r.pop("totals"), "totals"), (lambda r: r["run"].pop("seed"), "run.seed"),
                           (lambda r: r["aggregates"].pop("by_tier"), "aggregates.by_tier"),
                           (lambda r: r["items"][1].pop("outcome"), "items[1].outcome")):
        copy = json.loads(json.dumps(report))
        damaged(copy)
        path.write_text(json.dumps(copy))
        with pytest.raises(ReportFileError, match=rf"r\.json: field\(s\) {field.replace('[', '.').replace(']', '.')} "
                                                  "missing"):
            load_report(path)


def test_keys_added_to_the_schema_later_are_optional_for_readers(tmp_path):
    """Schema 1 grows by additions: a report written before a key existed (the factory's run has no usage, its item
    no ncu_performance_score) still loads."""
    report = build_report(make_report()["run"], [make_item()], [])
    assert "usage" not in report["run"] and "ncu_performance_score" not in report["items"][0]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(report))
    assert load_report(path)["items"][0]["task"] == "basics/vector_add"


def test_geomean_keeps_positive_values_only():
    assert geomean([2.0, 8.0]) == pytest.approx(4.0)
    assert geomean([2.0, None, 0.0, -1.0, 8.0]) == pytest.approx(4.0)
    assert geomean([None, 0.0]) is None and geomean([]) is None
