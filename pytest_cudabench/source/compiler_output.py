"""Compiler output as it may be shown: only diagnostics about the answer's own lines.

A diagnostic located in any other file (a header, or a file an answer managed to include) would echo that file's
lines, which then travel into reports and repair prompts. Such a diagnostic, with its echoed source lines and
notes, is replaced by one line naming the file's base name. Both nvcc's front end (`file(12): error: ...`) and
gcc (`file:12:5: error: ...`, `In file included from file:3`) are understood.
"""

from __future__ import annotations

import os
import re

# The start of a located diagnostic: EDG `path(12): kind`, gcc `path:12:5: kind` or `path: In function ...`.
_LOCATED = re.compile(r"^(?:\"(?P<quoted>[^\"]+)\", line \d+|(?P<edg>[^\s(:][^():]*)\(\d+\)|"
                      r"(?P<gcc>[^\s:][^:]*?):(?:\d+:(?:\d+:)?| In |\d+ )).*$")
_INCLUDED_FROM = re.compile(r"^(?:In file included from|\s+from) (?P<file>[^:]+):\d+(?::\d+)?[:,]?\s*$")
_SUMMARY = re.compile(r"^\d+ errors? detected in the compilation of|^(?:compilation terminated|ptxas|nvlink|"
                      r"/usr/bin/ld|collect2|nvcc (?:error|warning|fatal))")


def own_diagnostics(log: str, source_name: str, scratch: str | None = None) -> str:
    """`log` with every diagnostic about a file other than `source_name` (and its echoed lines) replaced by
    "(diagnostic from <base name> omitted)"; `scratch` (the build directory) is removed from paths."""
    if scratch:
        log = log.replace(scratch.rstrip(os.sep) + os.sep, "")
    out: list[str] = []
    dropping = False
    for line in log.splitlines():
        included = _INCLUDED_FROM.match(line)
        if included:
            # The include chain names files only; keep the links from the answer itself.
            if _is_own(included["file"], source_name):
                out.append(line)
            continue
        located = _LOCATED.match(line)
        if located:
            path = located["quoted"] or located["edg"] or located["gcc"]
            dropping = not _is_own(path, source_name)
            if dropping:
                note = f"(diagnostic from {_base_name(path)} omitted)"
                if not out or out[-1] != note:
                    out.append(note)
                continue
        elif dropping and _SUMMARY.match(line):
            dropping = False
        if not dropping:
            out.append(line)
    return "\n".join(out)


def _is_own(path: str, source_name: str) -> bool:
    return path.strip() in (source_name, f".{os.sep}{source_name}")


def _base_name(path: str) -> str:
    name = os.path.basename(path.strip()) or "another file"
    return "".join(c if c.isprintable() else "?" for c in name)[:60]
