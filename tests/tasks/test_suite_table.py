"""`python -m pytest_cudabench table`: the markdown task table and the README section it keeps up to date."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers.paths import SUITE

from pytest_cudabench.__main__ import main as cli_main
from pytest_cudabench.tasks.table import MARKER, format_bytes, main, render_table, replace_section

COPIED = ("basics/vector_add", "vision/rgb_to_gray")

README = f"""# A suite

Intro text that must stay.

## Task table

{MARKER}

stale table

## Later section

Text after the table that must stay.
"""


@pytest.fixture
def suite(tmp_path) -> Path:
    root = tmp_path / "task_suite"
    for task_id in COPIED:
        shutil.copytree(SUITE / task_id, root / task_id, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "README.md").write_text(README)
    return root


def test_render_table_rows_sizes_and_counts(suite):
    table = render_table(suite)
    lines = table.splitlines()
    assert lines[0].startswith("| id | title | tier | domain | dtypes |")
    rows = [ln for ln in lines if ln.startswith("| `")]
    assert [r.split("|")[1].strip() for r in rows] == ["`basics/vector_add`", "`vision/rgb_to_gray`"]
    vector_add = [c.strip() for c in rows[0].strip("|").split("|")]
    # vector_add: three float32 buffers of n elements; bench n from 256 to 89478485.
    assert vector_add == ["`basics/vector_add`", "Vector addition", "easy", "basics", "float32",
                          format_bytes(12 * 256), format_bytes(12 * 89478485)]
    assert vector_add[-2:] == ["3.0 KB", "1.0 GB"]
    rgb = [c.strip() for c in rows[1].strip("|").split("|")]
    assert rgb[2:5] == ["easy", "vision", "uint8, float32"]
    assert "2 tasks in 2 domains." in lines
    assert "| basics | 1 | 0 | 0 | 1 |" in lines
    assert "| vision | 1 | 0 | 0 | 1 |" in lines
    assert "| **total** | 2 | 0 | 0 | 2 |" in lines
    assert render_table(suite) == table  # deterministic


def test_format_bytes():
    assert [format_bytes(n) for n in (0, 1023, 1024, 1536, (1 << 30) - 4, 3 << 30)] == \
        ["0 B", "1023 B", "1.0 KB", "1.5 KB", "1.0 GB", "3.0 GB"]


def test_replace_section_keeps_the_rest():
    updated = replace_section(README, "| new |\n")
    assert updated.startswith("# A suite\n\nIntro text that must stay.\n")
    assert f"{MARKER}\n\n| new |\n\n## Later section\n\nText after the table that must stay.\n" in updated
    assert "stale table" not in updated
    assert replace_section(updated, "| new |\n") == updated
    assert replace_section(f"top\n{MARKER}\nold", "| t |") == f"top\n{MARKER}\n\n| t |\n"
    with pytest.raises(ValueError):
        replace_section("no marker here", "| t |")


def test_check_then_rewrite(suite, capsys):
    readme = suite / "README.md"
    assert main(["--suite", str(suite), "--check"]) == 1
    assert readme.read_text() == README  # --check changes nothing
    assert "out of date" in capsys.readouterr().err
    assert main(["--suite", str(suite)]) == 0
    text = readme.read_text()
    assert render_table(suite) in text
    assert text.startswith("# A suite\n\nIntro text that must stay.")
    assert text.endswith("## Later section\n\nText after the table that must stay.\n")
    assert main(["--suite", str(suite), "--check"]) == 0
    assert main(["--suite", str(suite)]) == 0 and readme.read_text() == text  # idempotent
    # A new task makes the table stale again; the command dispatcher reaches the same check.
    shutil.copytree(SUITE / "basics" / "vector_add", suite / "basics" / "vector_add2",
                    ignore=shutil.ignore_patterns("__pycache__"))
    toml = suite / "basics" / "vector_add2" / "task.toml"
    toml.write_text(toml.read_text().replace('id = "basics/vector_add"', 'id = "basics/vector_add2"'))
    assert cli_main(["table", "--check", "--suite", str(suite)]) == 1
    assert cli_main(["table", "--suite", str(suite)]) == 0
    assert "`basics/vector_add2`" in readme.read_text()
    assert cli_main(["table", "--check", "--suite", str(suite)]) == 0


def test_missing_marker_or_readme(suite, capsys):
    (suite / "README.md").write_text("# no marker\n")
    assert main(["--suite", str(suite), "--check"]) == 2
    assert MARKER in capsys.readouterr().err
    (suite / "README.md").unlink()
    assert main(["--suite", str(suite)]) == 2

