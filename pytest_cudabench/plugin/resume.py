"""--cudabench-resume glue: the controller plans the resume (session.resume_plan) and hands the plan to xdist
workers; an item whose answer was judged in the resumed run takes that record (items.CudabenchItem), and the report
says what was carried (run.resumed_from)."""

from __future__ import annotations

import pytest

from ..config import Settings
from ..errors import ReportFileError
from ..session import ResumePlan, resume_plan

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
        plan = resume_plan(settings)
    except ReportFileError as exc:
        raise pytest.UsageError(f"pytest-cudabench: --cudabench-resume: {exc}") from None
    config.stash[RESUME_KEY] = plan
    config.pluginmanager.register(ResumeHooks(plan), "cudabench-resume")


class ResumeHooks:
    def __init__(self, plan: ResumePlan):
        self.plan = plan

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node) -> None:
        node.workerinput[WORKER_RESUME_KEY] = self.plan.to_dict()

    def pytest_report_header(self) -> str:
        return self.plan.header_line()
