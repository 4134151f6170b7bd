"""The analytic roofline work of CUDABench-Set tasks: work.toml, loaded and checked once.

The published rows carry no work formula; work.toml is the project's own count of each task's minimum work (the
conventions of task_suite's `[roofline]`: FLOPs of the plainest correct algorithm, DRAM bytes of reading each input
and writing each output once). A task is keyed by `Row.task`: the same at every scale of a task, and unique where
one published name has two runs of rows (GELU and GELU_2 differ in tensors and work).

A formula names variables derived from the row's tensors - for a tensor `x` of shape (a, b): `x_size` (elements),
`x_bytes`, `x_0`, `x_1` - the same by position, `in0_size`, `in0_0`, ... `out0_bytes` (for rows whose tensor names
change with the scale), and `in_bytes`, `out_bytes`, `io_bytes` (all inputs, all outputs, both); where a tensor's own
name would collide with these (a tensor named `in` or `out`), the positional and total names win. A task's `constants`
are numbers its programs hard-code identically at every scale. Each `[[<task>.hand_count]]` gives small tensors and
the flops and bytes counted by hand; the loader evaluates the formulas on them and requires an exact match.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from ..errors import FormulaError, TaskError
from ..tasks.formulas import Formula
from ..tasks.loader import PRECISIONS
from .rows import DTYPES, Row, Tensor, parse_shape

SOURCE = "work.toml"
_TOTALS = ("in_bytes", "out_bytes", "io_bytes")
_TASK_KEYS = {"flops", "bytes", "precision", "constants", "hand_count"}
_COUNT_KEYS = {"inputs", "outputs", "flops", "bytes"}


@dataclass(frozen=True)
class RowWork:
    """A row's minimum work by the project's table: what the roofline score divides by."""

    flops: float
    dram_bytes: float
    precision: str
    formulas: dict[str, str] = field(hash=False)
    source: str = SOURCE


@dataclass(frozen=True)
class HandCount:
    """Small tensors whose work was counted by hand; the loader has checked the formulas give these numbers."""

    inputs: tuple[Tensor, ...]
    outputs: tuple[Tensor, ...]
    flops: float
    dram_bytes: float


@dataclass(frozen=True)
class TaskWork:
    task: str
    flops: Formula
    dram_bytes: Formula
    precision: str
    constants: dict[str, int | float]
    hand_counts: tuple[HandCount, ...] = ()

    def evaluate(self, inputs: tuple[Tensor, ...], outputs: tuple[Tensor, ...]) -> tuple[float, float]:
        values = {**tensor_variables(inputs, outputs), **self.constants}
        return float(self.flops.evaluate(values)), float(self.dram_bytes.evaluate(values))


@dataclass(frozen=True)
class WorkTable:
    tasks: dict[str, TaskWork]
    uncovered: dict[str, str]  # task -> why it has no formula


def tensor_variables(inputs: tuple[Tensor, ...], outputs: tuple[Tensor, ...]) -> dict[str, int]:
    """The names a work formula may use for these tensors (see the module docstring)."""
    values: dict[str, int] = {}
    named = [(t.name, t) for t in (*inputs, *outputs)]
    positional = [(f"in{i}", t) for i, t in enumerate(inputs)] + [(f"out{i}", t) for i, t in enumerate(outputs)]
    for prefix, tensor in named + positional:
        values[f"{prefix}_size"] = math.prod(tensor.shape)
        values[f"{prefix}_bytes"] = tensor.nbytes
        for axis, dim in enumerate(tensor.shape):
            values[f"{prefix}_{axis}"] = dim
    in_bytes, out_bytes = sum(t.nbytes for t in inputs), sum(t.nbytes for t in outputs)
    values.update(in_bytes=in_bytes, out_bytes=out_bytes, io_bytes=in_bytes + out_bytes)
    return values


def row_work(row: Row) -> RowWork | None:
    """The row's work by work.toml, or None when the table does not cover its task. Raises TaskError when the
    formulas do not evaluate on the row's tensors (a row whose tensors differ from the ones the table counted)."""
    work = load_table().tasks.get(row.task)
    if work is None:
        return None
    try:
        flops, dram = work.evaluate(row.inputs, row.outputs)
    except FormulaError as exc:
        raise TaskError(f"{row.path}:{row.line}", f"work.toml [{row.task}] does not fit this row: {exc}",
                        "inputs") from None
    if not (math.isfinite(flops) and math.isfinite(dram)) or flops < 0 or dram <= 0:
        raise TaskError(f"{row.path}:{row.line}", f"work.toml [{row.task}] evaluates to flops={flops}, "
                        f"bytes={dram} on this row; expected finite, flops >= 0 and bytes > 0", "inputs")
    return RowWork(flops=flops, dram_bytes=dram, precision=work.precision,
                   formulas={"flops": work.flops.text, "bytes": work.dram_bytes.text})


def covered_tasks() -> tuple[str, ...]:
    return tuple(load_table().tasks)


def uncovered() -> dict[str, str]:
    """Tasks of the published set the table leaves out on purpose, each with the reason."""
    return dict(load_table().uncovered)


@functools.cache
def load_table() -> WorkTable:
    text = resources.files(__package__).joinpath(SOURCE).read_text()
    return parse_table(text, SOURCE)


def parse_table(text: str, where: str) -> WorkTable:
    """Parses and checks a work table; raises TaskError naming the file, the task and the field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TaskError(where, f"not valid TOML: {exc}") from None
    skipped = data.pop("uncovered", {})
    if not isinstance(skipped, dict) or not all(isinstance(v, str) and v.strip() for v in skipped.values()):
        raise TaskError(where, "must be a table of task = \"reason it has no formula\"", "uncovered")
    tasks = {}
    for task, table in data.items():
        if task in skipped:
            raise TaskError(where, "is both covered and listed in [uncovered]; keep one", task)
        tasks[task] = _parse_task(task, table, where)
    return WorkTable(tasks=tasks, uncovered=dict(skipped))


def _parse_task(task: str, table: Any, where: str) -> TaskWork:
    if not isinstance(table, dict):
        raise TaskError(where, "must be a table with flops, bytes, precision and hand_count", task)
    unknown = sorted(set(table) - _TASK_KEYS)
    if unknown:
        raise TaskError(where, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_TASK_KEYS))}", task)
    formulas = {}
    for key in ("flops", "bytes"):
        if not isinstance(table.get(key), (str, int, float)) or isinstance(table.get(key), bool):
            raise TaskError(where, "missing or not a formula (a string such as \"2 * x_size\")", f"{task}.{key}")
        try:
            formulas[key] = Formula(table[key])
        except FormulaError as exc:
            raise TaskError(where, str(exc), f"{task}.{key}") from None
    precision = table.get("precision")
    if precision not in PRECISIONS:
        raise TaskError(where, f"must be one of {', '.join(PRECISIONS)}, got {precision!r}", f"{task}.precision")
    constants = table.get("constants", {})
    if not isinstance(constants, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in constants.values()):
        raise TaskError(where, "must be a table of name = number", f"{task}.constants")
    work = TaskWork(task=task, flops=formulas["flops"], dram_bytes=formulas["bytes"], precision=precision,
                    constants=dict(constants))
    counts = table.get("hand_count")
    if not isinstance(counts, list) or not counts:
        raise TaskError(where, "needs at least one [[<task>.hand_count]] with small tensors counted by hand",
                        f"{task}.hand_count")
    checked = tuple(_check_hand_count(work, count, where, f"{task}.hand_count[{i}]") for i, count in enumerate(counts))
    return dataclasses.replace(work, hand_counts=checked)


def _hand_tensors(entry: Any, where: str, at: str) -> tuple[Tensor, ...]:
    """`{ name = "float32 (2, 3)" }`: the tensors of a hand count, written as dtype and shape."""
    if not isinstance(entry, dict):
        raise TaskError(where, "must be a table of name = \"dtype (shape)\"", at)
    tensors = []
    for name, spec in entry.items():
        dtype, _, shape = str(spec).partition(" ")
        if dtype not in DTYPES:
            raise TaskError(where, f"dtype must be one of {', '.join(DTYPES)}, got {spec!r}", f"{at}.{name}")
        tensors.append(Tensor(name, dtype, parse_shape(shape.strip(), where, f"{at}.{name}")))
    return tuple(tensors)


def _check_hand_count(work: TaskWork, count: Any, where: str, at: str) -> HandCount:
    if not isinstance(count, dict) or set(count) != _COUNT_KEYS:
        raise TaskError(where, f"must have exactly the keys {', '.join(sorted(_COUNT_KEYS))}", at)
    inputs = _hand_tensors(count["inputs"], where, f"{at}.inputs")
    outputs = _hand_tensors(count["outputs"], where, f"{at}.outputs")
    variables = tensor_variables(inputs, outputs)
    clash = sorted(set(work.constants) & set(variables))
    if clash:
        raise TaskError(where, f"constant(s) {', '.join(clash)} shadow tensor variables; rename them",
                        f"{work.task}.constants")
    known = set(variables) | set(work.constants)
    for key, formula in (("flops", work.flops), ("bytes", work.dram_bytes)):
        unknown = sorted(formula.names - known)
        if unknown:
            raise TaskError(where, f"'{formula.text}' uses unknown name(s) {', '.join(unknown)}; known here: "
                            f"{', '.join(sorted(known))}", f"{work.task}.{key}")
    try:
        flops, dram = work.evaluate(inputs, outputs)
    except FormulaError as exc:
        raise TaskError(where, str(exc), at) from None
    for key, got, counted in (("flops", flops, count["flops"]), ("bytes", dram, count["bytes"])):
        if not isinstance(counted, (int, float)) or isinstance(counted, bool):
            raise TaskError(where, f"must be a number, got {counted!r}", f"{at}.{key}")
        if got != counted:
            raise TaskError(where, f"'{(work.flops if key == 'flops' else work.dram_bytes).text}' gives {got:g} "
                            f"for these tensors, the hand count says {counted}; fix the formula or the count",
                            f"{at}.{key}")
    return HandCount(inputs=inputs, outputs=outputs, flops=flops, dram_bytes=dram)
