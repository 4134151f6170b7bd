"""docs/reports.md describes every field of the record: each key of each TypedDict of the schema (results.py) is
named there in backticks, and the Performance-Score definitions are quoted as the report writes them."""

from __future__ import annotations

import re
from typing import is_typeddict

from helpers.paths import REPO

from pytest_cudabench import results

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


def schema_keys() -> dict[str, set[str]]:
    """Every TypedDict of results.py and its keys (inherited ones included)."""
    return {name: set(value.__required_keys__) | set(value.__optional_keys__)
            for name, value in vars(results).items() if is_typeddict(value)}


def undocumented(text: str) -> list[str]:
    names = documented_names(text)
    return sorted(f"{record}.{key}" for record, keys in schema_keys().items() for key in keys if key not in names)


def test_every_field_of_the_record_is_documented():
    missing = undocumented(DOC.read_text())
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
