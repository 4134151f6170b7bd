"""CUDABench-Set files run through the plugin (pytester, with and without -n 2) on rows written for these tests:
programs really build against the CPU runtime and run in the sandbox; gen.py and compare.py really run."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest
from helpers.cudabench_set_rows import (  # noqa: E402
    affine_rows,
    always_f_row,
    exit_one_row,
    hang_row,
    histogram_row,
    host_reads_device_row,
    host_sum_row,
    managed_memory_row,
    reads_outside_row,
    sigmoid_row,
    slow_row,
    write_rows,
    zero_accepting_row,
)
from helpers.cudabench_set_runs import items_by_task, report, run_set
from helpers.paths import REPO

from pytest_cudabench.cudabench_set import data as set_data  # noqa: E402
from pytest_cudabench.cudabench_set import prompt  # noqa: E402
from pytest_cudabench.cudabench_set.evaluation import (  # noqa: E402
    ORDER_NOT_REACHED,
    ORDER_NOT_RUN_JUDGED,
    SET_STAGES,
)
from pytest_cudabench.cudabench_set.rows import load_rows  # noqa: E402
from pytest_cudabench.errors import TaskError  # noqa: E402
from pytest_cudabench.execution import landlock  # noqa: E402

needs_gxx = pytest.mark.skipif(shutil.which("g++") is None, reason="the CPU runtime needs g++")


def _has(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


# --- rows, prompt, data: no programs run ---

def test_rows_are_grouped_into_tasks_and_scales(tmp_path):
    rows = load_rows(write_rows(tmp_path / "set.jsonl", [*affine_rows(0), always_f_row(2), *affine_rows(3)]))
    assert [(r.task, r.scale) for r in rows] == [("Affine", 1), ("Affine", 2), ("Compare_Says_F", 1),
                                                 ("Affine_2", 1), ("Affine_2", 2)]
    assert rows[0].key == "cudabench-set/Affine/scale1"
    assert rows[0].inputs[0].shape == (1000,) and rows[0].io_bytes == 8000


@pytest.mark.parametrize("breakage, key", [
    (lambda r: r.pop("compare.py"), "compare.py"),
    (lambda r: r["inputs"][0].update(shape="128 x 4"), "inputs[0].shape"),
    (lambda r: r["outputs"][0].update(dtype="float33"), "outputs[0].dtype"),
    (lambda r: r.update(id="seven"), "id"),
])
def test_a_malformed_row_names_file_line_and_key(tmp_path, breakage, key):
    bad = always_f_row(5)
    breakage(bad)
    path = write_rows(tmp_path / "set.jsonl", [*affine_rows(0), bad])
    with pytest.raises(TaskError) as info:
        load_rows(path)
    assert f"{path}:3: [{key}]" in str(info.value)


def test_prompt_states_the_rules_and_the_io_spec_and_a_template_changes_the_hash(tmp_path):
    (row,) = load_rows(write_rows(tmp_path / "set.jsonl", [histogram_row(0)]))
    system, user = (m["content"] for m in prompt.messages(row, 2))
    assert "data/<name>.bin" in system and "main()" in system and "one fenced code block" in system
    assert row.prompts[2] in user and "values: int32, shape (5000), file data/values.bin" in user
    assert "bins: int32, shape (16), file data/bins.bin" in user
    template = tmp_path / "t.txt"
    template.write_text("Write {task_name}.\n{prompt}\n{io_spec}\n")
    text = prompt.load_template(str(template))
    assert prompt.messages(row, 1, text)[1]["content"].startswith("Write Int_Histogram.")
    assert prompt.template_hash(text) != prompt.template_hash(None)


def test_seed_injection_replaces_numpy_torch_and_random_seeding_calls():
    source = "import numpy as np\nnp.random.seed(42)\ntorch.manual_seed(SEED)\nrandom.seed()\nrng = np.random.default_rng(7)\n"
    injected, count = set_data.inject_seed(source, 123)
    assert count == 4
    assert "np.random.seed(123)" in injected and "torch.manual_seed(123)" in injected
    assert "random.seed(123)" in injected and "default_rng(123)" in injected


def test_data_is_generated_once_per_row_and_seed(tmp_path):
    (row,) = load_rows(write_rows(tmp_path / "set.jsonl", [affine_rows(0)[0]]))
    first = set_data.generate(row, tmp_path / "cache", "run", 5)
    again = set_data.generate(row, tmp_path / "cache", "run", 5)
    paper = set_data.generate(row, tmp_path / "cache", "paper", 5)
    assert first.generated and not again.generated and paper.generated
    assert first.references == {"y": "y_ref.bin"} and first.seed_calls == 1
    assert first.input_path("x").read_bytes() == again.input_path("x").read_bytes()
    assert first.input_path("x").read_bytes() != paper.input_path("x").read_bytes()


# --- through the plugin ---

@needs_gxx
@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["no-xdist", "xdist"])
def test_reference_programs_pass_and_broken_rows_fail_with_their_reason(pytester, xdist):
    secret = pytester.path / "outside" / "secret.bin"
    secret.parent.mkdir()
    secret.write_bytes(b"cudabench-set-secret-4f1c" * 16)
    rows = [*affine_rows(0), histogram_row(2), always_f_row(3), exit_one_row(4), reads_outside_row(5, str(secret)),
            host_reads_device_row(6), managed_memory_row(7)]
    path = write_rows(pytester.path / "myset.jsonl", rows)
    result = run_set(pytester, path, *xdist)
    result.assert_outcomes(passed=4, failed=4)
    out = result.stdout.str()
    assert "myset.jsonl::Affine::scale2::level1[sample0]" in out
    items = items_by_task(report(pytester))
    assert items["Affine/scale1"]["outcome"] == "passed" and items["Affine/scale1"]["correct"] is True
    hist = items["Int_Histogram/scale1"]
    assert hist["outcome"] == "passed" and hist["set"]["own_check"]["outputs"]["bins"]["message"] == "exact"
    assert hist["set"]["judges_agree"] is True and hist["set"]["seed_mode"] == "run"
    assert hist["stages"]["execute"]["landlock_abi"] == landlock.abi_version()
    f_row = items["Compare_Says_F/scale1"]
    assert f_row["failed_stage"] == "judge" and "compare.py printed F" in f_row["message"]
    assert f_row["set"]["judges_agree"] is False  # our check accepted what compare.py rejected: shown
    exit_one = items["Exits_One/scale1"]
    assert exit_one["failed_stage"] == "execute" and "exited with code 1" in exit_one["message"]
    outside = items["Reads_Outside/scale1"]
    assert outside["failed_stage"] == "execute" and "exited with code 2" in outside["message"]
    assert "secret not readable" in outside["stages"]["execute"]["output"]
    assert b"secret-4f1c" not in b"".join(p.read_bytes() for p in (pytester.path / "reports").iterdir())
    # Host code dereferencing a device pointer faults on a GPU; the CPU runtime fails it the same way, naming it.
    host = items["Host_Reads_Device/scale1"]
    assert host["failed_stage"] == "execute" and "SIGSEGV: host code accessed device memory (byte 0 of a 1024-byte " \
        "cudaMalloc'd buffer) outside any kernel" in host["message"]
    assert items["Managed_Affine/scale1"]["outcome"] == "passed"  # managed memory is the host's to touch
    # Why no run in another thread order was made, in words that name the stage that stopped the item.
    assert exit_one["set"]["thread_order"]["message"] == ORDER_NOT_REACHED
    assert exit_one["set"]["thread_order"]["verdict"] == "not-reached"
    assert f_row["set"]["thread_order"]["message"] == ORDER_NOT_RUN_JUDGED
    assert hist["set"]["thread_order"]["verdict"] == "passed"
    # The judge stage's duration is the judges' (compare.py is a Python subprocess), though they run during execute.
    assert hist["stages"]["judge"]["ran_during"] == "execute" and hist["stages"]["judge"]["duration_s"] > 0.02
    # The terminal: no tier table for tierless rows; the seed mode, the judges' agreement, the thread-order runs.
    assert "by tier" not in out and "None " not in out
    assert "CUDABench-Set: 8 items, seed mode run (the run's seed put into gen.py's seeding calls)" in out
    assert "judges: compare.py and our check agree on 4 of 5 judged by both, disagree on 1" in out
    assert "Compare_Says_F/scale1 level 1: compare.py rejected the outputs, ours accepted them" in out
    assert "run in another thread order: " in out and "3 not reached, 1 not run, 4 passed" in out
    # The HTML page: chips in the set's stage order (data before execute), the same facts per item.
    page = next((pytester.path / "reports").glob("*.html")).read_text()
    row = page.split('data-search="cudabench-set/int_histogram/scale1', 1)[1].split("</tbody>", 1)[0]
    assert re.findall(r'<span class="chip [^"]*" title="[^"]*">([a-z-]+)</span>', row) == list(SET_STAGES)
    assert "<th>judges</th><td>agree</td>" in row and "<th>thread order</th><td>passed: run " in row
    assert "by tier" not in page and "seed mode run" in page


@needs_gxx
def test_a_hanging_program_fails_a_slow_one_is_skipped_and_one_that_sums_on_the_host_fails(pytester):
    path = write_rows(pytester.path / "limits.jsonl", [hang_row(0), slow_row(1), host_sum_row(2)])
    result = run_set(pytester, path, "--cudabench-timeout=4")
    result.assert_outcomes(failed=2, skipped=1)
    items = items_by_task(report(pytester))
    # Host code spinning after its kernel: no kernel work in the last seconds before the kill.
    hang = items["Hangs/scale1"]
    assert hang["failed_stage"] == "execute" and "ran past the 4 s limit of the CPU runtime and was killed: no " \
        "kernel work in its last" in hang["message"] and "(a hang" in hang["message"]
    # Kernels still finishing threads at the limit: the CPU runtime's slowness, not the program's fault.
    slow = items["Slow_Affine/scale1"]
    assert slow["outcome"] == "skipped" and slow["message"].startswith("too slow for the CPU runtime: the program's "
                                                                       "kernels were still working at the 4 s limit")
    assert slow["stages"]["execute"]["work"] > 0
    # Reads its input and sums on the host: compare.py accepts it (CUDABench's verdict, kept), the knockout run not.
    host = items["Host_Reduction/scale1"]
    assert host["failed_stage"] == "execute" and host["message"].startswith(
        "the outputs do not depend on any kernel: the work is done on the host")
    assert host["set"]["compare"]["passed"] is True and host["set"]["knockout"]["verdict"] == "host-work"


@needs_gxx
@pytest.mark.skipif(not _has("torch"), reason="torch is not installed (pip install pytest-cudabench[cudabench-set])")
def test_a_row_whose_gen_py_uses_torch(pytester):
    path = write_rows(pytester.path / "torchset.jsonl", [sigmoid_row(0)])
    result = run_set(pytester, path, "--cudabench-set-seed=paper")
    result.assert_outcomes(passed=1)
    (item,) = report(pytester)["items"]
    assert item["set"]["seed_mode"] == "paper" and item["set"]["data"]["seed_calls_replaced"] == 0
    assert item["set"]["judges_agree"] is True


def test_a_malformed_row_is_a_collection_error_naming_line_and_key(pytester):
    bad = exit_one_row(9)
    bad["level2_prompt"] = ""
    path = write_rows(pytester.path / "bad.jsonl", [affine_rows(0)[0], bad])
    result = run_set(pytester, path)
    assert f"{path.name}:2: [level2_prompt] missing or empty" in result.stdout.str()
    assert result.ret != 0


@needs_gxx
def test_scales_option_keeps_each_tasks_smallest_row(pytester):
    path = write_rows(pytester.path / "scales.jsonl", [*affine_rows(0, sizes=(100, 200, 300))])
    result = run_set(pytester, path, "--cudabench-set-scales=1", "--collect-only", "-q")
    out = result.stdout.str()
    assert "Affine::scale1::level1[sample0]" in out and "scale2" not in out


@needs_gxx
def test_validate_set_finds_a_compare_that_accepts_all_zero(tmp_path):
    big = affine_rows(2, task="Too_Big", sizes=(70000,))[0]  # 547 KiB of inputs and outputs
    path = write_rows(tmp_path / "v.jsonl", [affine_rows(0)[0], zero_accepting_row(1), big])
    done = subprocess.run([sys.executable, "-m", "pytest_cudabench", "validate-set", str(path), "--runtime", "cpu",
                           "--cache-dir", str(tmp_path / "cache"), "--json", str(tmp_path / "v.json"),
                           "--max-data-mib", "0.5", "--drop-data"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr
    records = {r["task"]: r for r in json.loads((tmp_path / "v.json").read_text())["rows"]}
    assert "over --max-data-mib=0.5" in records["Too_Big"]["skipped"]
    assert not list((tmp_path / "cache" / "cudabench-set" / "data").iterdir())  # --drop-data: nothing kept
    assert records["Affine"]["defects"] == [] and records["Affine"]["reacts"] is True
    assert records["Affine"]["rejects_perturbed"] is True
    loose = records["Loose_Compare"]
    assert loose["ref_paper"] is True and loose["rejects_zero"] is False
    assert "compare.py accepts an all-zero output" in done.stdout


def test_our_check_reads_compare_tolerance_and_compares_integers_exactly():
    import numpy as np

    from pytest_cudabench.cudabench_set.judge import compare_arrays, compare_tolerance

    assert compare_tolerance("TOL = 1e-1\n") == 0.1 and compare_tolerance("np.allclose(a, b, atol=1e-3)") == 1e-3
    assert compare_tolerance("print('T')") == 1e-5
    assert compare_arrays(np.array([3, 4], np.int32), np.array([3, 4], np.int32), "int32", 1.0)["ok"] is True
    assert compare_arrays(np.array([3, 5], np.int32), np.array([3, 4], np.int32), "int32", 1.0)["ok"] is False
    near = compare_arrays(np.array([1.0005], np.float32), np.array([1.0], np.float32), "float32", 1e-3)
    far = compare_arrays(np.array([1.01], np.float32), np.array([1.0], np.float32), "float32", 1e-3)
    assert near["ok"] is True and far["ok"] is False
    nan = compare_arrays(np.array([np.nan], np.float32), np.array([1.0], np.float32), "float32", 1e-3)
    assert nan["ok"] is False


def test_the_readme_installs_pytorchs_cpu_build_before_the_extra():
    """gen.py and compare.py need only CPU torch; a plain install of the extra pulls the multi-GB CUDA build."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Running CUDABench-Set", 1)[1].split("\n## ", 1)[0]
    commands = [line.split("#")[0].strip() for line in section.split("```")[1].splitlines() if line.strip()]
    assert commands[:2] == ["pip install torch --index-url https://download.pytorch.org/whl/cpu",
                            "pip install 'pytest-cudabench[cudabench-set]'"], commands
    assert "CPU" in section and "several GB" in section
