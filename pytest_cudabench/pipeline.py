"""The evaluation of one item (task x level x sample): its stages in order, recorded as plain data.

Stages: generate -> extract -> static-check -> compile -> execute -> time. The first stage that fails ends the
evaluation; its StageFailure propagates after being recorded. The result is a dict of builtins (see report.py for
the schema) so it can travel on pytest reports through xdist.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import compiler, static_check
from .config import Settings
from .errors import StageFailure, StageSkip
from .extract import extract_source
from .models import Generation
from .prompts import TEMPLATE_VERSION
from .tasks import Task

STAGES = ("generate", "extract", "static-check", "compile", "execute", "time")


def new_result(task: Task, level: int, sample: int, model: str, nodeid: str = "") -> dict[str, Any]:
    return {
        "nodeid": nodeid,
        "task": task.id,
        "title": task.title,
        "domain": task.domain,
        "tier": task.tier,
        "level": level,
        "sample": sample,
        "model": model,
        "outcome": None,  # passed | failed | skipped | error, set from the pytest report
        "stage_reached": None,
        "failed_stage": None,
        "message": None,
        "stages": {},
        "compiled": False,
        "correct": None,  # None: not judged
        "performance_score": None,
        "speedup": None,
        "runtime": None,
        "template_version": TEMPLATE_VERSION,
        "prompt_hash": None,
        "generation": None,
        "source": None,
        "source_sha256": None,
    }


class Evaluation:
    """Runs and records the stages of one item. Knows nothing of pytest."""

    def __init__(self, task: Task, level: int, sample: int, settings: Settings, nodeid: str = ""):
        self.task = task
        self.level = level
        self.sample = sample
        self.settings = settings
        self.result = new_result(task, level, sample, settings.model, nodeid)
        self.library: Path | None = None
        self.source: str | None = None

    @contextmanager
    def stage(self, name: str) -> Iterator[dict[str, Any]]:
        record: dict[str, Any] = {"status": "running"}
        self.result["stages"][name] = record
        self.result["stage_reached"] = name
        start = time.perf_counter()
        try:
            yield record
        except StageFailure as exc:
            record.update(status="failed", message=exc.message)
            if exc.details:
                record["details"] = exc.details
            self.result.update(failed_stage=name, message=exc.message)
            raise
        except StageSkip as exc:
            record.update(status="skipped", message=exc.reason)
            self.result["message"] = exc.reason
            raise
        else:
            record["status"] = record.pop("status_override", "passed")
        finally:
            record["duration_s"] = round(time.perf_counter() - start, 6)

    def record_generation(self, generation: Generation, prompt_hash: str, duration_s: float) -> None:
        self.result["generation"] = generation.to_dict()
        self.result["prompt_hash"] = prompt_hash
        self.result["stages"]["generate"] = {"status": "passed", "duration_s": round(duration_s, 6),
                                             "cached": generation.cached}
        self.result["stage_reached"] = "generate"

    def record_generation_failure(self, message: str, duration_s: float, skipped: bool = False) -> None:
        status = "skipped" if skipped else "error"
        self.result["stages"]["generate"] = {"status": status, "duration_s": round(duration_s, 6), "message": message}
        self.result["stage_reached"] = "generate"
        self.result["message"] = message
        if not skipped:
            self.result["failed_stage"] = "generate"

    def run(self, answer: str) -> dict[str, Any]:
        """Runs every stage after generation. Raises the first StageFailure or StageSkip, after recording it."""
        with self.stage("extract") as record:
            self.source = extract_source(answer)
            self.result["source"] = self.source
            self.result["source_sha256"] = hashlib.sha256(self.source.encode()).hexdigest()
            record["lines"] = self.source.count("\n")
        with self.stage("static-check"):
            static_check.check_source(self.source, self.task.libraries)
        with self.stage("compile") as record:
            build = compiler.compile_library(
                self.source, cache_dir=self.settings.cache_path, arch=self.arch,
                extra_flags=tuple(static_check.link_flags(self.task.libraries)),
            )
            record.update(cached=build.cached, log=build.log, command=" ".join(build.command[1:]))
            if not static_check.exports_solve(Path(build.library)):
                raise StageFailure("compile", 'the library does not export `solve`: declare it extern "C" '
                                   f"with the exact signature {self.task.signature()}")
            static_check.check_imports(Path(build.library))
            self.library = Path(build.library)
            self.result["compiled"] = True
        for name, step in self.later_stages():
            with self.stage(name) as record:
                step(record)
        return self.result

    @property
    def arch(self) -> str:
        return self.settings.arch or compiler.DEFAULT_ARCH

    def later_stages(self):
        return [("execute", self.execute), ("time", self.time)]

    def execute(self, record: dict[str, Any]) -> None:
        from . import execution, inputs

        runtime = execution.choose_runtime(self.settings.runtime)
        self.result["runtime"] = runtime
        record["runtime"] = runtime
        assert self.source is not None and self.library is not None
        library = execution.build_for_runtime(runtime, self.source, self.library, self.settings.cache_path,
                                              self.settings.sanitize)
        cases = inputs.make_cases(self.task, self.settings.seed, self.settings.cases)
        for case in cases:
            inputs.expect(self.task, case)
        outcome = execution.run_cases(self.task, library, runtime, cases,
                                      timeout_s=self.settings.timeout_s or self.task.timeout_s,
                                      sanitize=self.settings.sanitize)
        record.update(outcome.to_dict())
        self.result["correct"] = True

    def time(self, record: dict[str, Any]) -> None:
        if self.result["runtime"] != "gpu":
            record.update(status_override="not-run", message="timing needs a GPU; performance not measured")
            return
