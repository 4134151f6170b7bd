"""The stage recorder that the kernel and the CUDABench-Set evaluations share as peers, the task protocol both
families meet, the one first-request builder, the error classification and the items' outcome (session/)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.paths import SUITE

from pytest_cudabench.config import Settings
from pytest_cudabench.cudabench_set.evaluation import SET_STAGES, SetEvaluation, SetOptions
from pytest_cudabench.cudabench_set.rows import Row, RowTask
from pytest_cudabench.errors import (
    ApiAccessDenied,
    ConfigError,
    HarnessError,
    ModelError,
    StageFailure,
    TaskError,
    error_kind,
)
from pytest_cudabench.generation.models import ReferenceModel
from pytest_cudabench.generation.prompts import first_request, messages, prompt_hash
from pytest_cudabench.pipeline import STAGES, Evaluation, StageRecorder
from pytest_cudabench.session.families import KernelFamily, SetRowFamily, record_outcome
from pytest_cudabench.tasks.loader import find_suite_root, load_task

TASK_DIR = SUITE / "basics" / "vector_add"
SETTINGS = Settings(model="reference", seed=1, runtime="cpu")


@pytest.fixture(scope="module")
def task():
    return load_task(TASK_DIR, find_suite_root(TASK_DIR))


def a_row() -> Row:
    return Row(id=7, task_name="Add", task="Add", scale=1, inputs=(), outputs=(), bench_cu="int main() {}\n",
               gen_py="pass", compare_py="print('T')", prompts={1: "add", 2: "add", 3: "add"}, path="s.jsonl", line=3)


def test_the_kernel_and_the_set_evaluations_are_peers_over_one_recorder(task):
    kernel = Evaluation(task, 1, 0, SETTINGS)
    row_set = SetEvaluation(a_row(), 1, 0, SETTINGS, "s.jsonl::Add::scale1::level1[sample0]", SetOptions())
    assert isinstance(kernel, StageRecorder) and isinstance(row_set, StageRecorder)
    assert not isinstance(row_set, Evaluation)
    assert (kernel.STAGES, row_set.STAGES) == (STAGES, SET_STAGES)
    assert "judge" not in kernel.STAGES and "data" in row_set.STAGES
    # A refine candidate is an evaluation of the same family (the set's used to be a kernel Evaluation).
    assert type(row_set.candidate()) is SetEvaluation and type(kernel.candidate()) is Evaluation
    assert row_set.candidate().result["set"]["row_id"] == 7


def test_a_stage_outside_the_familys_list_is_refused(task):
    with (pytest.raises(AssertionError, match="'judge' is not one of Evaluation.STAGES"),
          Evaluation(task, 1, 0, SETTINGS).stage("judge")):
        pass


def test_a_set_fact_is_written_once_into_its_stage_and_the_set_record():
    evaluation = SetEvaluation(a_row(), 1, 0, SETTINGS, "", SetOptions())
    with evaluation.stage("judge") as record:
        evaluation.record_set_facts(record, compare={"passed": True}, own_check={"ok": None}, judges_agree=None)
    with evaluation.stage("data") as record:
        evaluation.record_set_run(record, "data", {"seed": 3, "files": 2})
    judge, data = evaluation.result["stages"]["judge"], evaluation.result["stages"]["data"]
    assert judge["compare"] == evaluation.result["set"]["compare"] == {"passed": True}
    assert data["seed"] == 3 and evaluation.result["set"]["data"] == {"seed": 3, "files": 2}


def test_a_row_is_a_bench_task_of_its_own_domain():
    row = a_row()
    result = SetEvaluation(row, 2, 1, SETTINGS, "", SetOptions()).result
    assert (result["task"], result["title"], result["domain"], result["tier"]) == \
        ("cudabench-set/Add/scale1", "Add", "cudabench-set", None)
    answer = ReferenceModel().generate(SetRowFamily(row, SetOptions()).request(2, 1)).content
    assert RowTask(row).solution_source().strip() in answer


def test_one_first_request_for_items_validate_and_doctor(task):
    request = first_request(task, 2, 1)
    assert request.messages == messages(task, 2) and request.prompt_hash == prompt_hash(messages(task, 2))
    assert (request.level, request.sample, request.round) == (2, 1, 0)
    assert KernelFamily(task).request(2, 1) == request


@pytest.mark.parametrize(("exc", "kind"), [
    (ApiAccessDenied("401"), "api"), (ModelError("down"), "model"), (TaskError("t", "bad"), "task"),
    (ConfigError("bad"), "config"), (HarnessError("broke"), "harness"), (RuntimeError("bug"), "harness"),
    (None, "harness"),
])
def test_error_kind_is_decided_in_one_place(exc, kind):
    assert error_kind(exc) == kind


def test_the_recorder_owns_the_message_of_an_error_no_stage_recorded(task):
    evaluation = Evaluation(task, 1, 0, SETTINGS)
    evaluation.result["stage_reached"] = "generate"
    assert record_outcome(evaluation, "call", "failed", RuntimeError("a bug"))
    result = evaluation.result
    assert (result["outcome"], result["error_kind"], result["failed_stage"], result["message"]) == \
        ("error", "harness", "generate", "a bug")
    # A stage's own failure keeps the stage's record.
    failed = Evaluation(task, 1, 0, SETTINGS)
    with pytest.raises(StageFailure), failed.stage("compile"):
        raise StageFailure("compile", "nvcc said no")
    assert record_outcome(failed, "call", "failed", StageFailure("compile", "nvcc said no"))
    assert (failed.result["outcome"], failed.result["message"]) == ("failed", "nvcc said no")
    assert not record_outcome(failed, "teardown", "passed", None)


def test_the_facade_of_the_pytest_layer_knows_nothing_of_pytest():
    import ast

    import pytest_cudabench.session

    found = []
    for path in Path(pytest_cudabench.session.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            found += [f"{path.name}: {n}" for n in names if n.split(".")[0] in ("pytest", "_pytest", "xdist")]
    assert not found


def test_the_pytest_layer_imports_the_domain_through_session():
    """plugin/ is glue: the domain comes through session/, besides the settings and the error types."""
    import ast

    import pytest_cudabench.plugin

    allowed = {"session", "config", "errors", "plugin"}
    found = set()
    for path in Path(pytest_cudabench.plugin.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 2:
                found.add((node.module or "").split(".")[0])
    assert found <= allowed, sorted(found - allowed)


def test_the_run_ledger_synthesizes_a_crashed_workers_item_and_says_why_the_run_stopped(tmp_path):
    from pytest_cudabench.generation.service import GenerationService
    from pytest_cudabench.session import RunLedger

    settings = Settings(model="reference", seed=1, runtime="cpu", cache_dir=str(tmp_path))
    ledger = RunLedger(settings, GenerationService(ReferenceModel(), settings), pace=False)
    nodeid = "task_suite/basics/vector_add::level1[sample0]"
    ledger.item_reported(nodeid, None, failed=True, failure="Traceback\nworker 'gw0' crashed while running it",
                         worker="gw0", teardown=False)
    item = ledger.items[nodeid]
    assert (item["outcome"], item["failed_stage"], item["message"], item["worker"]) == (
        "failed", "crash", "worker 'gw0' crashed while running it", "gw0")
    ledger.item_reported("tests/test_x.py::test_y", None, failed=True, failure="boom", worker=None, teardown=False)
    assert list(ledger.items) == [nodeid]  # not an item of the benchmark
    ledger.stopped_early("stopping after 1 failures", interrupted=False)
    assert ledger.stopped == "stopped early: stopping after 1 failures"
