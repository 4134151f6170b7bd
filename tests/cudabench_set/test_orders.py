"""Whole CUDABench-Set programs in another thread order (CPU runtime): a program whose result depends on the order
of a block's threads passes in thread order, then fails the item's execute stage and is a defect of its row in
validate-set; a correct one passes both. Real builds, the real CPU runtime, gen.py and compare.py really run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from helpers.cudabench_set_rows import (  # noqa: E402
    affine_rows,
    block_sum_row,
    global_chain_row,
    row,
    write_rows,
    zero_accepting_row,
)
from helpers.cudabench_set_runs import items_by_task, report, run_set  # noqa: E402

from pytest_cudabench.cudabench_set import data as set_data  # noqa: E402
from pytest_cudabench.cudabench_set import orders, program, validate  # noqa: E402
from pytest_cudabench.cudabench_set.rows import load_rows  # noqa: E402
from pytest_cudabench.execution.supervisor import ORDER_RUNS, child_environment  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="the CPU runtime needs g++")


def test_a_race_hidden_by_thread_order_fails_the_execute_stage_and_the_synced_program_passes(pytester):
    path = write_rows(pytester.path / "orders.jsonl", [block_sum_row(0, synced=True), block_sum_row(1, synced=False)])
    result = run_set(pytester, path, "--cudabench-seed=3")
    result.assert_outcomes(passed=1, failed=1)
    items = items_by_task(report(pytester))
    synced = items["Block_Sum/scale1"]
    done = synced["set"]["thread_order"]
    assert synced["outcome"] == "passed" and done["verdict"] == "passed" and done["order"] in ORDER_RUNS
    assert done["racecheck"] is True and synced["stages"]["execute"]["thread_order"] == done
    unsynced = items["Block_Sum_Unsynced/scale1"]
    assert unsynced["set"]["program"]["returncode"] == 0  # the forward run passed
    assert unsynced["failed_stage"] == "execute" and unsynced["set"]["thread_order"]["verdict"] == "failed"
    message = unsynced["message"]
    assert message.startswith("the result depends on thread order: run ") and "shared-memory race" in message
    assert "in kernel block_sum" in message and "at line 30" in message, message  # the sum's read, by source line


def test_outputs_that_depend_on_thread_order_are_judged_and_rejected(tmp_path):
    (chain,) = load_rows(write_rows(tmp_path / "chain.jsonl", [global_chain_row(0)]))
    library, entry, _ = program.build(chain.bench_cu, "cpu", tmp_path / "cache", "")
    rowdata = set_data.generate(chain, tmp_path / "cache", "run", 1)
    forward = program.scratch_with_inputs(chain, rowdata.directory, tmp_path)
    assert program.run(library, entry, forward, "cpu", 60).returncode == 0
    done = orders.run_in_other_order(chain, library, entry, rowdata, forward, True, "cpu", 60, 1, tmp_path,
                                     child_environment(tmp_path))
    assert done.verdict == "failed" and not done.race and done.racecheck is False  # no shared memory to check
    assert "correct with each block's threads run in thread order between barriers, wrong when run " in done.message
    assert "compare.py printed F" in done.message and "values outside atol" in done.message
    assert (done.order, done.seed) == orders.pick_order(1, chain)


def test_validate_set_finds_a_reference_whose_result_depends_on_thread_order(tmp_path):
    path = write_rows(tmp_path / "v.jsonl", [block_sum_row(0, synced=True), block_sum_row(1, synced=False)])
    done = subprocess.run([sys.executable, "-m", "pytest_cudabench", "validate-set", str(path), "--runtime", "cpu",
                           "--cache-dir", str(tmp_path / "cache"), "--json", str(tmp_path / "v.json")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr
    records = {r["task"]: r for r in json.loads((tmp_path / "v.json").read_text())["rows"]}
    synced, unsynced = records["Block_Sum"], records["Block_Sum_Unsynced"]
    assert synced["defects"] == [] and synced["ref_order"] is True
    assert unsynced["ref_paper"] is True and unsynced["ref_run"] is True and unsynced["ref_order"] is False
    (defect,) = unsynced["defects"]
    assert defect.startswith("result depends on thread order: run ") and "shared-memory race" in defect
    assert "2 rows: 1 without defects, 1 with defects" in done.stdout


def test_a_row_too_large_for_the_cpu_runtime_still_gets_its_data_checks(tmp_path, monkeypatch):
    monkeypatch.setattr(program, "CPU_MAX_IO_BYTES", 1000)
    rows = load_rows(write_rows(tmp_path / "big.jsonl", [zero_accepting_row(0), affine_rows(1)[0]]))
    records = [validate.validate_row(r, "cpu", tmp_path / "cache", "") for r in rows]
    loose, affine = records
    assert "the CPU runtime runs rows up to 0 MiB" in loose["program_skipped"]
    assert loose["rejects_zero"] is False and loose["rejects_perturbed"] is True and loose["varied_output"] is True
    assert loose["ref_paper"] is None and loose["ref_order"] is None
    assert loose["defects"] == ["compare.py accepts an all-zero output", "compare.py accepts a constant output"]
    assert affine["defects"] == [] and affine["rejects_zero"] is True and affine["program_skipped"]
    lines = validate.table(records)
    assert "data checks only: the row moves" in lines[1] and lines[2].split()[3:6] == ["-", "-", "-"]
    assert lines[-1] == ("2 rows: 0 without defects, 1 with defects (1 of them data checks only), 1 data checks "
                         "only without defects (bench.cu not run), 0 skipped")


def test_a_gen_py_past_its_limit_or_failing_is_reported_on_its_row(tmp_path):
    slow = row(0, "Slow_Gen", 64, gen="import time\ntime.sleep(30)\n")
    broken = row(1, "Broken_Gen", 64, gen="raise SystemExit('no data today')\n")
    rows = load_rows(write_rows(tmp_path / "gen.jsonl", [slow, broken]))
    records = [validate.validate_row(r, "cpu", tmp_path / "cache", "", gen_timeout_s=2) for r in rows]
    assert records[0]["skipped"].endswith("gen.py ran past 2 s (raise --gen-timeout)")
    assert records[1]["skipped"] is None and "gen.py exited with 1: no data today" in records[1]["defects"][0]
