"""Run settings: command-line options, ini keys and [tool.cudabench] merged into one frozen value.

The controller decides everything that must be identical across xdist workers (seed, run id) and hands it to them
through `workerinput`, so every worker collects and evaluates the same way.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import os
import re
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .tasks.loader import LEVELS

RUNTIMES = ("auto", "gpu", "cpu")
GPU_APIS = ("auto", "cuda-bindings", "pycuda")  # the harness's own GPU access (timing.gpu_api); auto: the first installed
PERF_MODES = ("roofline", "ncu")  # ncu: also CUDABench's exact Nsight Compute score, beside the roofline one


@dataclass(frozen=True, kw_only=True)
class Settings:
    model: str
    levels: tuple[int, ...] = LEVELS
    samples: int = 1
    report_dir: str = "reports"
    cache_dir: str = ".cudabench_cache"
    seed: int = 0
    run_id: str = ""
    arch: str | None = None  # None: from the GPU when there is one, else compiler.DEFAULT_ARCH
    runtime: str = "auto"
    gpu_api: str = "auto"  # one of GPU_APIS
    cases: int = 5
    timeout_s: float | None = None  # overrides each task's timeout when set
    sanitize: bool = False
    concurrency: int = 8
    compile_ahead: int | None = None  # answers compiled ahead per worker; None: sized from its cores; 0: off
    attempts: int = 1
    refine: int = 0  # rounds of "make it faster" after a correct, timed answer (CUDA-LLM's loop)
    candidates: int = 1  # answers asked for per refine round
    regenerate: bool = False
    calibrate: bool = False  # score against measured peaks (calibrate.py) instead of datasheet figures
    perf: str = "roofline"  # one of PERF_MODES
    progress_s: float = 10.0  # between generation progress lines of remote models; 0: none
    gpus: tuple[str, ...] | None = None  # GPUs xdist workers are spread over; None: all visible
    set_template: str | None = None  # CUDABench-Set: path of a user-prompt template; None: the built-in one
    set_seed: str = "run"  # CUDABench-Set inputs: run (our seed in gen.py's seeding calls) or paper (theirs)
    set_scales: tuple[int, ...] | None = None  # CUDABench-Set scales to run (1 = each task's smallest); None: all
    shard: tuple[int, int] | None = None  # (K, N): run only the K-th (1-based) of N groups of tasks; None: all
    resume: str | None = None  # the report (absolute path) of an interrupted run whose judged items are carried over
    rootdir: str = "."
    # Tests only, never an option: time on the CPU runtime with the host clock and score on this GPU's datasheet peaks
    # (timing.stage.measurement_policy). CPU times, recorded as such; None (always, outside tests): no timing there.
    host_clock_gpu: str | None = None
    project: dict[str, Any] = field(default_factory=dict)  # the [tool.cudabench] table, for later stages

    def serialized(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_serialized(cls, data: dict[str, Any]) -> Settings:
        data = dict(data)
        data["levels"] = tuple(data["levels"])
        for name in ("gpus", "set_scales", "shard"):
            if data.get(name) is not None:
                data[name] = tuple(data[name])
        return cls(**data)

    @property
    def cache_path(self) -> Path:
        return resolve_path(self.rootdir, self.cache_dir)

    @property
    def report_path(self) -> Path:
        return resolve_path(self.rootdir, self.report_dir)


def resolve_path(root: str, path: str) -> Path:
    p = Path(os.path.expanduser(path))
    return (p if p.is_absolute() else Path(root) / p).resolve()


# nvcc's -arch values: sm_90, sm_90a, sm_100f, compute_80
ARCH_PATTERN = re.compile(r"(sm|compute)_\d{2,3}[af]?")


def parse_levels(text: str, name: str = "--cudabench-levels") -> tuple[int, ...]:
    try:
        levels = tuple(sorted({int(part) for part in str(text).replace(" ", "").split(",") if part}))
    except ValueError:
        raise ConfigError(f"{name}={text}: expected a comma-separated list of levels, e.g. 1,2,3") from None
    if not levels or any(level not in LEVELS for level in levels):
        raise ConfigError(f"{name}={text}: levels are 1 (guided), 2 (algorithmic) and 3 (name only)")
    return levels


def _number(name: str, value: Any, kind, expected: str):
    if isinstance(value, bool):
        raise ConfigError(f"{name}={value}: expected {expected}")
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={value}: expected {expected}") from None


def positive_int(name: str, value: Any) -> int:
    number = _number(name, value, int, "a positive integer")
    if number < 1:
        raise ConfigError(f"{name}={value}: expected a positive integer")
    return number


def non_negative_int(name: str, value: Any) -> int:
    number = _number(name, value, int, "an integer >= 0")
    if number < 0:
        raise ConfigError(f"{name}={value}: expected an integer >= 0")
    return number


def positive_seconds(name: str, value: Any) -> float:
    seconds = _number(name, value, float, "seconds, e.g. 30")
    if not seconds > 0 or seconds == float("inf"):
        raise ConfigError(f"{name}={value}: expected seconds > 0, e.g. 30")
    return seconds


def non_negative_seconds(name: str, value: Any) -> float:
    seconds = _number(name, value, float, "seconds, e.g. 10 (0: off)")
    if not seconds >= 0:
        raise ConfigError(f"{name}={value}: expected seconds >= 0, e.g. 10 (0: off)")
    return seconds


_BOOLEANS = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}


def parse_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    try:
        return _BOOLEANS[str(value).strip().lower()]
    except KeyError:
        raise ConfigError(f"{name}={value}: expected true or false") from None


def one_of(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if str(value) not in choices:
        raise ConfigError(f"{name}={value}: use one of {', '.join(choices)}")
    return str(value)


def parse_arch(name: str, value: Any) -> str:
    if not ARCH_PATTERN.fullmatch(str(value)):
        raise ConfigError(f"{name}={value}: expected an nvcc architecture such as sm_80, sm_90 or sm_90a")
    return str(value)


def parse_gpu_list(name: str, value: Any) -> list[str]:
    gpus = [g.strip() for g in str(value).split(",") if g.strip()]
    if not gpus or not all(g.isdigit() or g.startswith(("GPU-", "MIG-")) for g in gpus):
        raise ConfigError(f"{name}={value}: expected GPU indices (or UUIDs) separated by commas, e.g. 0,2")
    return gpus


def read_project_table(rootdir: Path) -> dict[str, Any]:
    """[tool.cudabench] of pyproject.toml, or the top level of cudabench.toml, at the rootdir (the latter wins)."""
    table: dict[str, Any] = {}
    pyproject = rootdir / "pyproject.toml"
    if pyproject.is_file():
        try:
            table.update(tomllib.loads(pyproject.read_text()).get("tool", {}).get("cudabench", {}))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{pyproject}: not valid TOML: {exc}") from None
    own = rootdir / "cudabench.toml"
    if own.is_file():
        try:
            table.update(tomllib.loads(own.read_text()))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{own}: not valid TOML: {exc}") from None
    return table


def new_run_id(model: str) -> str:
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    safe_model = "".join(c if c.isalnum() or c in "-_." else "-" for c in model.split("/")[-1])[:40]
    return f"{stamp}-{safe_model}-{secrets.token_hex(3)}"


def new_seed() -> int:
    return secrets.randbelow(2**31)
