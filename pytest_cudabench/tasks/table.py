"""`python -m pytest_cudabench table [--check] [--suite task_suite]`: the task table of task_suite/README.md.

`render_table(suite_root)` loads every task under the suite and returns a markdown table (id, title, tier, domain,
buffer dtypes, data size of the smallest and largest benchmark scale, i.e. the sum of all buffers) followed by the
task counts per domain and tier. `main` rewrites the section after the `<!-- task-table -->` marker of the suite's
README.md (up to the end of the file or the next `## ` heading); with --check it changes nothing and exits 1 when
that section is out of date.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import CudabenchError
from ..files import atomic_write
from .loader import TIERS, Task, find_task_dirs, load_task

MARKER = "<!-- task-table -->"


def bench_bytes(task: Task) -> list[int]:
    """The data size (sum of all buffers) of every benchmark scale, in order."""
    totals = []
    for scale in task.sizes.bench:
        totals.append(task.buffer_bytes(task.sizes.complete(scale)))
    return totals


def format_bytes(n: float) -> str:
    """Binary units, one decimal above bytes; a value that would print as 1024.0 moves to the next unit."""
    for unit in ("B", "KB", "MB"):
        if abs(n) < 1024 and (unit == "B" or float(f"{n:.1f}") < 1024):
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def load_suite(suite_root: Path | str) -> list[Task]:
    root = Path(suite_root)
    return [load_task(path, root) for path in find_task_dirs(root)]


def render_table(suite_root: Path | str) -> str:
    """Markdown: one row per task (sorted by id), then the counts per domain and tier. Deterministic."""
    tasks = sorted(load_suite(suite_root), key=lambda t: t.id)
    lines = ["| id | title | tier | domain | dtypes | smallest bench data | largest bench data |",
             "|---|---|---|---|---|---:|---:|"]
    for task in tasks:
        dtypes = list(dict.fromkeys(a.dtype.name for a in task.args if a.is_pointer))
        totals = bench_bytes(task)
        smallest, largest = (format_bytes(min(totals)), format_bytes(max(totals))) if totals else ("-", "-")
        lines.append(f"| `{task.id}` | {_cell(task.title)} | {task.tier} | {task.domain} | {', '.join(dtypes)} "
                     f"| {smallest} | {largest} |")

    domains = sorted({t.domain for t in tasks})
    counts = {(t.domain, t.tier): 0 for t in tasks}
    for task in tasks:
        counts[(task.domain, task.tier)] += 1
    lines += ["", f"{len(tasks)} tasks in {len(domains)} domains.", "",
              "| domain | " + " | ".join(TIERS) + " | total |",
              "|---|" + "---:|" * (len(TIERS) + 1)]
    for domain in domains:
        row = [counts.get((domain, tier), 0) for tier in TIERS]
        lines.append(f"| {domain} | " + " | ".join(map(str, row)) + f" | {sum(row)} |")
    tier_totals = [sum(counts.get((d, tier), 0) for d in domains) for tier in TIERS]
    lines.append("| **total** | " + " | ".join(map(str, tier_totals)) + f" | {len(tasks)} |")
    return "\n".join(lines) + "\n"


def replace_section(text: str, table: str) -> str:
    """`text` with everything after the marker (to the end or the next `## ` heading) replaced by `table`."""
    at = text.find(MARKER)
    if at < 0:
        raise ValueError(f"no {MARKER} marker")
    head = text[:at + len(MARKER)]
    rest = text[at + len(MARKER):]
    heading = rest.find("\n## ")
    tail = rest[heading + 1:] if heading >= 0 else ""
    new = head + "\n\n" + table.strip("\n") + "\n"
    return new + ("\n" + tail if tail else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_cudabench table",
                                     description="Rewrite the task table in the suite's README.md.")
    parser.add_argument("--suite", default="task_suite", help="suite root (default: task_suite)")
    parser.add_argument("--readme", default=None, help="file holding the marker (default: SUITE/README.md)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if the table is out of date")
    args = parser.parse_args(argv)
    suite = Path(args.suite)
    readme = Path(args.readme) if args.readme else suite / "README.md"
    if not suite.is_dir():
        print(f"error: {suite} is not a directory", file=sys.stderr)
        return 2
    if not readme.is_file():
        print(f"error: {readme} not found", file=sys.stderr)
        return 2
    try:
        table = render_table(suite)
    except CudabenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = readme.read_text()
    try:
        updated = replace_section(text, table)
    except ValueError:
        print(f"error: {readme} has no {MARKER} line to put the table after", file=sys.stderr)
        return 2
    if args.check:
        if updated != text:
            print(f"{readme}: the task table is out of date; run `python -m pytest_cudabench table"
                  f"{'' if args.suite == 'task_suite' else ' --suite ' + args.suite}`", file=sys.stderr)
            return 1
        print(f"{readme}: the task table is up to date")
        return 0
    if updated != text:
        atomic_write(readme, updated)
        print(f"{readme}: task table updated")
    else:
        print(f"{readme}: task table already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
