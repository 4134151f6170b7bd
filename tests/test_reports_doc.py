"""docs/reports.md describes every field of the record: each key of each TypedDict of the schema (results.py) and
of the leaderboard document (reporting/leaderboard.py) is named there in backticks, and the Performance-Score
definitions are quoted as the report writes them."""

from __future__ import annotations

import re
from types import ModuleType
from typing import is_typeddict

from helpers.paths import REPO

from pytest_cudabench import results
from pytest_cudabench.reporting import leaderboard

DOC = REPO / "docs" / "reports.md"


def documented_names(text: str) -> set[str]:
    """Every word in a backtick span or a code block of `text`; a dotted path (`stages.time.ncu`) also gives its
    parts."""
    spans = re.findall(r"```.*?```", text, flags=re.S) + re.findall(r"`([^`\n]+)`", text)
    names: set[str] = set()
    for span in spans:
        for word in re.findall(r"[A-Za-z_][\w.-]*", span):
            word = word.rstrip(".")
            names.add(word)
            names.update(word.split("."))
    return names


def schema_keys(module: ModuleType = results) -> dict[str, set[str]]:
    """Every public TypedDict of `module` and its keys (inherited ones included)."""
    return {name: set(value.__required_keys__) | set(value.__optional_keys__)
            for name, value in vars(module).items() if is_typeddict(value) and not name.startswith("_")}


def undocumented(text: str, module: ModuleType = results) -> list[str]:
    names = documented_names(text)
    return sorted(f"{record}.{key}" for record, keys in schema_keys(module).items() for key in keys
                  if key not in names)


def test_every_field_of_the_record_is_documented():
    missing = undocumented(DOC.read_text())
    assert not missing, f"describe these fields in {DOC} (in backticks): {', '.join(missing)}"


def test_every_field_of_the_leaderboard_is_documented():
    assert schema_keys(leaderboard).get("Leaderboard"), "reporting.leaderboard.Leaderboard is missing"
    missing = undocumented(DOC.read_text(), leaderboard)
    assert not missing, f"describe these fields in {DOC} (in backticks): {', '.join(missing)}"


def test_the_check_sees_a_missing_field():
    """The check must be able to fail: a doc without `passed_at_attempt` misses ItemResult's key."""
    text = DOC.read_text().replace("passed_at_attempt", "something_else")
    assert "ItemResult.passed_at_attempt" in undocumented(text)
    assert "ItemResult.passed_at_attempt" not in undocumented(DOC.read_text())


def test_the_schema_has_the_records_the_report_is_made_of():
    keys = schema_keys()
    for record in ("ItemResult", "Report", "RunRecord", "Totals", "GroupStats", "GenerationRecord", "AttemptRecord",
                   "RefinementRecord", "CandidateRecord", "SetRecord", "TimeStage", "ExecuteStage", "JudgeStage"):
        assert keys.get(record), f"results.{record} is missing or has no keys"


def test_the_roofline_definition_is_quoted_as_written():
    """One sentence per score definition: the report's run.performance_definition is this constant, and the doc
    quotes it."""
    assert results.ROOFLINE_DEFINITION in DOC.read_text()
