"""What the pytest layer (plugin/) runs, in the domain's terms: the option table and the run's settings
(options.py), the task families, item selection and the items' records (families.py), an item's run (items.py), the
run's ledger and its reports (run.py), compile-ahead (ahead.py), where xdist workers run (workers.py), the progress
lines (progress.py). Knows nothing of pytest: the plugin calls it, as pytest-cpp's plugin calls its facades, and
imports the domain through it (the names below)."""

from ..generation.models import GenerationRequest
from ..generation.service import GenerationService
from ..reporting.report import suite_properties
from ..reporting.resume import ResumePlan
from ..results import Report
from ..tasks.shards import Shard
from .ahead import AheadPool
from .families import (
    Family,
    ItemSelection,
    SetFiles,
    SetOptions,
    SetRowFamily,
    is_task_dir,
    item_name,
    junit_properties,
    load_kernel_family,
    load_set_families,
    markers,
    record_outcome,
    requests_of_nodeids,
    set_marker,
    task_dirs_named,
)
from .items import carried_record, failure_section, failure_text, generate, take_carried
from .options import OPTIONS, Option, build_settings, open_run, option_named, project_value, resume_plan
from .progress import AnswerWatch, wait_for_requests
from .run import Collected, ReportFiles, RunLedger
from .workers import compile_ahead_here, gpus_of_workers, visible_gpus, worker_machine

__all__ = [
    "OPTIONS", "AheadPool", "AnswerWatch", "Collected", "Family", "GenerationRequest", "GenerationService",
    "ItemSelection", "Option", "Report", "ReportFiles", "ResumePlan", "RunLedger", "SetFiles", "SetOptions",
    "SetRowFamily", "Shard", "build_settings", "carried_record", "compile_ahead_here", "failure_section",
    "failure_text", "generate", "gpus_of_workers", "is_task_dir", "item_name", "junit_properties",
    "load_kernel_family", "load_set_families", "markers", "open_run", "option_named", "project_value",
    "record_outcome", "requests_of_nodeids", "resume_plan", "set_marker", "suite_properties", "take_carried",
    "task_dirs_named", "visible_gpus", "wait_for_requests", "worker_machine",
]
