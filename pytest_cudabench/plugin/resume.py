"""--cudabench-resume glue: the controller plans the resume (reporting.resume) and hands the plan to xdist workers;
an item whose answer was judged in the resumed run takes that record (items.CudabenchItem), and the report says
what was carried (run.resumed_from)."""

from __future__ import annotations

from typing import Any

import pytest

from ..config import Settings
from ..errors import ReportFileError
from ..reporting.resume import ResumePlan, plan_resume
from ..results import ResumedFrom
from ..session.options import resume_facts

RESUME_KEY = pytest.StashKey[ResumePlan]()
WORKER_RESUME_KEY = "cudabench_resume"  # in xdist's workerinput


def configure(config: pytest.Config, settings: Settings) -> None:
    if not settings.resume:
        return
    if hasattr(config, "workerinput"):
        data = config.workerinput.get(WORKER_RESUME_KEY)
        if data:
            config.stash[RESUME_KEY] = ResumePlan.from_dict(data)
        return
    try:
        plan = plan_resume(settings.resume, resume_facts(settings))
    except ReportFileError as exc:
        raise pytest.UsageError(f"pytest-cudabench: --cudabench-resume: {exc}") from None
    config.stash[RESUME_KEY] = plan
    config.pluginmanager.register(ResumeHooks(plan), "cudabench-resume")


def carried_result(config: pytest.Config, key: str, current: dict[str, Any]) -> dict[str, Any] | None:
    """The resumed run's record of this item when it judged the same answer; None: the item runs."""
    plan = config.stash.get(RESUME_KEY, None)
    return plan.carried(key, current) if plan is not None else None


def resumed_from(config: pytest.Config, items: list[Any]) -> ResumedFrom | None:
    """run.resumed_from: null without --cudabench-resume."""
    plan = config.stash.get(RESUME_KEY, None)
    return plan.record(items) if plan is not None else None


class ResumeHooks:
    def __init__(self, plan: ResumePlan):
        self.plan = plan

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node) -> None:
        node.workerinput[WORKER_RESUME_KEY] = self.plan.to_dict()

    def pytest_report_header(self) -> str:
        return self.plan.header_line()
