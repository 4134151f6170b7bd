"""The corpus of wrong and malicious answers (tests/data/corpus/*.cu), read by header."""

import re

from helpers.paths import CORPUS

HEADER = re.compile(r"^// task: (?P<task>\S+)\s+expect: (?P<expect>.+?)(?:\s+stage: (?P<stage>[\w-]+))?\s*$")


def corpus(stage: str | None = None):
    """(name, task, expect, source) of the entries whose header names `stage` (None: those that name none)."""
    entries = []
    for path in sorted(CORPUS.glob("*.cu")):
        match = HEADER.match(path.read_text().splitlines()[0])
        assert match, f"{path.name}: first line must be '// task: <id>   expect: <regex>[   stage: time]'"
        if match["stage"] == stage:
            entries.append((path.stem, match["task"], match["expect"].strip(), path.read_text()))
    return entries
