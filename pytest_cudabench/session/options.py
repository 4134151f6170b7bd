"""Every setting of the plugin, declared once: each is a command-line option `--cudabench-<name>`, an ini key
`cudabench_<name>` and a `[tool.cudabench]` key `<name>` (dashes as underscores), resolved in that order (by the
plugin, plugin/options.py), then checked by its parser into one field of `config.Settings` (`build_settings`)."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import (
    GPU_APIS,
    PERF_MODES,
    RUNTIMES,
    Settings,
    new_run_id,
    new_seed,
    non_negative_int,
    non_negative_seconds,
    one_of,
    parse_arch,
    parse_bool,
    parse_gpu_list,
    parse_levels,
    positive_int,
    positive_seconds,
    resolve_path,
)
from ..cudabench_set.data import SEED_MODES
from ..cudabench_set.rows import parse_scales
from ..errors import ConfigError, ReportFileError
from ..generation.kinds import create_model
from ..generation.prompts import TEMPLATE_VERSION
from ..generation.service import GenerationService
from ..reporting.resume import HARNESS_VERSION, ResumePlan, plan_resume, prior_seed
from ..source.compiler import check_arch
from ..tasks.shards import parse_shard
from ..timing.gpus import gpu_arch


def _text(_origin: str, value: Any) -> str:
    return str(value)


@dataclass(frozen=True)
class Option:
    name: str
    help: str
    default: Any = None  # as a user would write it; None: unset (the field's parser is not called)
    parse: Callable[[str, Any], Any] = _text  # (where the value came from, value) -> the Settings field
    field: str = ""  # Settings field; default: name with underscores
    flag: bool = False  # a switch on the command line; true/false in ini and TOML

    @property
    def settings_field(self) -> str:
        return self.field or self.name.replace("-", "_")

    @property
    def dest(self) -> str:
        return "cudabench_" + self.name.replace("-", "_")

    @property
    def cli(self) -> str:
        return f"--cudabench-{self.name}"

    @property
    def project_key(self) -> str:
        return self.name.replace("-", "_")


OPTIONS: tuple[Option, ...] = (
    Option("model", "Model that answers: reference, replay:PATH, or a configured/remote model. Enables the benchmark."),
    Option("levels", "Prompt levels to run, comma-separated: 1 guided, 2 algorithmic, 3 name only (default 1,2,3).",
           "1,2,3", lambda origin, v: parse_levels(v, origin)),
    Option("samples", "Answers drawn per task and level (default 1).", "1", positive_int),
    Option("report-dir", "Where JSON/HTML reports go (default reports/).", "reports"),
    Option("cache-dir", "Generation and compile cache (default .cudabench_cache/).", ".cudabench_cache"),
    Option("seed", "Seed of the randomized inputs (default: a new one per run, recorded in the report).", None,
           non_negative_int),
    Option("arch", "nvcc target architecture, e.g. sm_90 (default: the GPU's, else sm_80).", None, parse_arch),
    Option("runtime", "Where answers run: auto (GPU if usable, else CPU runtime), gpu, cpu.", "auto",
           lambda origin, v: one_of(origin, v, RUNTIMES)),
    Option("gpu-api", "The harness's own GPU access on the GPU runtime: auto (the first installed, cuda-bindings "
                      "first), cuda-bindings or pycuda.", "auto", lambda origin, v: one_of(origin, v, GPU_APIS)),
    Option("cases", "Randomized correctness cases per item (default 5).", "5", positive_int),
    Option("timeout", "Wall-time limit per answer run in seconds (default: the task's).", None, positive_seconds,
           field="timeout_s"),
    Option("concurrency", "Model requests in flight at once per worker (default 8).", "8", positive_int),
    Option("compile-ahead", "Answers each worker compiles ahead (extract, static check, nvcc, the CPU runtime's "
                            "g++ build) on its spare cores while earlier items run (default: sized from the cores "
                            "per worker; 0: off).", None, non_negative_int),
    Option("attempts", "Attempts per item: >1 feeds compiler errors or mismatches back to the model (default 1).", "1",
           positive_int),
    Option("refine", "Refine-for-speed rounds after an answer passes execute and time: its measured speed goes back "
                     "to the model, the fastest correct version is kept (default 0: off; needs measured timings).", "0",
           non_negative_int),
    Option("candidates", "Answers asked for per refine round (default 1).", "1", positive_int),
    Option("perf", "Performance-Score definitions: roofline (ours, the default), or ncu: also CUDABench's exact Nsight "
                   "Compute score, beside it (needs ncu with access to GPU counters).", "roofline",
           lambda origin, v: one_of(origin, v, PERF_MODES)),
    Option("progress", "Seconds between generation progress lines when the model is remote; 0: none (default 10).",
           "10", non_negative_seconds, field="progress_s"),
    Option("gpus", "GPUs to spread xdist workers over, e.g. 0,2 (default: all visible).", None,
           lambda origin, v: tuple(parse_gpu_list(origin, v))),
    Option("calibrate", "Measure the GPU's achievable bandwidth and FLOP/s (cached per GPU and driver) and score "
                        "against them instead of datasheet peaks.", False, parse_bool, flag=True),
    Option("regenerate", "Ask the model again even where the generation cache has an answer.", False, parse_bool,
           flag=True),
    Option("sanitize", "Run answers under AddressSanitizer (CPU runtime) or compute-sanitizer (GPU).", False,
           parse_bool, flag=True),
    Option("set-template", "CUDABench-Set: a file with the user-prompt template ({prompt}, {task_name}, {io_spec}, "
                           "{inputs}, {outputs}); its hash is in the report."),
    Option("set-seed", "CUDABench-Set inputs: run (default: the run's seed put into gen.py's seeding calls) or "
                       "paper (gen.py's own fixed seeds: an exact reproduction).", "run",
           lambda origin, v: one_of(origin, v, SEED_MODES)),
    Option("set-scales", "CUDABench-Set: the scales to run, e.g. 1 (each task's smallest) or 1,2 (default: all).", None,
           lambda origin, v: parse_scales(origin, v)),
    Option("shard", "Run only shard K of N: the tasks split into N groups balanced by item count, the same on every "
                    "machine (for Slurm arrays, indexed jobs, CI matrices; merge the reports afterwards), e.g. 2/4.",
           None, parse_shard),
    Option("resume", "Continue an interrupted run from its JSON report: items judged there with the same answer, "
                     "seed and harness version are carried over, the rest run (the seed defaults to the report's).",
           None),
)

# Keys of [tool.cudabench] that are not options: model definitions (see generation.models).
_PROJECT_ONLY_KEYS = {"models", "set_files"}  # set_files: CUDABench-Set files to run when no paths are given


def check_project_keys(project: dict[str, Any]) -> None:
    known = {o.project_key for o in OPTIONS} | {o.name for o in OPTIONS} | _PROJECT_ONLY_KEYS
    unknown = sorted(set(project) - known)
    if unknown:
        close = {key: difflib.get_close_matches(key, sorted(known), n=1) for key in unknown}
        hints = ", ".join(f"{key!r}" + (f" (did you mean {close[key][0]!r}?)" if close[key] else "") for key in unknown)
        raise ConfigError(f"[tool.cudabench] (pyproject.toml or cudabench.toml): unknown key(s) {hints}; "
                          f"known keys: {', '.join(sorted(k for k in known if '-' not in k))}")


def project_value(project: dict[str, Any], option: Option) -> tuple[Any, str] | None:
    """The option's value in the [tool.cudabench] table and where it came from, or None."""
    for key in (option.project_key, option.name):
        if key in project:
            value = project[key]
            if isinstance(value, list):  # levels = [1, 2], gpus = [0, 2] in TOML
                value = ",".join(str(v) for v in value)
            return value, f"[tool.cudabench] {key}"
    return None


def option_named(name: str) -> Option:
    return next(o for o in OPTIONS if o.name == name)


def build_settings(resolve: Callable[[Option], tuple[Any, str]], project: dict[str, Any], paths_base: Path,
                   invocation_dir: Path) -> Settings | None:
    """Every option resolved (`resolve(option)`: the raw value and where it came from) and checked at start; None
    when no model is named (the plugin stays inactive). `paths_base`: what relative paths in configuration files
    are relative to; a path typed on the command line is relative to `invocation_dir`."""
    check_project_keys(project)
    values: dict[str, Any] = {}
    for option in OPTIONS:
        value, origin = resolve(option)
        values[option.settings_field] = None if value is None else option.parse(origin, value)
    if not values["model"]:
        return None
    seed = values.pop("seed")
    if values["resume"]:
        _value, origin = resolve(option_named("resume"))
        base = invocation_dir if origin.startswith("--") else paths_base
        values["resume"] = str(resolve_path(str(base), values["resume"]))
        if seed is None:
            try:
                seed = prior_seed(values["resume"])
            except ReportFileError as exc:
                raise ConfigError(f"--cudabench-resume: {exc}") from None
    return Settings(**{k: v for k, v in values.items() if v is not None},
                    seed=new_seed() if seed is None else seed, run_id=new_run_id(values["model"]),
                    rootdir=str(paths_base), project=project)


def open_run(settings: Settings, custom_model: Any, controller: bool) -> GenerationService:
    """The generation service of this process, over a model of a plugin's own kind (`custom_model`, the
    pytest_cudabench_model hook's) or a built-in one. Once per run, in the controller, the --cudabench-arch
    target is checked with nvcc. Raises ConfigError."""
    if settings.arch and controller:
        check_arch(settings.arch, settings.cache_path)
    return GenerationService(custom_model or create_model(settings.model, settings.project), settings)


def resume_facts(settings: Settings) -> dict[str, Any]:
    """This run's facts as the report's run record has them, to compare with the resumed run's
    (--cudabench-resume)."""
    return {"seed": settings.seed, "runtime": settings.runtime, "arch": settings.arch or gpu_arch(),
            "cases": settings.cases, "template_version": TEMPLATE_VERSION, "versions": {HARNESS_VERSION: __version__}}


def resume_plan(settings: Settings) -> ResumePlan:
    """--cudabench-resume: what the resumed run's report carries over to this run. Raises ReportFileError."""
    assert settings.resume, "only under --cudabench-resume"
    return plan_resume(settings.resume, resume_facts(settings))
