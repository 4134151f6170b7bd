"""Reading run reports back from files, once and checked, for every tool that takes them (compare, merge,
leaderboard, export-benchmark); and the key that matches one item across reports.

A file that is not a run report is refused with a ReportFileError that names the file and what it is instead (a
replay file, a pytest-benchmark export, a leaderboard), never with a bare JSON parser message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from ..errors import ReportFileError
from ..results import Aggregates, ItemResult, Report, RunRecord
from .report import SCHEMA

LEADERBOARD_SCHEMA = "pytest-cudabench/leaderboard/1"
WHAT_A_REPORT_IS = (f"a run report is the one JSON object (schema {SCHEMA!r}) a run writes to "
                    "<report-dir>/<run-id>.json")


def item_key(item: Mapping[str, Any]) -> str:
    """"task::level<L>[sample<S>]": the nodeid's tail, independent of where the suite lives."""
    task = item.get("task")
    if task is None:
        return str(item.get("nodeid"))
    return f"{task}::level{item.get('level')}[sample{item.get('sample')}]"


def verdict(item: Mapping[str, Any] | None) -> str | None:
    """"pass" for outcome passed, "fail" for failed or error (or no outcome), None for skipped or absent."""
    if item is None:
        return None
    outcome = item.get("outcome")
    return "pass" if outcome == "passed" else "fail" if outcome in ("failed", "error", None) else None


def _not_json(path: Path, text: str, exc: json.JSONDecodeError) -> ReportFileError:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return ReportFileError(f"{path}: the file is empty, not a run report ({WHAT_A_REPORT_IS})")
    try:
        records = [json.loads(line) for line in lines]
    except json.JSONDecodeError:
        records = []
    if len(records) > 1:
        keys = sorted(records[0]) if isinstance(records[0], dict) else []
        return ReportFileError(
            f"{path}: JSON lines ({len(records)} records, the first with keys {', '.join(keys) or '-'}): a replay "
            f"or CUDABench-Set file, not a run report ({WHAT_A_REPORT_IS})")
    return ReportFileError(f"{path}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno}), so not a run "
                           f"report ({WHAT_A_REPORT_IS})")


def check_report(data: Any, path: str | Path) -> Report:
    """`data` if it is a run report of this schema, else a ReportFileError naming `path` and the problem."""
    if not isinstance(data, dict):
        raise ReportFileError(f"{path}: a JSON {type(data).__name__}, not a run report ({WHAT_A_REPORT_IS})")
    schema = data.get("schema")
    if schema != SCHEMA:
        if schema == LEADERBOARD_SCHEMA:
            what = "a leaderboard, not a run report: give the run reports it was built from"
        elif schema is None and "benchmarks" in data and "machine_info" in data:
            what = "a pytest-benchmark file (export-benchmark writes those), not a run report"
        elif schema is None:
            what = f"no 'schema' field (keys: {', '.join(sorted(map(str, data))[:8]) or 'none'}), so not a run report"
        else:
            what = f"schema {schema!r}, and this version of pytest-cudabench reads {SCHEMA!r}"
        raise ReportFileError(f"{path}: {what} ({WHAT_A_REPORT_IS})")
    if not isinstance(data.get("run"), dict):
        raise ReportFileError(f"{path}: field 'run' is missing or not an object: the report is damaged")
    items = data.get("items")
    if not isinstance(items, list):
        raise ReportFileError(f"{path}: field 'items' is missing or not a list: the report is damaged")
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not (item.get("task") or item.get("nodeid")):
            raise ReportFileError(f"{path}: items[{index}] is not an item (an object with 'task' or 'nodeid'): "
                                  "the report is damaged")
    # Readers index what the schema requires (results.Report, RunRecord, ItemResult) without fallbacks.
    _require(data, Report.__required_keys__, "", path)
    _require(data["run"], RunRecord.__required_keys__, "run", path)
    _require(data["aggregates"], Aggregates.__required_keys__, "aggregates", path)
    for index, item in enumerate(items):
        _require(item, ItemResult.__required_keys__, f"items[{index}]", path)
    return cast(Report, data)


def _require(record: dict[str, Any], keys: frozenset[str], where: str, path: str | Path) -> None:
    missing = sorted(keys - set(record))
    if missing:
        field = ", ".join(f"{where}.{key}" if where else key for key in missing)
        raise ReportFileError(f"{path}: field(s) {field} missing: the report is damaged or was not written by "
                              f"pytest-cudabench ({WHAT_A_REPORT_IS})")


def load_report(path: str | Path) -> Report:
    """The run report in the file `path`, checked (see `check_report`); ReportFileError otherwise."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportFileError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise ReportFileError(f"{path}: not a text file, so not a run report ({WHAT_A_REPORT_IS})") from None
    except OSError as exc:
        raise ReportFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _not_json(path, text, exc) from None
    return check_report(data, path)
