"""The roofline work table of CUDABench-Set tasks (cudabench_set/work.toml, work.py)."""

from __future__ import annotations

import math
import os
import textwrap
from pathlib import Path

import pytest
from helpers.paths import REPO

from pytest_cudabench.cudabench_set import work
from pytest_cudabench.cudabench_set.rows import Row, Tensor, load_rows
from pytest_cudabench.errors import TaskError

GOOD_TASK = """
[Axpy]
# a multiply-add per element
flops = "2 * x_size"
bytes = "io_bytes"
precision = "fp32"
[[Axpy.hand_count]]
inputs = { x = "float32 (3)", y = "float32 (3)" }
outputs = { z = "float32 (3)" }
flops = 6
bytes = 36
"""


def _table(text: str) -> work.WorkTable:
    return work.parse_table(textwrap.dedent(text), "test-work.toml")


def _row(task: str, inputs: list[Tensor], outputs: list[Tensor], scale: int = 1) -> Row:
    return Row(id=scale, task_name=task, task=task, scale=scale, inputs=tuple(inputs), outputs=tuple(outputs),
               bench_cu="", gen_py="", compare_py="", prompts={}, path="hand-made.jsonl", line=scale)


def test_a_good_table_parses_with_its_hand_count():
    table = _table(GOOD_TASK + '\n[uncovered]\nSolver = "stops on convergence"\n')
    assert list(table.tasks) == ["Axpy"]
    assert table.uncovered == {"Solver": "stops on convergence"}
    (count,) = table.tasks["Axpy"].hand_counts
    assert (count.flops, count.dram_bytes) == (6, 36)


@pytest.mark.parametrize("change, field, words", [
    (('"2 * x_size"', '"2 * * x_size"'), "Axpy.flops", "not an arithmetic expression"),
    (('"2 * x_size"', '"__import__(1)"'), "Axpy.flops", "not allowed"),
    (('"io_bytes"', '"io_bytes + w_bytes"'), "Axpy.bytes", "unknown name(s) w_bytes"),
    (("flops = 6", "flops = 7"), "Axpy.hand_count[0].flops", "gives 6 for these tensors, the hand count says 7"),
    (("bytes = 36", "bytes = 24"), "Axpy.hand_count[0].bytes", "gives 36"),
    (('"fp32"', '"fp33"'), "Axpy.precision", "must be one of"),
    (('"float32 (3)", y', '"float31 (3)", y'), "Axpy.hand_count[0].inputs.x", "dtype must be one of"),
    (("precision =", "flavour = 1\nprecision ="), "Axpy", "unknown key(s) flavour"),
])
def test_the_loader_rejects_a_bad_entry_naming_task_and_field(change, field, words):
    with pytest.raises(TaskError) as info:
        _table(GOOD_TASK.replace(*change))
    assert info.value.field == field
    assert words in str(info.value)
    assert "test-work.toml" in str(info.value)


def test_a_task_needs_a_hand_count():
    text = GOOD_TASK.split("[[Axpy.hand_count]]")[0]
    with pytest.raises(TaskError, match="hand_count") as info:
        _table(text)
    assert info.value.field == "Axpy.hand_count"


def test_a_constant_may_not_shadow_a_tensor_variable():
    with pytest.raises(TaskError, match="shadow") as info:
        _table(GOOD_TASK.replace('precision = "fp32"', 'precision = "fp32"\nconstants = { x_size = 4 }'))
    assert info.value.field == "Axpy.constants"


def test_a_task_cannot_be_both_covered_and_uncovered():
    with pytest.raises(TaskError, match="both covered") as info:
        _table(GOOD_TASK + '\n[uncovered]\nAxpy = "oops"\n')
    assert info.value.field == "Axpy"


def test_row_work_of_a_hand_made_gemm_row_gives_the_hand_numbers():
    row = _row("Matrix_Multiplication", [Tensor("matA", "float32", (2, 4)), Tensor("matB", "float32", (4, 3))],
               [Tensor("matC_out", "float32", (2, 3))])
    result = work.row_work(row)
    assert result == work.RowWork(flops=48.0, dram_bytes=104.0, precision="fp32",
                                  formulas={"flops": "2 * matC_out_size * matA_1", "bytes": "io_bytes"})
    assert result is not None and result.source == "work.toml"


def test_row_work_uses_constants_and_positional_names():
    stereo = _row("Stereo_Disparity", [Tensor("left", "uint32", (2, 2)), Tensor("right", "uint32", (2, 2))],
                  [Tensor("output", "uint32", (4,))])
    result = work.row_work(stereo)
    assert result is not None and (result.flops, result.dram_bytes, result.precision) == (2996.0, 48.0, "int")
    # Matrix_Vector_Multiplication's tensor names change with the scale: its formula counts by position
    mv = _row("Matrix_Vector_Multiplication", [Tensor("mvA_99", "float32", (2, 3)), Tensor("mvv_99", "float32", (3,))],
              [Tensor("mvy_cuda_99", "float32", (2,))])
    result = work.row_work(mv)
    assert result is not None and (result.flops, result.dram_bytes) == (12.0, 44.0)


def test_row_work_is_none_for_tasks_the_table_does_not_count():
    assert work.row_work(_row("Matrix_Power", [Tensor("matA", "float32", (4, 4))], [])) is None
    assert work.row_work(_row("Affine", [Tensor("x", "float32", (4,))], [Tensor("y", "float32", (4,))])) is None
    assert "Matrix_Power" in work.uncovered() and "Matrix_Power" not in work.covered_tasks()


def test_a_row_whose_tensors_do_not_fit_the_formula_is_an_error_naming_row_and_task():
    row = _row("Reduction", [Tensor("values", "float32", (8,))], [Tensor("total", "float32", (1,))])
    with pytest.raises(TaskError, match=r"\[Reduction\] does not fit this row.*reduce_input_size") as info:
        work.row_work(row)
    assert "hand-made.jsonl:1" in str(info.value)


@pytest.mark.parametrize("task", work.covered_tasks())
def test_every_task_evaluates_to_sensible_work_on_its_hand_count(task):
    entry = work.load_table().tasks[task]
    assert entry.hand_counts, task
    for count in entry.hand_counts:
        flops, dram = entry.evaluate(count.inputs, count.outputs)
        assert math.isfinite(flops) and math.isfinite(dram)
        # zero FLOPs is pure data movement, and only that is precision "none"
        assert (flops == 0) == (entry.precision == "none") and flops >= 0
        # every output is written once at least (some rows declare a smaller output than the program writes)
        assert dram >= min(t.nbytes for t in count.outputs) and dram > 0


def _local_set() -> Path | None:
    root = REPO
    candidates = [os.environ.get("CUDABENCH_SET_FILE", ""),
                  root / "shared/cudabench-set/CUDABench-Set.jsonl",
                  root.parent / "shared/cudabench-set/CUDABench-Set.jsonl"]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


@pytest.mark.skipif(_local_set() is None, reason="the published CUDABench-Set.jsonl is not here (it is not part of "
                    "the project; set CUDABENCH_SET_FILE to a copy to run this)")
def test_every_row_of_the_published_set_is_covered_or_listed_and_evaluates():
    path = _local_set()
    assert path is not None
    rows = load_rows(path)
    tasks = {row.task for row in rows}
    assert tasks == set(work.covered_tasks()) | set(work.uncovered()), "table and set name different tasks"
    previous: dict[str, tuple[Row, work.RowWork]] = {}
    for row in rows:
        result = work.row_work(row)
        if result is None:
            assert row.task in work.uncovered()
            continue
        assert math.isfinite(result.flops) and math.isfinite(result.dram_bytes), row.key
        assert result.dram_bytes > 0 and (result.flops > 0 or result.precision == "none"), row.key
        if row.task in previous:
            before, before_work = previous[row.task]
            pairs = zip((*before.inputs, *before.outputs), (*row.inputs, *row.outputs), strict=True)
            # scales of the published set sometimes shrink a tensor; where none shrinks, work may not either
            if all(math.prod(a.shape) <= math.prod(b.shape) for a, b in pairs):
                assert result.flops >= before_work.flops and result.dram_bytes >= before_work.dram_bytes, row.key
        previous[row.task] = (row, result)
