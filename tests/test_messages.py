"""The informative line of a failure message (results.message_summary), from real failures: nvcc's first error, the
first differing element of a wrong result, a crash's signal and hint, a race with its kernel and source lines, and
the same line in the terminal's top failures and the HTML report's message column."""


import pytest
from helpers.paths import CORPUS, SUITE
from helpers.report_factory import base_run, make_item

from pytest_cudabench.errors import StageFailure
from pytest_cudabench.execution.cpu_runtime import build_cpu_library
from pytest_cudabench.execution.runner import run_cases
from pytest_cudabench.reporting.html import render
from pytest_cudabench.reporting.report import build_report, summary_lines
from pytest_cudabench.results import SUMMARY_LIMIT, message_summary
from pytest_cudabench.source import compiler
from pytest_cudabench.tasks import inputs
from pytest_cudabench.tasks.loader import load_task

KERNEL = """
__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}
extern "C" void solve(const float* a, const float* b, float* c, int n) {
"""


def failure(run) -> str:
    with pytest.raises(StageFailure) as caught:
        run()
    return caught.value.message


@pytest.fixture(scope="module")
def messages(tmp_path_factory) -> dict[str, str]:
    """Real messages of real failures: nvcc on a broken answer, the CPU runtime on wrong, crashing and racing ones."""
    tmp = tmp_path_factory.mktemp("messages")
    add = load_task(SUITE / "basics" / "vector_add", SUITE)
    scan = load_task(SUITE / "reduction" / "inclusive_scan", SUITE)
    add_cases, scan_cases = inputs.make_cases(add, seed=11, count=3), inputs.make_cases(scan, seed=5, count=3)
    for task, cases in ((add, add_cases), (scan, scan_cases)):
        for case in cases:
            inputs.expect(task, case)

    def run(name: str, source: str, task=add, cases=add_cases) -> str:
        library = build_cpu_library(source, tmp / f"{name}.so")
        return failure(lambda: run_cases(task, library, "cpu", cases, timeout_s=60))

    broken = add.solution_source().replace("c[i] = a[i] + b[i];", 'c[i] = a[i] + undefined_b[i];\n    int q = "x";')
    return {
        "compile": failure(lambda: compiler.compile_library(broken, cache_dir=tmp / "cache", arch="sm_90")),
        "wrong": run("wrong", KERNEL + "add<<<(n + 255) / 256, 256>>>(a, b, c, n - 3);\n}\n"),
        "crash": run("crash", KERNEL + "int* p = 0; *p = 1;\n}\n"),
        "race": run("race", (CORPUS / "unsynced_block_scan.cu").read_text(), scan, scan_cases),
        "order": run("order", (CORPUS / "global_memory_chain_scan.cu").read_text(), scan, scan_cases),
    }


def test_nvcc_failure_summary_is_its_first_error(messages):
    assert messages["compile"].splitlines()[0] == "nvcc failed (exit 2) with 2 error(s):"
    assert message_summary(messages["compile"]) == \
        'nvcc: answer.cu(7): error: identifier "undefined_b" is undefined (first of 2 errors)'


def test_wrong_result_summary_names_the_first_differing_element(messages):
    summary = message_summary(messages["wrong"])
    assert summary.startswith("wrong result in case 0 (n=1): c[0] expected "), summary
    assert summary.endswith(" got nan (1 of 1 elements differ)"), summary


def test_crash_summary_keeps_the_signal_and_its_hint(messages):
    assert message_summary(messages["crash"]) == messages["crash"]
    assert "SIGSEGV" in messages["crash"] and "invalid memory access" in messages["crash"]


def test_race_summary_keeps_kernel_lines_and_case_and_leaves_the_advice(messages):
    summary = message_summary(messages["race"])
    assert summary.startswith("shared-memory race (write-after-read hazard) in kernel scan_blocks"), summary
    assert summary.count("at line 9") == 2 and summary.endswith("(in case 0 (n=1))"), summary
    assert "add one" in messages["race"] and "add one" not in summary and len(summary) <= SUMMARY_LIMIT


def test_thread_order_summary_says_which_order_and_the_first_differing_element(messages):
    summary = message_summary(messages["order"])
    assert "the result depends on thread order: wrong when run in " in summary, summary
    assert " expected " in summary and "elements differ)" in summary and "__syncthreads" not in summary, summary


def test_summary_limits():
    assert message_summary(None) == message_summary("  \n") == ""
    long = message_summary("x" * 1000)
    assert len(long) == SUMMARY_LIMIT and long.endswith("…")
    assert message_summary("harness error: boom:\n  indented only") == "harness error: boom:"


def report_of(messages: dict[str, str]) -> dict:
    items = [make_item(task=f"basics/t{n}", outcome="failed", failed_stage="compile" if kind == "compile" else
                       "execute", message=message) for n, (kind, message) in enumerate(messages.items())]
    return build_report(base_run(model="m", seed=1, timed=False, run_id="r"), items, [])


def test_terminal_top_failures_show_the_informative_line(messages):
    lines = summary_lines(report_of(messages))
    shown = lines[lines.index("top failures:") + 1:]
    for kind, message in messages.items():
        assert any(line.endswith(message_summary(message)) for line in shown), (kind, shown)
    assert any('undefined_b" is undefined' in line for line in shown)


def test_html_message_column_shows_the_informative_line(messages):
    page = render(report_of(messages))
    cells = [cell.split("</td>", 1)[0] for cell in page.split('<td class="msgcell">')[1:]]
    assert any("c[0] expected" in cell and "1 of 1 elements differ" in cell for cell in cells), cells
    assert any("error: identifier &quot;undefined_b&quot; is undefined" in cell for cell in cells), cells
