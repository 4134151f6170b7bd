"""--cudabench-resume=REPORT.json: continue a run that was interrupted (Ctrl-C, SIGTERM from a batch scheduler's
time limit, -x) from the report it wrote. An item already judged there (a pass or a fail; not an error, a skip, a
crashed worker or an item that did not run) is carried over, verdict and record as they were, when this run would
judge the same thing: the same seed, harness version, runtime, arch, cases and prompt template (checked once for the
whole report), and per item the same prompt and the same answer (the model's whole reply). Everything else runs.

Items with repair attempts or refine rounds are not carried: their later answers are not in the report to compare;
nor are CUDABench-Set items.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from ..results import ResumedFrom
from .report_files import item_key, load_report

# What the whole prior run must share with this one, each a field of the report's `run`.
RUN_FIELDS = ("seed", "runtime", "arch", "cases", "template_version")
HARNESS_VERSION = "pytest_cudabench"  # run.versions key


@dataclass
class ResumePlan:
    """What a run resumes from: the prior report's path and run id, its judged items by item key, and, when nothing
    can be carried, why."""

    report: str
    run_id: str | None
    candidates: dict[str, dict[str, Any]] = field(default_factory=dict)
    refused: str | None = None

    def to_dict(self) -> dict[str, Any]:  # plain builtins: handed to xdist workers
        return {"report": self.report, "run_id": self.run_id, "candidates": self.candidates, "refused": self.refused}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResumePlan:
        return cls(**data)

    def carried(self, key: str, current: dict[str, Any]) -> dict[str, Any] | None:
        """The prior record of item `key`, marked `resumed_from`, when it judged the same prompt and answer as
        `current`, this run's record of the item once it has its answer (nodeid, prompt_hash, generation,
        stages.generate); None: the item runs. The answer's fetch is this run's (`generation` with `cached`, and
        stages.generate), so that the run's usage counts no request twice; the verdict and its stages are the prior
        run's."""
        prior = self.candidates.get(key)
        generation = current.get("generation") or {}
        if prior is None or prior.get("prompt_hash") != current.get("prompt_hash") \
                or (prior.get("generation") or {}).get("content") != generation.get("content"):
            return None
        record = copy.deepcopy(prior)
        record["nodeid"] = current.get("nodeid")
        record["generation"] = generation
        record["stages"]["generate"] = (current.get("stages") or {}).get("generate")
        record["resumed_from"] = prior.get("resumed_from") or self.run_id  # the run that judged it
        record.pop("worker", None)  # a worker of the prior run; this run's controller sets its own
        return record

    def record(self, items: Sequence[Mapping[str, Any]]) -> ResumedFrom:
        """run.resumed_from of this run's report."""
        return {"report": self.report, "run_id": self.run_id,
                "items_carried": sum(1 for i in items if i.get("resumed_from") is not None),
                "refused": self.refused}

    def header_line(self) -> str:
        if self.refused:
            return f"cudabench: --cudabench-resume={self.report}: nothing carried over: {self.refused}"
        return (f"cudabench: resuming run {self.run_id} from {self.report}: {len(self.candidates)} judged item(s) "
                "are carried over where this run gets the same answer; the rest run")


def judged(item: Mapping[str, Any]) -> bool:
    """A verdict on the answer: passed or failed, not by a crashed worker, without repair or refine rounds, and not
    a CUDABench-Set item (its data and seed mode are not compared)."""
    return item.get("outcome") in ("passed", "failed") and item.get("failed_stage") != "crash" \
        and not item.get("attempts") and not item.get("refinement") and not item.get("set") \
        and isinstance((item.get("generation") or {}).get("content"), str)


def run_mismatch(prior: Mapping[str, Any], current: Mapping[str, Any]) -> str | None:
    """Why the prior run's verdicts do not hold for this run (the first difference), else None. `current` has the
    RUN_FIELDS and `versions` as this run's report will."""
    for name in RUN_FIELDS:
        if prior.get(name) != current.get(name):
            return f"its {name} is {prior.get(name)!r}, this run's is {current.get(name)!r}"
    before = (prior.get("versions") or {}).get(HARNESS_VERSION)
    now = (current.get("versions") or {}).get(HARNESS_VERSION)
    if before != now:
        return f"it was judged by pytest-cudabench {before}, this run uses {now}"
    return None


def plan_resume(path: str | Path, current: dict[str, Any]) -> ResumePlan:
    """The plan of resuming from the report at `path` (ReportFileError when it is not a run report)."""
    prior = load_report(path)
    run = prior["run"]
    plan = ResumePlan(report=str(path), run_id=run["id"])
    plan.refused = run_mismatch(run, current)
    if plan.refused is None:
        plan.candidates = {item_key(i): cast(dict[str, Any], i) for i in prior["items"] if judged(i)}
    return plan


def prior_seed(path: str | Path) -> int | None:
    """The seed of the run being resumed: this run's default seed, so that its verdicts can be carried over."""
    seed = load_report(path)["run"]["seed"]
    return seed if isinstance(seed, int) else None
