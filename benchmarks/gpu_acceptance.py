"""First contact with a GPU machine: does the GPU path of the benchmark work here? One command, within 8 minutes.

    python benchmarks/gpu_acceptance.py OUTDIR [--set CUDABench-Set.jsonl] [--steps versions,doctor,...]

Run from the project root of a machine whose Python holds numpy, pytest, pytest-xdist and cuda-bindings, after
`pip install --no-deps --no-build-isolation -e .` (no network needed). Steps, each in a process of its own with its
own timeout, a failed or stuck step never stopping the rest:

  versions    driver, toolkit, Python packages, device files and capabilities (counters, seccomp, Landlock)
  doctor      `python -m pytest_cudabench doctor --no-run` (the suite step below runs the GPU tasks it would)
  probes      the kernel child under its seccomp filter against each kind of GPU work an answer may do (plain
              launch, pageable copies, device-to-device copy, a stream, pinned memory, stream-ordered allocation, a
              host callback, a graph, device printf, a fault), through execution.runner.run_cases; the CUDABench-Set
              child (Landlock with the device nodes) on a tiny whole program, through cudabench_set.program; one
              summary line per probe saying what happened
  suite       six small tasks with the reference model on the GPU runtime, twice: verdicts, Performance-Scores and
              their spread
  gpu-tests   the GPU-only tests (`pytest tests -m gpu`)
  set         two CUDABench-Set rows (the set file given by --set; skipped with the reason without it)
  ncu         one task with --cudabench-perf=ncu

Everything a step writes (logs, JSON reports) goes under OUTDIR; a line per step, PASS, FAIL or SKIP, goes to stdout
as it ends and to OUTDIR/summary.txt, whose last line is the summary. Without a GPU it runs what it can, says
"no GPU" and exits 0; with one it exits 1 when a step failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TOTAL_S = 480  # the whole script
# name -> seconds; the sum stays under TOTAL_S with room for starting the step processes. Estimates made without a
# GPU: the first GPU run's step times (in summary.txt) are what to tune them by.
STEP_TIMEOUTS = {"versions": 15, "doctor": 35, "probes": 65, "sandbox": 45, "suite": 130, "gpu-tests": 65, "set": 45,
                 "ncu": 60}
SUITE_TASKS = ("basics/vector_add", "linalg/sgemm", "ai/softmax", "reduction/sum", "ai/relu", "linalg/transpose")
NCU_TASK = "basics/vector_add"
GPU_STEPS = {"probes", "sandbox", "suite", "gpu-tests", "set", "ncu"}


def has_gpu() -> bool:
    from pytest_cudabench.timing.gpus import detect_cuda_devices

    return detect_cuda_devices() > 0


def run(command: list[str], log: Path, timeout_s: float) -> subprocess.CompletedProcess:
    """A command with its output in `log`; a timeout is a returncode of None, never an exception."""
    with log.open("w") as out:
        try:
            return subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, cwd=REPO, timeout=timeout_s,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            out.write(f"\n[gpu_acceptance] timed out after {timeout_s:.0f} s\n")
            return subprocess.CompletedProcess(command, None)  # type: ignore[arg-type]


def tail(log: Path, lines: int = 1) -> str:
    text = [line for line in log.read_text(errors="replace").splitlines() if line.strip()] if log.exists() else []
    return " | ".join(text[-lines:])[-300:]


# ---------------------------------------------------------------- steps (each runs in its own process)


def step_versions(out: Path, args) -> dict:
    from pytest_cudabench.doctor import (
        CAP_SYS_ADMIN,
        _profiling_admin_only,
        driver_cuda_version,
        has_capability,
        landlock_abi,
        toolkit_cuda_version,
    )
    from pytest_cudabench.execution.sandbox import seccomp_available
    from pytest_cudabench.timing.gpu_api import cuda_version_text, installed_gpu_apis

    facts: dict = {"python": sys.version.split()[0], "platform": platform.platform()}
    smi = shutil.which("nvidia-smi")
    if smi:
        query = subprocess.run([smi, "--query-gpu=name,driver_version,compute_cap,memory.total", "--format=csv"],
                               capture_output=True, text=True, timeout=15)
        facts["nvidia-smi"] = query.stdout.strip() or query.stderr.strip()
    driver, source = driver_cuda_version()
    toolkit = toolkit_cuda_version()
    facts["driver_cuda"] = cuda_version_text(driver) if driver else None
    facts["driver_cuda_source"] = source
    facts["nvcc_cuda"] = cuda_version_text(toolkit) if toolkit else None
    facts["gpu_apis"] = installed_gpu_apis()
    for dist in ("cuda-bindings", "pycuda", "nvidia-ml-py", "numpy", "pytest", "pytest-xdist", "torch", "cupy"):
        try:
            import importlib.metadata

            facts[f"pkg:{dist}"] = importlib.metadata.version(dist)
        except Exception:
            facts[f"pkg:{dist}"] = None
    facts["dev_nodes"] = sorted(str(p) for p in Path("/dev").glob("nvidia*"))
    facts["profiling_admin_only"] = _profiling_admin_only()
    facts["cap_sys_admin"] = has_capability(CAP_SYS_ADMIN)
    facts["euid"] = os.geteuid()
    facts["seccomp"] = seccomp_available()
    facts["landlock_abi"] = landlock_abi()
    (out / "versions.json").write_text(json.dumps(facts, indent=1))
    gpu = "no GPU" if not has_gpu() else (facts.get("nvidia-smi") or "GPU").splitlines()[-1]
    return {"status": "PASS", "detail": f"{gpu}; driver CUDA {facts['driver_cuda']}, nvcc CUDA {facts['nvcc_cuda']}, "
            f"GPU APIs {facts['gpu_apis'] or 'none'}, counters admin-only={facts['profiling_admin_only']}, "
            f"CAP_SYS_ADMIN={facts['cap_sys_admin']}, Landlock ABI {facts['landlock_abi']}"}


def step_doctor(out: Path, args) -> dict:
    log = out / "doctor.json"
    done = run([sys.executable, "-m", "pytest_cudabench", "doctor", "--no-run", "--json"], log,
               STEP_TIMEOUTS["doctor"] - 5)
    try:
        rows = {row["name"]: row for row in json.loads(log.read_text())["checks"]}
    except (ValueError, KeyError):
        return {"status": "FAIL", "detail": f"doctor printed no table (exit {done.returncode}): {tail(log)}"}
    problems = [f"{name}: {row['detail']}" for name, row in rows.items() if row["status"] in ("missing", "warn")]
    api = rows.get("GPU API", {}).get("detail", "?")
    status = "PASS" if done.returncode == 0 else "FAIL"
    return {"status": status, "detail": f"GPU API {api}" + (f"; {len(problems)} problem(s): " + "; ".join(problems)
                                                           if problems else "")}


KERNEL = """
__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}
"""
LAUNCH = "add<<<(n + 255) / 256, 256>>>(a, b, c, n);"
# What answers may do on a GPU, one kind of work each; every one computes c = a + b.
KERNEL_PROBES = {
    "launch": LAUNCH,
    "pageable-copies": """
    float* host = (float*)malloc(sizeof(float) * n);
    cudaMemcpy(host, a, sizeof(float) * n, cudaMemcpyDeviceToHost);
    cudaMemcpy(c, host, sizeof(float) * n, cudaMemcpyHostToDevice);
    free(host);
    add<<<(n + 255) / 256, 256>>>(c, b, c, n);""",
    "d2d-copy": """
    cudaMemcpyAsync(c, a, sizeof(float) * n, cudaMemcpyDeviceToDevice, 0);
    add<<<(n + 255) / 256, 256>>>(c, b, c, n);""",
    "stream": """
    cudaStream_t s; cudaStreamCreate(&s);
    add<<<(n + 255) / 256, 256, 0, s>>>(a, b, c, n);
    cudaStreamSynchronize(s); cudaStreamDestroy(s);""",
    "pinned-memory": """
    float* host; cudaMallocHost(&host, sizeof(float) * n);
    cudaMemcpy(host, a, sizeof(float) * n, cudaMemcpyDeviceToHost);
    cudaMemcpy(c, host, sizeof(float) * n, cudaMemcpyHostToDevice);
    cudaFreeHost(host);
    add<<<(n + 255) / 256, 256>>>(c, b, c, n);""",
    "async-alloc": """
    float* tmp; cudaMallocAsync(&tmp, sizeof(float) * n, 0);
    cudaMemcpyAsync(tmp, a, sizeof(float) * n, cudaMemcpyDeviceToDevice, 0);
    add<<<(n + 255) / 256, 256>>>(tmp, b, c, n);
    cudaFreeAsync(tmp, 0);""",
    "host-callback": """
    add<<<(n + 255) / 256, 256>>>(a, b, c, n);
    cudaLaunchHostFunc(0, noop_callback, nullptr);
    cudaDeviceSynchronize();""",
    "stream-callback": """
    add<<<(n + 255) / 256, 256>>>(a, b, c, n);
    cudaStreamAddCallback(0, noop_stream_callback, nullptr, 0);
    cudaDeviceSynchronize();""",
    "graph": """
    cudaStream_t s; cudaStreamCreate(&s);
    cudaGraph_t g; cudaGraphExec_t e;
    cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal);
    add<<<(n + 255) / 256, 256, 0, s>>>(a, b, c, n);
    cudaStreamEndCapture(s, &g);
    cudaGraphInstantiate(&e, g, 0);
    cudaGraphLaunch(e, s); cudaStreamSynchronize(s);
    cudaGraphExecDestroy(e); cudaGraphDestroy(g); cudaStreamDestroy(s);""",
    "device-printf": """
    hello<<<1, 1>>>();
    add<<<(n + 255) / 256, 256>>>(a, b, c, n);""",
    "fault": """
    add<<<(n + 255) / 256, 256>>>(a, b, (float*)8, n);""",  # an illegal address: must read as the CUDA error
}
PROBE_PRELUDE = """#include <cuda_runtime.h>
#include <cstdio>
#include <cstdlib>
static void CUDART_CB noop_callback(void*) {}
static void CUDART_CB noop_stream_callback(cudaStream_t, cudaError_t, void*) {}
__global__ void hello() { printf("probe printf\\n"); }
"""
SET_PROGRAM = r"""#include <cuda_runtime.h>
#include <cstdio>
__global__ void twice(float* x, int n) { int i = blockIdx.x * blockDim.x + threadIdx.x; if (i < n) x[i] *= 2; }
int main() {
    const int n = 1024; float host[n];
    for (int i = 0; i < n; ++i) host[i] = (float)i;
    float* d; cudaMalloc(&d, sizeof(host));
    cudaMemcpy(d, host, sizeof(host), cudaMemcpyHostToDevice);
    twice<<<4, 256>>>(d, n);
    cudaMemcpy(host, d, sizeof(host), cudaMemcpyDeviceToHost);
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) { fprintf(stderr, "%s\n", cudaGetErrorString(err)); return 2; }
    FILE* f = fopen("data/out.bin", "wb"); fwrite(host, sizeof(float), n, f); fclose(f);
    return 0;
}
"""


def _probe_verdict(name: str, outcome: str) -> tuple[str, str]:
    if name == "fault":
        ok = "illegal" in outcome.lower() or "cudaError" in outcome
        return ("PASS" if ok and "forbidden system call" not in outcome else "FAIL"), outcome
    return ("PASS" if outcome == "passed" else "FAIL"), outcome


def step_probes(out: Path, args) -> dict:
    from pytest_cudabench.cudabench_set import program
    from pytest_cudabench.errors import CudabenchError
    from pytest_cudabench.execution import runner
    from pytest_cudabench.source.compiler import compile_library
    from pytest_cudabench.tasks import inputs
    from pytest_cudabench.tasks.loader import load_task
    from pytest_cudabench.timing.gpus import default_arch

    suite = REPO / "task_suite"
    task = load_task(suite / "basics" / "vector_add", suite)
    cases = inputs.make_cases(task, seed=3, count=2)
    for case in cases:
        inputs.expect(task, case)
    cache = out / "probe-cache"
    results: list[list[str]] = []
    record = out / "probes.json"

    def keep(name: str, outcome: str, verdict: tuple[str, str]) -> None:
        lines = [line.strip() for line in verdict[1].splitlines() if line.strip()]
        short = lines[0] + (f" ... {lines[-1]}" if len(lines) > 1 else "") if lines else ""
        results.append([verdict[0], f"probe {name}", short[:400]])
        record.write_text(json.dumps(results, indent=1))  # kept as it goes: a stuck probe loses only itself

    for name, body in KERNEL_PROBES.items():
        source = PROBE_PRELUDE + KERNEL + 'extern "C" void solve(const float* a, const float* b, float* c, int n) {\n' \
            + body + "\n}\n"
        try:
            library = compile_library(source, cache_dir=cache, arch=default_arch()).library
            result = runner.run_cases(task, Path(library), "gpu", cases, timeout_s=20)
            outcome = "passed" if all(c["passed"] for c in result.cases) else \
                "wrong result: " + "; ".join(str(c.get("message")) for c in result.cases if not c["passed"])
            outcome += f" ({result.sandbox})" if outcome != "passed" else ""
        except CudabenchError as exc:
            outcome = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a probe must report, whatever happened
            outcome = f"{type(exc).__name__}: {exc}"
        keep(name, outcome, _probe_verdict(name, outcome))
    # The CUDABench-Set child: Landlock with the device nodes, a whole program that writes its output file.
    try:
        library, entry, _ = program.build(SET_PROGRAM, "gpu", cache, default_arch())
        scratch = out / "probe-set"
        (scratch / "data").mkdir(parents=True, exist_ok=True)
        ran = program.run(library, entry, scratch, "gpu", 30)
        written = (scratch / "data" / "out.bin").read_bytes() if (scratch / "data" / "out.bin").exists() else b""
        import numpy as np

        right = len(written) == 4096 and np.array_equal(np.frombuffer(written, np.float32),
                                                         np.arange(1024, dtype=np.float32) * 2)
        outcome = (f"exit {ran.returncode}, Landlock ABI {ran.landlock_abi}, seccomp {ran.seccomp}, output "
                   f"{'right' if right else 'missing or wrong'}" + (f"; {ran.output.strip()[-200:]}" if not right else ""))
        keep("set-program", outcome, ("PASS" if ran.returncode == 0 and right else "FAIL", outcome))
    except Exception as exc:
        outcome = f"{type(exc).__name__}: {exc}"
        keep("set-program", outcome, ("FAIL", outcome))
    failed = [r for r in results if r[0] == "FAIL"]
    return {"status": "FAIL" if failed else "PASS", "lines": results,
            "detail": f"{len(results) - len(failed)}/{len(results)} probes as expected"}


def step_sandbox(out: Path, args) -> dict:
    """benchmarks/gpu_sandbox_probe.py: each kind of work after the kernel child's two confinements. Under the GPU
    runtime's (landlock) every kind must work; under the strict filter a failure is expected and only recorded."""
    record = out / "sandbox-probe.json"
    log = out / "sandbox-probe.log"
    done = run([sys.executable, str(REPO / "benchmarks" / "gpu_sandbox_probe.py"), "--json", str(record)], log,
               STEP_TIMEOUTS["sandbox"] - 5)
    if not record.exists():
        return {"status": "FAIL", "detail": f"the probe wrote nothing (exit {done.returncode}): {tail(log, 3)}"}
    outcomes = json.loads(record.read_text())
    lines = [["PASS" if outcome.startswith("ok") or not key.startswith("landlock/") else "FAIL", f"sandbox {key}",
              outcome] for key, outcome in outcomes.items()]
    failed = [line for line in lines if line[0] == "FAIL"]
    return {"status": "FAIL" if failed else "PASS", "lines": lines,
            "detail": f"{len(lines) - len(failed)}/{len(lines)} kinds of work as expected after confinement"}


def _report(report_dir: Path) -> dict | None:
    found = sorted(report_dir.glob("*.json"))
    return json.loads(found[-1].read_text()) if found else None


def _pytest(out: Path, name: str, paths: list[str], extra: list[str], timeout_s: float) -> tuple[int | None, dict | None,
                                                                                                Path]:
    report_dir = out / name
    log = out / f"{name}.log"
    done = run([sys.executable, "-m", "pytest", *paths, "-p", "no:cacheprovider", "-q", "-rs",
                "--cudabench-model=reference", "--cudabench-runtime=gpu", "--cudabench-levels=1",
                f"--cudabench-report-dir={report_dir}", f"--cudabench-cache-dir={out / 'cache'}", *extra], log,
               timeout_s)
    return done.returncode, _report(report_dir), log


def _items(report: dict | None) -> dict:
    return {item["nodeid"]: item for item in (report or {}).get("items", [])}


def step_suite(out: Path, args) -> dict:
    paths = [f"task_suite/{task}" for task in SUITE_TASKS]
    runs = []
    for k in (1, 2):
        code, report, log = _pytest(out, f"suite-run{k}", paths, ["--cudabench-cases=3"],
                                    STEP_TIMEOUTS["suite"] / 2 - 5)
        if report is None:
            return {"status": "FAIL", "detail": f"run {k} wrote no report (exit {code}): {tail(log)}"}
        runs.append(_items(report))
    parts, spreads, failed = [], [], []
    for nodeid, first in runs[0].items():
        second = runs[1].get(nodeid, {})
        verdicts = (first.get("outcome"), second.get("outcome"))
        scores = (first.get("performance_score"), second.get("performance_score"))
        if verdicts != ("passed", "passed"):
            failed.append(f"{nodeid}: {verdicts[0]}/{verdicts[1]} {first.get('message') or ''}"[:200])
        if None not in scores:
            spread = abs(scores[0] - scores[1]) / max(1e-12, (scores[0] + scores[1]) / 2)
            spreads.append(spread)
            parts.append(f"{nodeid.split('::')[0].removeprefix('task_suite/')} {scores[0]:.3f}/{scores[1]:.3f}")
    (out / "suite-spread.json").write_text(json.dumps({"scores": parts, "spreads": spreads}, indent=1))
    worst = max(spreads, default=None)
    detail = (f"{len(runs[0])} items x 2 runs; Performance-Scores {'; '.join(parts) or 'none'}; worst spread "
              f"{worst:.1%}" if worst is not None else f"{len(runs[0])} items x 2 runs; no Performance-Score")
    if failed:
        return {"status": "FAIL", "detail": detail + "; not passed twice: " + "; ".join(failed)}
    return {"status": "PASS", "detail": detail}


def step_gpu_tests(out: Path, args) -> dict:
    log = out / "gpu-tests.log"
    done = run([sys.executable, "-m", "pytest", "tests", "-m", "gpu", "-p", "no:cacheprovider", "-q", "-rs",
                f"--junitxml={out / 'gpu-tests.xml'}"], log, STEP_TIMEOUTS["gpu-tests"] - 5)
    status = "PASS" if done.returncode == 0 else "FAIL"
    return {"status": status, "detail": tail(log)}


def step_set(out: Path, args) -> dict:
    if not args.set:
        return {"status": "SKIP", "detail": "no set file: pass --set CUDABench-Set.jsonl"}
    from pytest_cudabench.cudabench_set.rows import load_rows

    rows = [row for row in load_rows(args.set) if row.scale == 1][:2]
    if not rows:
        return {"status": "SKIP", "detail": f"{args.set} has no scale-1 rows"}
    ids = [f"{args.set}::{row.task}::scale1::level1[sample0]" for row in rows]
    code, report, log = _pytest(out, "set", ids, ["--cudabench-set-scales=1"], STEP_TIMEOUTS["set"] - 5)
    items = _items(report)
    parts = [f"{item['nodeid'].split('::')[1]}: {item.get('outcome')} ncu={item.get('ncu_performance_score')}"
             for item in items.values()]
    ok = len(items) == len(rows) and all(item.get("outcome") == "passed" for item in items.values())
    return {"status": "PASS" if ok else "FAIL", "detail": "; ".join(parts) or f"no items (exit {code}): {tail(log)}"}


def step_ncu(out: Path, args) -> dict:
    code, report, log = _pytest(out, "ncu", [f"task_suite/{NCU_TASK}"], ["--cudabench-perf=ncu"],
                                STEP_TIMEOUTS["ncu"] - 5)
    items = list(_items(report).values())
    if not items:
        return {"status": "FAIL", "detail": f"no items (exit {code}): {tail(log)}"}
    item = items[0]
    ncu = ((item.get("stages") or {}).get("time") or {}).get("ncu") or {}
    score = item.get("ncu_performance_score")
    ok = item.get("outcome") == "passed" and score is not None
    return {"status": "PASS" if ok else "FAIL",
            "detail": f"{NCU_TASK}: {item.get('outcome')}, ncu Performance-Score {score}"
                      + ("" if ok else f"; {ncu.get('message') or item.get('message') or tail(log)}")}


STEPS = {"versions": step_versions, "doctor": step_doctor, "probes": step_probes, "sandbox": step_sandbox,
         "suite": step_suite,
         "gpu-tests": step_gpu_tests, "set": step_set, "ncu": step_ncu}


# ---------------------------------------------------------------- the driver


def run_step(name: str, out: Path, args, gpu: bool) -> list[list[str]]:
    """[[status, step, detail], ...] of one step, run in a process of its own under its timeout."""
    if name in GPU_STEPS and not gpu:
        return [["SKIP", name, "no GPU"]]
    timeout_s = STEP_TIMEOUTS[name]
    result_file = out / f".{name}.result.json"
    command = [sys.executable, __file__, str(out), "--run-step", name] + (["--set", args.set] if args.set else [])
    started = time.monotonic()
    done = run(command, out / f"{name}.step.log", timeout_s)
    seconds = time.monotonic() - started
    if result_file.exists():
        result = json.loads(result_file.read_text())
        result_file.unlink()
    elif done.returncode is None:
        result = {"status": "FAIL", "detail": f"timed out after {timeout_s} s: {tail(out / f'{name}.step.log')}"}
        if name == "probes" and (out / "probes.json").exists():  # what the probes found before it stopped
            result["lines"] = json.loads((out / "probes.json").read_text())
    else:
        result = {"status": "FAIL", "detail": f"exit {done.returncode}: {tail(out / f'{name}.step.log', 3)}"}
    lines = [[result["status"], name, f"{result['detail']} ({seconds:.0f} s)"]]
    return lines + [list(line) for line in result.get("lines", [])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", help="where logs, reports and summary.txt go")
    parser.add_argument("--set", help="a CUDABench-Set file for the set step (skipped without it)")
    parser.add_argument("--steps", default=",".join(STEPS), help=f"steps to run (default all: {','.join(STEPS)})")
    parser.add_argument("--run-step", help=argparse.SUPPRESS)  # internal: one step, in its own process
    args = parser.parse_args(argv)
    steps = [s for s in args.steps.split(",") if s]
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        parser.error(f"unknown step(s) {', '.join(unknown)}; steps: {', '.join(STEPS)}")
    out = Path(args.outdir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if args.set:
        args.set = str(Path(args.set).resolve())
    if args.run_step:
        try:
            result = STEPS[args.run_step](out, args)
        except Exception as exc:
            traceback.print_exc()
            result = {"status": "FAIL", "detail": f"{type(exc).__name__}: {exc}"[:400]}
        (out / f".{args.run_step}.result.json").write_text(json.dumps(result))
        return 0
    gpu = has_gpu()
    print("GPU found: running every step" if gpu else "no GPU: running what runs without one", flush=True)
    start = time.monotonic()
    lines: list[list[str]] = []
    for name in steps:
        for status, step, detail in run_step(name, out, args, gpu):
            line = f"{status:<4}  {step:<22}  {detail}"
            print(line, flush=True)
            lines.append([status, step, line])
    counts = {s: sum(1 for line in lines if line[0] == s) for s in ("PASS", "FAIL", "SKIP")}
    last = (f"summary: {counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped in "
            f"{time.monotonic() - start:.0f} s" + ("" if gpu else "; no GPU"))
    (out / "summary.txt").write_text("\n".join([line for _, _, line in lines] + [last]) + "\n")
    print(last, flush=True)
    return 1 if gpu and counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
