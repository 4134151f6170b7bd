"""Command-line tools: `python -m pytest_cudabench <command> ...`."""

from __future__ import annotations

import sys

from . import __version__

COMMANDS = {
    "list": ("pytest_cudabench.tasks.table", "main_list", "list tasks with domain, tier and tags (filter by path)"),
    "doctor": ("pytest_cudabench.doctor", "main", "what this machine can run, and what to install"),
    "validate": ("pytest_cudabench.validate", "main", "check tasks (format, reference, scales, solution)"),
    "validate-set": ("pytest_cudabench.cudabench_set.validate", "main",
                     "check the rows of a CUDABench-Set file (reference passes, compare rejects wrong outputs)"),
    "export-replay": ("pytest_cudabench.generation.service", "main_export", "export cached generations as a replay file"),
    "compare": ("pytest_cudabench.reporting.runs", "main_compare", "compare two JSON reports; non-zero exit on regression"),
    "merge": ("pytest_cudabench.reporting.runs", "main_merge",
              "merge JSON reports of one model (items union, aggregates recomputed)"),
    "leaderboard": ("pytest_cudabench.reporting.leaderboard", "main",
                    "compare models over many JSON reports: intervals, paired tests, item matrix, HTML"),
    "export-benchmark": ("pytest_cudabench.reporting.runs", "main_export_benchmark", "write timings as pytest-benchmark JSON"),
    "calibrate": ("pytest_cudabench.timing.calibrate", "main", "measure this GPU's achievable peaks (needs a GPU)"),
    "table": ("pytest_cudabench.tasks.table", "main", "rewrite the task table in task_suite/README.md (--check)"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["--version"], ["-V"]):
        print(f"pytest-cudabench {__version__}")
        return 0
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: python -m pytest_cudabench [--version] <command> [args]\n\ncommands:")
        for name, (_module, _function, help_text) in COMMANDS.items():
            print(f"  {name:17} {help_text}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module_name, function_name, _ = COMMANDS[argv[0]]
    module = __import__(module_name, fromlist=[function_name])
    return int(getattr(module, function_name)(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
