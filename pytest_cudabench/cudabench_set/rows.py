"""Rows of a CUDABench-Set JSONL file: parsed and checked, grouped into tasks and scales.

A row: `id`, `task_name`, `inputs`/`outputs` (lists of {name, dtype, shape: "(128, 4)"}), `bench.cu` (a complete
program reading data/<input>.bin and writing data/<output>.bin), `gen.py` (writes the inputs and the reference
outputs into data/), `compare.py` (prints T or F), `level1_prompt`..`level3_prompt`; optional `gpu`,
`task_description`. The rows of one task are its scales, in file order (scale1 is the first, the smallest in the
published set). A task name used by two separate runs of rows (GELU in the published set) names the second run
`<name>_2`, so every item name is unique.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, TaskError

DTYPES = {"float32": 4, "float64": 8, "int8": 1, "uint8": 1, "int16": 2, "uint16": 2, "int32": 4, "uint32": 4,
          "int64": 8, "uint64": 8, "float16": 2}
LEVELS = (1, 2, 3)
_SHAPE = re.compile(r"^\(\s*(\d+\s*(,\s*\d+\s*)*,?)?\s*\)$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TASK_NAME = re.compile(r"^\w[\w.+-]*$")  # it becomes part of the item's node id: no spaces, no "::", no "/"
_TEXT_KEYS = ("bench.cu", "gen.py", "compare.py", "level1_prompt", "level2_prompt", "level3_prompt")


@dataclass(frozen=True)
class Tensor:
    name: str
    dtype: str
    shape: tuple[int, ...]

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * DTYPES[self.dtype]

    def describe(self) -> str:
        return f"{self.name}: {self.dtype}, shape {self.shape}"


@dataclass(frozen=True, eq=False)
class Row:
    """One row, with its place: `task` (unique task key), `scale` (1-based within the task), file and line."""

    id: int
    task_name: str
    task: str
    scale: int
    inputs: tuple[Tensor, ...]
    outputs: tuple[Tensor, ...]
    bench_cu: str
    gen_py: str
    compare_py: str
    prompts: dict[int, str] = field(hash=False)
    path: str = ""
    line: int = 0

    @property
    def key(self) -> str:
        """The stable key of the row: replay files and generation caches use it as the task id."""
        return f"cudabench-set/{self.task}/scale{self.scale}"

    @property
    def io_bytes(self) -> int:
        return sum(t.nbytes for t in (*self.inputs, *self.outputs))

    @property
    def digest(self) -> str:
        """Hash of what makes the row's data and verdict: the generator, the comparison and the I/O spec."""
        spec = json.dumps([[t.name, t.dtype, t.shape] for t in (*self.inputs, *self.outputs)])
        return hashlib.sha256("\0".join((self.gen_py, self.compare_py, spec)).encode()).hexdigest()[:20]


class RowTask:
    """A row as a benchmark task (tasks.bench_task.BenchTask): the record's identity, and the reference model's
    answer (the row's bench.cu); replay files and caches key answers by `cudabench-set/<task>/scale<k>`."""

    domain = "cudabench-set"
    tier: str | None = None

    def __init__(self, row: Row):
        self.row = row
        self.id = row.key
        self.title: str | None = row.task_name

    def solution_source(self) -> str:
        return self.row.bench_cu


def parse_shape(text: object, where: str, key: str) -> tuple[int, ...]:
    if isinstance(text, list) and all(isinstance(v, int) and v >= 0 for v in text):
        return tuple(text)
    if not isinstance(text, str) or not _SHAPE.match(text):
        raise TaskError(where, f"shape must be a string like \"(128, 4)\", got {text!r}", key)
    return tuple(int(v) for v in text.strip("() ").split(",") if v.strip())


def _tensors(record: dict, key: str, where: str) -> tuple[Tensor, ...]:
    value = record.get(key)
    # An empty list is let through (one published row declares no outputs); validate-set reports it.
    if not isinstance(value, list):
        raise TaskError(where, "must be a list of {name, dtype, shape}", key)
    tensors = []
    for i, entry in enumerate(value):
        at = f"{key}[{i}]"
        if not isinstance(entry, dict):
            raise TaskError(where, "must be an object {name, dtype, shape}", at)
        name, dtype = entry.get("name"), entry.get("dtype")
        if not isinstance(name, str) or not _NAME.match(name):
            raise TaskError(where, f"name must be an identifier (it names data/<name>.bin), got {name!r}", f"{at}.name")
        if dtype not in DTYPES:
            raise TaskError(where, f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}", f"{at}.dtype")
        tensors.append(Tensor(name, dtype, parse_shape(entry.get("shape"), where, f"{at}.shape")))
    return tuple(tensors)


def parse_record(record: object, path: str, line: int) -> dict:
    """Checks one decoded line; returns the fields Row needs except the task key and scale."""
    where = f"{path}:{line}"
    if not isinstance(record, dict):
        raise TaskError(where, "each line must be a JSON object (a CUDABench-Set row)")
    if not isinstance(record.get("id"), int) or isinstance(record.get("id"), bool):
        raise TaskError(where, f"must be an integer, got {record.get('id')!r}", "id")
    if not isinstance(record.get("task_name"), str) or not _TASK_NAME.match(record["task_name"]):
        raise TaskError(where, f"must be a name of letters, digits, _ . + -, got {record.get('task_name')!r}", "task_name")
    for key in _TEXT_KEYS:
        if not isinstance(record.get(key), str) or not record[key].strip():
            raise TaskError(where, "missing or empty (a string is required)", key)
    inputs, outputs = _tensors(record, "inputs", where), _tensors(record, "outputs", where)
    names = [t.name for t in (*inputs, *outputs)]
    if len(set(names)) != len(names):
        raise TaskError(where, f"input and output names must be distinct: {names}", "outputs")
    return {"id": record["id"], "task_name": record["task_name"], "inputs": inputs, "outputs": outputs,
            "bench_cu": record["bench.cu"], "gen_py": record["gen.py"], "compare_py": record["compare.py"],
            "prompts": {level: record[f"level{level}_prompt"] for level in LEVELS}, "path": path, "line": line}


def load_rows(path: Path | str) -> list[Row]:
    """Every row of the file, in order. Raises TaskError naming the file, line and key of the first bad row."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise TaskError(str(path), f"cannot read: {exc.strerror}") from None
    parsed = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TaskError(f"{path}:{lineno}", f"not valid JSON ({exc.msg} at column {exc.colno})") from None
        parsed.append(parse_record(record, str(path), lineno))
    if not parsed:
        raise TaskError(str(path), "no rows: a CUDABench-Set file has one JSON object per line")
    rows: list[Row] = []
    runs: dict[str, int] = {}  # task name -> runs of rows seen
    previous = None
    scale = 0
    for fields in parsed:
        name = fields["task_name"]
        if name != previous:
            runs[name] = runs.get(name, 0) + 1
            scale = 0
            previous = name
        scale += 1
        task = name if runs[name] == 1 else f"{name}_{runs[name]}"
        rows.append(Row(task=task, scale=scale, **fields))
    seen: dict[int, Row] = {}
    for row in rows:
        if row.id in seen:
            raise TaskError(f"{path}:{row.line}", f"id {row.id} already used on line {seen[row.id].line}", "id")
        seen[row.id] = row
    return rows


def looks_like_set(path: Path) -> bool:
    """Whether a .jsonl file is a CUDABench-Set file (its first line has the row keys); cheap, for collection."""
    try:
        with open(path) as f:
            first = f.readline(1 << 16)
    except OSError:
        return False
    return '"bench.cu"' in first and '"gen.py"' in first or '"task_name"' in first and '"compare.py"' in first


def parse_scales(origin: str, value: Any) -> tuple[int, ...] | None:
    if value in (None, ""):
        return None
    items = value if isinstance(value, list) else str(value).split(",")
    try:
        scales = tuple(sorted({int(v) for v in items}))
    except ValueError:
        raise ConfigError(f"{origin}: expected scale numbers like 1 or 1,2, got {value!r}") from None
    if not scales or min(scales) < 1:
        raise ConfigError(f"{origin}: scales are numbered from 1, got {value!r}")
    return scales
