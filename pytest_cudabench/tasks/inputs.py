"""Correctness cases: sizes and input data for one item, and the reference's expected outputs.

Case sizes: the task's fixed edge cases, then random draws in the test ranges, always including the upper end of
every range, preferring sizes that are not multiples of 32 (ragged tails). Data: the task's `generate` for the
inputs it returns, random values for the rest. Everything derives from one seed, so a run is reproducible.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import TaskError
from .loader import Arg, Task

DEFAULT_INT_RANGE = (-1000, 1000)
DEFAULT_FLOAT_RANGE = (-1.0, 1.0)


@dataclass
class Case:
    index: int
    sizes: dict[str, int]
    arrays: dict[str, np.ndarray]  # every pointer argument; outputs hold their expected values after `expect`
    scalars: dict[str, int | float]
    expected: dict[str, np.ndarray] = field(default_factory=dict)
    scale: int | None = None  # the benchmark scale this case is, when it is one (judged on the CPU runtime)
    probe: str | None = None  # the hard-coded size this case is just above (CPU runtime), e.g. "the prompt's n = 64"

    def describe(self) -> str:
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        if self.probe:
            return f"{sizes}, just above {self.probe}"
        return sizes if self.scale is None else f"{sizes}, benchmark scale {self.scale}"


def case_sizes(task: Task, rng: np.random.Generator, count: int) -> list[dict[str, int]]:
    """At least `count` size choices: fixed cases, the top of every range, then ragged random draws."""
    chosen: list[dict[str, int]] = [dict(c) for c in task.sizes.cases]
    top = {name: high for name, (low, high) in task.sizes.test_ranges.items()}
    chosen.append(top)
    # Fixed edge cases come on top: at least two random draws besides them and the top of the ranges.
    while len(chosen) < max(count, len(task.sizes.cases) + 3):
        draw = {}
        for name, (low, high) in task.sizes.test_ranges.items():
            value = int(rng.integers(low, high + 1))
            # Steer away from multiples of 32 where the range allows it: tails are where bugs live.
            for _ in range(4):
                if value % 32 != 0 or high - low < 32:
                    break
                value = int(rng.integers(low, high + 1))
            draw[name] = value
        chosen.append(draw)
    unique = []
    for sizes in chosen:
        if sizes not in unique:
            unique.append(sizes)
    return [task.sizes.complete(s) for s in unique]


def task_rng(task: Task, seed: int, salt: str = "") -> np.random.Generator:
    # Stable across processes (unlike hash()): every xdist worker derives the same data.
    return np.random.default_rng([seed, zlib.crc32(f"{task.id}:{salt}".encode())])


def make_cases(task: Task, seed: int, count: int) -> list[Case]:
    rng = task_rng(task, seed, "sizes")
    sizes = case_sizes(task, rng, count)
    # The first shape again, right after it, with new values (and, in the runner, the same buffer addresses): an
    # answer that remembers results by pointer or shape fails there.
    sizes.insert(1, dict(sizes[0]))
    return [make_case(task, s, task_rng(task, seed, f"case{index}"), index) for index, s in enumerate(sizes)]


def make_case(task: Task, sizes: dict[str, int], rng: np.random.Generator, index: int = 0) -> Case:
    generated: dict[str, Any] = {}
    if task.generate is not None:
        try:
            generated = dict(task.generate(dict(sizes), rng) or {})
        except Exception as exc:
            raise TaskError(task.path / "reference.py", f"generate() failed at sizes {sizes}: "
                            f"{type(exc).__name__}: {exc}", "generate") from exc
    arrays: dict[str, np.ndarray] = {}
    for arg in task.args:
        if not arg.is_pointer:
            continue
        shape = arg.shape_for(sizes)
        if arg.name in generated:
            arrays[arg.name] = _coerce(task, arg, generated[arg.name], shape)
        elif arg.is_read:
            arrays[arg.name] = random_array(arg, shape, sizes, rng)
        else:
            arrays[arg.name] = np.zeros(shape, dtype=arg.dtype.numpy)
    scalars = task.scalar_values(sizes)
    for name in list(scalars):
        if name in generated:  # a generator may pick data-dependent scalars (e.g. a threshold)
            scalars[name] = generated[name]
    return Case(index=index, sizes=dict(sizes), arrays=arrays, scalars=scalars)


def random_array(arg: Arg, shape: tuple[int, ...], sizes: dict[str, int], rng: np.random.Generator) -> np.ndarray:
    dtype = np.dtype(arg.dtype.numpy)
    if arg.dtype.is_float:
        low, high = DEFAULT_FLOAT_RANGE
    else:
        info = np.iinfo(dtype)  # type: ignore[type-var]  # an integer dtype here
        low, high = max(DEFAULT_INT_RANGE[0], int(info.min)), min(DEFAULT_INT_RANGE[1], int(info.max))
    if arg.low is not None:
        low = arg.low.evaluate(sizes)
    if arg.high is not None:
        high = arg.high.evaluate(sizes)
    if arg.dtype.is_float:
        return rng.uniform(low, high, size=shape).astype(dtype)
    return rng.integers(int(low), int(high), size=shape, endpoint=True).astype(dtype)


def _coerce(task: Task, arg: Arg, value: Any, shape: tuple[int, ...], function: str = "generate") -> np.ndarray:
    """`value`, returned by the task's `function` for `arg`, as a contiguous array of the argument's shape and dtype.
    A size or kind of value that cannot be that is the task's error, named by file, function and argument."""
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TaskError(task.path / "reference.py", f"{function}() returned {arg.name} that is not an array: "
                        f"{type(exc).__name__}: {exc}", function) from None
    target = np.dtype(arg.dtype.numpy)
    if array.dtype.kind not in "biuf" or (array.dtype.kind == "f" and target.kind in "biu"):
        raise TaskError(task.path / "reference.py", f"{function}() returned {arg.name} of dtype {array.dtype}; "
                        f"`{arg.name}` is {arg.dtype.name}: return {target.name} values", function)
    if array.size != int(np.prod(shape)):
        raise TaskError(task.path / "reference.py", f"{function}() returned {arg.name} with {array.size} elements "
                        f"(shape {array.shape}); its shape {shape} needs {int(np.prod(shape))}", function)
    return np.ascontiguousarray(array.reshape(shape), dtype=target)


# Benchmark scales the CPU runtime also judges: the smallest one beyond the correctness range that fits these.
# The CPU runtime spends ~0.1 us per GPU thread (a fiber) and does ~0.3 GFLOP/s on a tiled SGEMM: these bound a
# call to roughly half a second.
CPU_SCALE_BYTES = 64 << 20  # inputs + outputs
CPU_SCALE_ELEMENTS = 1 << 21  # elements of the largest buffer (a proxy for the number of threads)
CPU_SCALE_FLOPS = 1e8  # the task's roofline work


MAX_SIZE_PROBES = 3  # cases just above hard-coded sizes, at most (each is one call)
PROBE_SLACK = 1.01  # a probe one above a size at the budget's edge still fits


def fits_cpu(task: Task, sizes: dict[str, int], slack: float = 1.0) -> bool:
    """Whether a call at `sizes` fits the CPU runtime's budget for one case (CPU_SCALE_*, times `slack`)."""
    flops, _ = task.roofline.work(sizes)
    largest = max((int(np.prod(a.shape_for(sizes))) for a in task.args if a.is_pointer), default=0)
    return (task.buffer_bytes(sizes) <= CPU_SCALE_BYTES * slack and largest <= CPU_SCALE_ELEMENTS * slack
            and flops <= CPU_SCALE_FLOPS * slack)


def prompt_sizes(task: Task) -> list[tuple[str, int]]:
    """(size, value) for every value a prompt gives a free size, as in "n = 1048576" or "N = 1 << 20" (a size named
    in any case where the task's names are unique that way; `<=`, `>=`, `==` are bounds, not examples): where models
    copy constants from."""
    names = list(task.sizes.test_ranges)
    fold = len({n.lower() for n in names}) == len(names)
    text = "\n".join(task.prompts.values())
    found: list[tuple[str, int]] = []
    for name in names:
        pattern = rf"(?<![\w.]){re.escape(name)}\s*(?<![<>!=])=(?!=)\s*(\d[\d,_']*)(?:\s*<<\s*(\d+))?(?![\w.])"
        for match in re.finditer(pattern, text, re.IGNORECASE if fold else 0):
            value = int(re.sub(r"[,_']", "", match[1]))
            if match[2]:
                value <<= min(int(match[2]), 62)
            if (name, value) not in found:
                found.append((name, value))
    return found


def cpu_scale_cases(task: Task, seed: int, first_index: int) -> list[Case]:
    """Cases the CPU runtime judges besides the correctness cases, each within the CPU budget (fits_cpu):
    - the smallest benchmark scale with a size above the top of its test range (at most one, to keep the cost
      small): an answer with a grid or size hard-coded from a prompt example fails there, as it would on a GPU;
    - size probes (one call each, at most MAX_SIZE_PROBES): one just above that scale (every size beyond its test
      range one larger), and one just above every size a prompt names beyond its test range (prompt_sizes; the
      other free sizes at the bottom of their ranges). An answer that ignores its size arguments fails there even
      when the smallest benchmark scale is the prompt's example size."""
    free = list(task.sizes.test_ranges)
    tops = task.sizes.complete({name: high for name, (low, high) in task.sizes.test_ranges.items()})
    found: list[Case] = []
    probes: list[tuple[dict[str, int], str]] = []
    for k, bench in enumerate(task.sizes.bench):
        sizes = task.sizes.complete(bench)
        if not any(sizes.get(name, 0) > top for name, top in tops.items()) or not fits_cpu(task, sizes):
            continue
        case = bench_case(task, seed, k)
        case.index, case.scale = first_index, k
        found.append(case)
        beyond = {name: sizes[name] + 1 for name in free if sizes.get(name, 0) > tops.get(name, 0)}
        probes.append(({**{n: sizes[n] for n in free}, **beyond}, f"benchmark scale {k}"))
        break
    lows = {name: low for name, (low, high) in task.sizes.test_ranges.items()}
    for name, value in prompt_sizes(task):
        if value >= tops.get(name, 0):
            probes.append(({**lows, name: value + 1}, f"the prompt's {name} = {value}"))
    seen: list[dict[str, int]] = []
    for free_sizes, what in probes:
        if len(seen) == MAX_SIZE_PROBES:
            break
        try:
            sizes = task.sizes.complete(free_sizes)
            if sizes in seen or not fits_cpu(task, sizes, PROBE_SLACK):
                continue
            case = make_case(task, sizes, task_rng(task, seed, f"probe:{json.dumps(sizes, sort_keys=True)}"),
                             first_index + len(found))
        except (TaskError, ValueError, ZeroDivisionError):
            continue  # sizes the task cannot take (a derived size out of range): no probe there
        case.probe = what
        seen.append(sizes)
        found.append(case)
    return found


def bench_case(task: Task, seed: int, scale_index: int, input_set: int = 0) -> Case:
    """Input set `input_set` of benchmark scale `scale_index`: the child times on it, and the parent counts a
    data-dependent task's work on set 0 and checks outputs on every set, each making it from the same seed.
    The timed calls rotate through several sets (different values, different buffers), so an answer that remembers
    the last result is caught."""
    sizes = task.sizes.complete(task.sizes.bench[scale_index])
    salt = f"bench{scale_index}" if input_set == 0 else f"bench{scale_index}:set{input_set}"
    return make_case(task, sizes, task_rng(task, seed, salt), scale_index)


def reference_kwargs(task: Task, case: Case) -> dict[str, Any]:
    """What `reference` receives: copies of the inputs (and inout values) and the scalars, by name."""
    kwargs: dict[str, Any] = {}
    for arg in task.args:
        if arg.role == "scalar":
            kwargs[arg.name] = case.scalars[arg.name]
        elif arg.is_read:
            kwargs[arg.name] = case.arrays[arg.name].copy()
    return kwargs


def expect(task: Task, case: Case) -> dict[str, np.ndarray]:
    """Runs the numpy reference on its own copies and stores the expected outputs in the case."""
    try:
        result = task.reference(**reference_kwargs(task, case))
    except Exception as exc:
        raise TaskError(task.path / "reference.py", f"reference() failed at sizes {case.sizes}: "
                        f"{type(exc).__name__}: {exc}", "reference") from exc
    outputs = task.outputs
    if isinstance(result, dict):
        values = [result.get(a.name) for a in outputs]
    elif isinstance(result, (tuple, list)) and len(outputs) > 1:
        values = list(result)
    else:
        values = [result]
    if len(values) != len(outputs) or any(v is None for v in values):
        raise TaskError(task.path / "reference.py", f"reference() must return {len(outputs)} output(s) "
                        f"({', '.join(a.name for a in outputs)}): one array, a tuple in that order, or a dict",
                        "reference")
    for arg, value in zip(outputs, values, strict=True):
        case.expected[arg.name] = _coerce(task, arg, value, arg.shape_for(case.sizes), "reference")
    return case.expected


def input_work(task: Task, case: Case) -> tuple[float, float] | None:
    """The task's `work()` on this input: its minimum (flops, bytes) there; None for tasks without one."""
    if task.work is None:
        return None
    try:
        flops, dram = task.work(**reference_kwargs(task, case))
    except Exception as exc:
        raise TaskError(task.path / "reference.py", f"work() failed at sizes {case.sizes}: "
                        f"{type(exc).__name__}: {exc}", "work") from exc
    if not (flops >= 0 and dram > 0):
        raise TaskError(task.path / "reference.py", f"work() gave flops={flops}, bytes={dram} at {case.sizes}",
                        "work")
    return float(flops), float(dram)
