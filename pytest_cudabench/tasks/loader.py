"""Tasks: loading and validating a task directory (task.toml, reference.py, solution.cu).

A task directory `task_suite/<domain>/<name>/` holds:
  task.toml    metadata, prompts for the three levels, the `solve` interface, sizes, tolerances, roofline work
  reference.py `reference(**inputs_and_scalars)` in numpy; optional `generate(sizes, rng)` and `check(...)`
  solution.cu  a correct CUDA answer written for this project

Every problem is reported as a TaskError naming the file and the field. See task_suite/README.md for the format.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import TaskError
from .formulas import Formula, FormulaError

TASK_FILE = "task.toml"
REFERENCE_FILE = "reference.py"
SOLUTION_FILE = "solution.cu"

TIERS = ("easy", "medium", "hard")
LEVELS = (1, 2, 3)
ROLES = ("input", "output", "inout", "scalar")
# Roofline precision classes: which peak FLOP/s a task's arithmetic is bounded by.
PRECISIONS = ("fp32", "fp64", "fp16", "fp16_tensor", "bf16_tensor", "int", "int8_tensor", "none")
BENCH_SCALES = 5


@dataclass(frozen=True)
class DType:
    name: str
    c_type: str
    numpy: type
    header: str | None = None  # header the prompt must mention for this type

    @property
    def is_float(self) -> bool:
        return np.issubdtype(self.numpy, np.floating)

    @property
    def itemsize(self) -> int:
        return np.dtype(self.numpy).itemsize


DTYPES: dict[str, DType] = {
    d.name: d
    for d in (
        DType("float32", "float", np.float32),
        DType("float64", "double", np.float64),
        DType("float16", "__half", np.float16, "cuda_fp16.h"),
        DType("int8", "int8_t", np.int8),
        DType("uint8", "uint8_t", np.uint8),
        DType("int16", "int16_t", np.int16),
        DType("int32", "int", np.int32),
        DType("uint32", "unsigned int", np.uint32),
        DType("int64", "long long", np.int64),
        DType("uint64", "unsigned long long", np.uint64),
    )
}

# Default tolerances per dtype (absolute, relative); integers compare exactly.
DEFAULT_TOLERANCE = {"float32": (1e-5, 1e-5), "float64": (1e-10, 1e-10), "float16": (1e-2, 1e-2)}


@dataclass(frozen=True)
class Arg:
    """One parameter of `solve`, in declaration order."""

    name: str
    dtype: DType
    role: str
    shape: tuple[Formula, ...] = ()
    value: Formula | None = None  # scalars: expression of sizes (default: the size of the same name)
    low: Formula | None = None  # inputs: range of the default random generator
    high: Formula | None = None
    atol: float | None = None  # outputs: tolerance overrides
    rtol: float | None = None

    @property
    def is_pointer(self) -> bool:
        return self.role != "scalar"

    @property
    def is_read(self) -> bool:
        return self.role in ("input", "inout")

    @property
    def is_written(self) -> bool:
        return self.role in ("output", "inout")

    def c_declaration(self) -> str:
        if self.role == "scalar":
            return f"{self.dtype.c_type} {self.name}"
        const = "const " if self.role == "input" else ""
        return f"{const}{self.dtype.c_type}* {self.name}"

    def shape_for(self, sizes: Mapping[str, int]) -> tuple[int, ...]:
        return tuple(int(f.evaluate(sizes)) for f in self.shape)

    def tolerance(self, task_tolerance: Mapping[str, tuple[float, float]]) -> tuple[float, float]:
        atol, rtol = task_tolerance.get(self.dtype.name, DEFAULT_TOLERANCE.get(self.dtype.name, (0.0, 0.0)))
        return (self.atol if self.atol is not None else atol, self.rtol if self.rtol is not None else rtol)


@dataclass(frozen=True)
class Sizes:
    """Size names: ranges for randomized correctness cases, fixed edge cases, and five benchmark scales."""

    test_ranges: dict[str, tuple[int, int]]  # free sizes drawn at random in [low, high]
    derived: dict[str, Formula]  # sizes computed from the others (e.g. n = 2**log2n)
    cases: tuple[dict[str, int], ...]  # fixed correctness cases (edge cases), free sizes only
    bench: tuple[dict[str, int], ...]  # the five benchmark scales, free sizes only

    @property
    def free_names(self) -> tuple[str, ...]:
        return tuple(self.test_ranges)

    def complete(self, free: Mapping[str, int]) -> dict[str, int]:
        """Adds the derived sizes to a choice of free sizes."""
        values = dict(free)
        for name, formula in self.derived.items():
            values[name] = int(formula.evaluate(values))
        return values


@dataclass(frozen=True)
class HandCount:
    """FLOPs and bytes an author counted by hand at one small size, against which the formulas are checked."""
    sizes: dict[str, int]
    flops: float
    dram_bytes: float


@dataclass(frozen=True)
class Roofline:
    flops: Formula
    dram_bytes: Formula
    precision: str
    hand_counts: tuple[HandCount, ...] = ()

    def work(self, sizes: Mapping[str, int]) -> tuple[float, float]:
        return float(self.flops.evaluate(sizes)), float(self.dram_bytes.evaluate(sizes))


@dataclass(frozen=True)
class Task:
    id: str  # path under the suite root, e.g. "linalg/sgemm"
    path: Path
    title: str
    domain: str
    tier: str
    tags: tuple[str, ...]
    prompts: dict[int, str]
    args: tuple[Arg, ...]
    sizes: Sizes
    tolerance: dict[str, tuple[float, float]]
    roofline: Roofline
    libraries: tuple[str, ...]
    timeout_s: float
    reference: Callable[..., Any] = field(repr=False, compare=False)
    generate: Callable[..., Any] | None = field(default=None, repr=False, compare=False)
    check: Callable[..., Any] | None = field(default=None, repr=False, compare=False)
    # Data-dependent minimum work on one input (graph traversals, ragged lengths): (flops, bytes), by keyword args as
    # `reference` receives them. Scores use it on the benchmark inputs; the formulas stay the task's model.
    work: Callable[..., Any] | None = field(default=None, repr=False, compare=False)

    @property
    def solution_path(self) -> Path:
        return self.path / SOLUTION_FILE

    def solution_source(self) -> str:
        return self.solution_path.read_text()

    @property
    def inputs(self) -> tuple[Arg, ...]:
        return tuple(a for a in self.args if a.is_read)

    @property
    def outputs(self) -> tuple[Arg, ...]:
        return tuple(a for a in self.args if a.is_written)

    @property
    def scalars(self) -> tuple[Arg, ...]:
        return tuple(a for a in self.args if a.role == "scalar")

    def signature(self) -> str:
        params = ", ".join(a.c_declaration() for a in self.args)
        return f'extern "C" void solve({params})'

    def buffer_bytes(self, sizes: Mapping[str, int]) -> int:
        """Bytes of all pointer arguments at these sizes: the data a call moves at least once."""
        return sum(int(np.prod(a.shape_for(sizes))) * a.dtype.itemsize for a in self.args if a.is_pointer)

    def compulsory_bytes(self, sizes: Mapping[str, int]) -> int:
        """Traffic that no algorithm avoids short of skipping data: every buffer once, inouts read and written."""
        return self.buffer_bytes(sizes) + sum(int(np.prod(a.shape_for(sizes))) * a.dtype.itemsize
                                              for a in self.args if a.role == "inout")

    def scalar_values(self, sizes: Mapping[str, int]) -> dict[str, int | float]:
        values: dict[str, int | float] = {}
        for arg in self.scalars:
            raw = arg.value.evaluate(sizes) if arg.value is not None else sizes[arg.name]
            values[arg.name] = float(raw) if arg.dtype.is_float else int(raw)
        return values


# ----------------------------------------------------------------------------- loading

_TOP_KEYS = {"id", "title", "domain", "tier", "tags", "prompts", "args", "sizes", "tolerance", "roofline",
             "libraries", "timeout_s"}
_ARG_KEYS = {"name", "dtype", "role", "shape", "value", "low", "high", "atol", "rtol"}


class _Reader:
    """Typed access to a parsed TOML table, raising TaskError that names file and field."""

    def __init__(self, path: Path | str):
        self.path = path

    def fail(self, where: str | None, message: str) -> TaskError:
        return TaskError(self.path, message, where)

    def get(self, table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str,
            default: Any = ..., what: str = "") -> Any:
        if key not in table:
            if default is ...:
                raise self.fail(where, f"'{key}' is missing{(' (' + what + ')') if what else ''}")
            return default
        value = table[key]
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.fail(where, f"'{key}' must be {_kind_name(kind)}, not a boolean")
        if not isinstance(value, kind):
            raise self.fail(where, f"'{key}' must be {_kind_name(kind)}, not {type(value).__name__} {value!r}")
        return value

    def formula(self, text: Any, where: str, key: str) -> Formula:
        if isinstance(text, bool) or not isinstance(text, (str, int, float)):
            raise self.fail(where, f"'{key}' must be a number or an arithmetic expression string")
        try:
            return Formula(text)
        except FormulaError as exc:
            raise self.fail(where, f"'{key}': {exc}") from None

    def unknown_keys(self, table: Mapping[str, Any], allowed: set[str], where: str | None) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise self.fail(where, f"unknown key(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(sorted(allowed))}")


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "a string", int: "an integer", float: "a number", list: "a list", dict: "a table", bool: "a boolean"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def load_task(path: Path | str, suite_root: Path | str | None = None) -> Task:
    """Loads and validates one task directory. Raises TaskError naming the file and field at the first problem."""
    path = Path(path)
    toml_path = path / TASK_FILE
    display = _display_path(toml_path)
    reader = _Reader(display)
    if not toml_path.is_file():
        raise TaskError(display, "file not found: a task directory needs task.toml, reference.py and solution.cu")
    try:
        data = tomllib.loads(toml_path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise TaskError(display, f"not valid TOML: {exc}") from None
    reader.unknown_keys(data, _TOP_KEYS, None)

    expected_id = _expected_id(path, suite_root)
    task_id = reader.get(data, "id", str, "id", default=expected_id)
    if expected_id is not None and task_id != expected_id:
        raise reader.fail("id", f"'{task_id}' does not match the directory; it must be '{expected_id}'")
    title = reader.get(data, "title", str, "title")
    domain = reader.get(data, "domain", str, "domain")
    if expected_id is not None and "/" in expected_id and expected_id.split("/")[0] != domain:
        raise reader.fail("domain", f"'{domain}' does not match the directory '{expected_id.split('/')[0]}'")
    tier = reader.get(data, "tier", str, "tier")
    if tier not in TIERS:
        raise reader.fail("tier", f"'{tier}' is not a tier; use one of {', '.join(TIERS)}")
    tags = reader.get(data, "tags", list, "tags", default=[])
    if not all(isinstance(t, str) for t in tags):
        raise reader.fail("tags", "every tag must be a string")

    prompts = _load_prompts(reader, reader.get(data, "prompts", dict, "prompts"))
    sizes = _load_sizes(reader, reader.get(data, "sizes", dict, "sizes"))
    size_names = set(sizes.test_ranges) | set(sizes.derived)
    args = _load_args(reader, reader.get(data, "args", list, "args", what="the [[args]] of solve, in order"),
                      size_names)
    tolerance = _load_tolerance(reader, reader.get(data, "tolerance", dict, "tolerance", default={}))
    roofline = _load_roofline(reader, reader.get(data, "roofline", dict, "roofline"), sizes)
    libraries = reader.get(data, "libraries", list, "libraries", default=[])
    if not all(isinstance(lib, str) for lib in libraries):
        raise reader.fail("libraries", "every library must be a string such as 'cublas'")
    timeout_s = float(reader.get(data, "timeout_s", (int, float), "timeout_s", default=60))
    if timeout_s <= 0:
        raise reader.fail("timeout_s", f"must be positive, not {timeout_s}")

    _check_sizes_evaluate(reader, sizes, args, roofline)

    solution = path / SOLUTION_FILE
    if not solution.is_file():
        raise TaskError(_display_path(solution), "file not found: every task needs a reference CUDA solution")
    module = _load_reference_module(path / REFERENCE_FILE, task_id)
    reference = _function(module, "reference", required=True, path=path / REFERENCE_FILE)
    generate = _function(module, "generate", required=False, path=path / REFERENCE_FILE)
    check = _function(module, "check", required=False, path=path / REFERENCE_FILE)
    work = _function(module, "work", required=False, path=path / REFERENCE_FILE)
    _check_reference_signature(reference, args, path / REFERENCE_FILE)

    return Task(
        id=task_id, path=path, title=title, domain=domain, tier=tier, tags=tuple(tags), prompts=prompts,
        args=args, sizes=sizes, tolerance=tolerance, roofline=roofline, libraries=tuple(libraries),
        timeout_s=timeout_s, reference=reference, generate=generate, check=check, work=work,
    )


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _expected_id(path: Path, suite_root: Path | str | None) -> str | None:
    if suite_root is None:
        return None
    try:
        return path.resolve().relative_to(Path(suite_root).resolve()).as_posix()
    except ValueError:
        return None


def _load_prompts(reader: _Reader, table: dict) -> dict[int, str]:
    keys = {f"level{level}" for level in LEVELS}
    reader.unknown_keys(table, keys, "prompts")
    prompts = {}
    for level in LEVELS:
        text = reader.get(table, f"level{level}", str, "prompts")
        if not text.strip():
            raise reader.fail("prompts", f"'level{level}' is empty")
        prompts[level] = text.strip()
    return prompts


def _positive_int(reader: _Reader, value: Any, where: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise reader.fail(where, f"'{name}' must be a positive integer, not {value!r}")
    return value


def _load_sizes(reader: _Reader, table: dict) -> Sizes:
    reader.unknown_keys(table, {"test", "derived", "cases", "bench"}, "sizes")
    test = reader.get(table, "test", dict, "sizes", what="ranges [low, high] of each size for correctness cases")
    ranges: dict[str, tuple[int, int]] = {}
    for name, value in test.items():
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value, value]
        if not (isinstance(value, list) and len(value) == 2):
            raise reader.fail("sizes.test", f"'{name}' must be a range [low, high] or a positive integer")
        low, high = (_positive_int(reader, v, "sizes.test", name) for v in value)
        if low > high:
            raise reader.fail("sizes.test", f"'{name}': low {low} is above high {high}")
        ranges[name] = (low, high)
    if not ranges:
        raise reader.fail("sizes.test", "declares no size")

    derived = {}
    for name, text in reader.get(table, "derived", dict, "sizes", default={}).items():
        if name in ranges:
            raise reader.fail("sizes.derived", f"'{name}' is already a free size in [sizes.test]")
        derived[name] = reader.formula(text, "sizes.derived", name)
        unknown = derived[name].names - set(ranges) - set(derived)
        if unknown:
            raise reader.fail("sizes.derived", f"'{name}' uses unknown size(s) {', '.join(sorted(unknown))}")

    def scale_list(key: str, required: bool) -> tuple[dict[str, int], ...]:
        entries = reader.get(table, key, list, "sizes", default=... if required else [])
        result = []
        for i, entry in enumerate(entries):
            where = f"sizes.{key}[{i}]"
            if not isinstance(entry, dict):
                raise reader.fail(where, "must be a table of sizes, e.g. {n = 1024}")
            missing = sorted(set(ranges) - set(entry))
            extra = sorted(set(entry) - set(ranges))
            if missing:
                raise reader.fail(where, f"missing size(s) {', '.join(missing)}")
            if extra:
                raise reader.fail(where, f"unknown size(s) {', '.join(extra)} (derived sizes are computed, not given)")
            result.append({k: _positive_int(reader, v, where, k) for k, v in entry.items()})
        return tuple(result)

    cases = scale_list("cases", required=False)
    bench = scale_list("bench", required=True)
    if len(bench) != BENCH_SCALES:
        raise reader.fail("sizes.bench", f"must list exactly {BENCH_SCALES} benchmark scales, found {len(bench)}")
    return Sizes(test_ranges=ranges, derived=derived, cases=cases, bench=bench)


def _arg_formula(reader: _Reader, entry: dict, where: str, key: str, size_names: set[str]) -> Formula | None:
    """The size expression `key` of an argument's table, or None where it has none."""
    if key not in entry:
        return None
    f = reader.formula(entry[key], where, key)
    unknown = f.names - size_names
    if unknown:
        raise reader.fail(where, f"'{key}' uses unknown size(s) {', '.join(sorted(unknown))}")
    return f


def _load_args(reader: _Reader, entries: list, size_names: set[str]) -> tuple[Arg, ...]:
    args: list[Arg] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        where = f"args[{i}]"
        if not isinstance(entry, dict):
            raise reader.fail(where, "must be a table with name, dtype, role (and shape for pointers)")
        reader.unknown_keys(entry, _ARG_KEYS, where)
        name = reader.get(entry, "name", str, where)
        where = f"args.{name}"
        if not name.isidentifier():
            raise reader.fail(where, f"'{name}' is not a C identifier")
        if name in seen:
            raise reader.fail(where, f"argument '{name}' is declared twice")
        seen.add(name)
        dtype_name = reader.get(entry, "dtype", str, where)
        if dtype_name not in DTYPES:
            raise reader.fail(where, f"dtype '{dtype_name}' is unknown; use one of {', '.join(DTYPES)}")
        role = reader.get(entry, "role", str, where)
        if role not in ROLES:
            raise reader.fail(where, f"role '{role}' is unknown; use one of {', '.join(ROLES)}")

        shape: tuple[Formula, ...] = ()
        if role == "scalar":
            if "shape" in entry:
                raise reader.fail(where, "a scalar has no shape")
            if "value" not in entry and name not in size_names:
                raise reader.fail(where, f"scalar '{name}' is not a size name; give it a 'value' expression")
        else:
            raw_shape = reader.get(entry, "shape", list, where, what="a list of size expressions, e.g. ['M', 'K']")
            if not raw_shape:
                raise reader.fail(where, "'shape' is empty; a single value is shape [1]")
            shape = tuple(reader.formula(s, where, "shape") for s in raw_shape)
            unknown = set().union(*(f.names for f in shape)) - size_names
            if unknown:
                raise reader.fail(where, f"'shape' uses unknown size(s) {', '.join(sorted(unknown))}")
        tolerances = {}
        for key in ("atol", "rtol"):
            if key in entry:
                value = reader.get(entry, key, (int, float), where)
                if value < 0:
                    raise reader.fail(where, f"'{key}' must not be negative")
                tolerances[key] = float(value)
        value, low, high = (_arg_formula(reader, entry, where, key, size_names) for key in ("value", "low", "high"))
        args.append(Arg(name=name, dtype=DTYPES[dtype_name], role=role, shape=shape, value=value, low=low, high=high,
                        **tolerances))
    if not any(a.is_written for a in args):
        raise reader.fail("args", "declares no output (role 'output' or 'inout')")
    return tuple(args)


def _load_tolerance(reader: _Reader, table: dict) -> dict[str, tuple[float, float]]:
    result = {}
    for dtype_name, entry in table.items():
        where = f"tolerance.{dtype_name}"
        if dtype_name not in DTYPES or not DTYPES[dtype_name].is_float:
            raise reader.fail(where, "tolerances are per floating dtype (float32, float64, float16); integers are exact")
        if not isinstance(entry, dict):
            raise reader.fail(where, "must be a table {atol = ..., rtol = ...}")
        reader.unknown_keys(entry, {"atol", "rtol"}, where)
        atol = float(reader.get(entry, "atol", (int, float), where))
        rtol = float(reader.get(entry, "rtol", (int, float), where))
        if atol < 0 or rtol < 0:
            raise reader.fail(where, "tolerances must not be negative")
        result[dtype_name] = (atol, rtol)
    return result


def _load_roofline(reader: _Reader, table: dict, sizes: Sizes) -> Roofline:
    size_names = set(sizes.test_ranges) | set(sizes.derived)
    reader.unknown_keys(table, {"flops", "bytes", "precision", "hand_count"}, "roofline")
    flops = reader.formula(reader.get(table, "flops", (str, int, float), "roofline"), "roofline", "flops")
    dram = reader.formula(reader.get(table, "bytes", (str, int, float), "roofline"), "roofline", "bytes")
    for key, f in (("flops", flops), ("bytes", dram)):
        unknown = f.names - size_names
        if unknown:
            raise reader.fail("roofline", f"'{key}' uses unknown size(s) {', '.join(sorted(unknown))}")
    precision = reader.get(table, "precision", str, "roofline", default="fp32")
    if precision not in PRECISIONS:
        raise reader.fail("roofline", f"precision '{precision}' is unknown; use one of {', '.join(PRECISIONS)}")
    counts = []
    for i, entry in enumerate(reader.get(table, "hand_count", list, "roofline", default=[])):
        where = f"roofline.hand_count[{i}]"
        if not isinstance(entry, dict):
            raise reader.fail(where, "must be a table { sizes = {...}, flops = N, bytes = N }")
        reader.unknown_keys(entry, {"sizes", "flops", "bytes"}, where)
        free = reader.get(entry, "sizes", dict, where)
        if set(free) != set(sizes.free_names):
            raise reader.fail(where, f"sizes must give exactly the free sizes {', '.join(sizes.free_names)}")
        counts.append(HandCount(
            sizes={k: _positive_int(reader, v, where, k) for k, v in free.items()},
            flops=float(reader.get(entry, "flops", (int, float), where)),
            dram_bytes=float(reader.get(entry, "bytes", (int, float), where))))
    return Roofline(flops=flops, dram_bytes=dram, precision=precision, hand_counts=tuple(counts))


def _check_sizes_evaluate(reader: _Reader, sizes: Sizes, args: tuple[Arg, ...], roofline: Roofline) -> None:
    """Every shape and formula must evaluate to sensible numbers at every declared scale."""
    for key, scale_list in (("sizes.cases", sizes.cases), ("sizes.bench", sizes.bench),
                            ("sizes.test", ({k: v[1] for k, v in sizes.test_ranges.items()},))):
        for free in scale_list:
            try:
                values = sizes.complete(free)
                for arg in args:
                    if arg.is_pointer and any(d < 1 for d in arg.shape_for(values)):
                        raise reader.fail(f"args.{arg.name}", f"shape evaluates to {arg.shape_for(values)} at {free}")
                flops, dram = roofline.work(values)
            except FormulaError as exc:
                raise reader.fail(key, str(exc)) from None
            if flops < 0 or dram <= 0:
                raise reader.fail("roofline", f"work evaluates to flops={flops}, bytes={dram} at {free}")


def _load_reference_module(path: Path, task_id: str):
    display = _display_path(path)
    if not path.is_file():
        raise TaskError(display, "file not found: every task needs a numpy reference")
    module_name = "cudabench_reference_" + "".join(c if c.isalnum() else "_" for c in task_id)
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the author's code: report it, don't crash collection
        raise TaskError(display, f"failed to import: {type(exc).__name__}: {exc}") from None
    sys.modules.setdefault(module_name, module)
    return module


def _function(module, name: str, *, required: bool, path: Path):
    fn = getattr(module, name, None)
    if fn is None:
        if required:
            raise TaskError(_display_path(path), f"defines no function '{name}'", name)
        return None
    if not callable(fn):
        raise TaskError(_display_path(path), f"'{name}' is not a function", name)
    return fn


def _check_reference_signature(fn, args: tuple[Arg, ...], path: Path) -> None:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return
    wanted = [a.name for a in args if a.is_read or a.role == "scalar"]
    missing = [n for n in wanted if n not in params]
    if missing:
        raise TaskError(_display_path(path), f"reference() must accept the argument(s) {', '.join(missing)} "
                        "(every input, inout and scalar of solve, by name)", "reference")


# ----------------------------------------------------------------------------- discovery

def is_task_dir(path: Path) -> bool:
    return (path / TASK_FILE).is_file()


def find_task_dirs(root: Path) -> list[Path]:
    """Every task directory under root, in a stable order."""
    root = Path(root)
    if is_task_dir(root):
        return [root]
    return sorted(p.parent for p in root.rglob(TASK_FILE))


def find_suite_root(path: Path) -> Path:
    """The nearest ancestor named task_suite (so ids are '<domain>/<name>'), else the task's grandparent."""
    path = Path(path).resolve()
    for parent in (path, *path.parents):
        if parent.name == "task_suite":
            return parent
    return path.parent.parent
