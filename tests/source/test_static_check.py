"""Answers stay inside the sandbox at compile time: the include allowlist and the other file-reading forms are
rejected at static-check, the compilers see neither the project nor our environment, and their output never
quotes a file other than the answer."""

import os
import re
from pathlib import Path

import pytest
from helpers.paths import REPO

from pytest_cudabench.errors import StageFailure
from pytest_cudabench.execution.cpu_runtime import CpuBuildError, build_cpu_library
from pytest_cudabench.source.compiler import compile_library
from pytest_cudabench.source.compiler_output import own_diagnostics
from pytest_cudabench.source.static_check import check_source, header_allowed

KERNEL = """
__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}
extern "C" void solve(const float* a, const float* b, float* c, int n) { add<<<(n + 255) / 256, 256>>>(a, b, c, n); }
"""


def rejection(source: str) -> str:
    with pytest.raises(StageFailure) as info:
        check_source(source)
    assert info.value.stage == "static-check"
    return info.value.message


@pytest.mark.parametrize("path", sorted(REPO.glob("task_suite/*/*/solution.cu")), ids=lambda p: p.parent.name)
def test_every_task_solution_passes_the_static_check(path):
    from pytest_cudabench.tasks.loader import load_task

    task = load_task(path.parent, REPO / "task_suite")
    check_source(task.solution_source(), task.libraries)


@pytest.mark.parametrize("header", [
    "cuda_runtime.h", "cuda_fp16.h", "cuda_bf16.h", "cooperative_groups.h", "cooperative_groups/reduce.h",
    "cuda/std/cmath", "cuda/pipeline", "cub/cub.cuh", "thrust/reduce.h", "mma.h", "curand_kernel.h",
    "cstdio", "cfloat", "math.h", "stdint.h", "vector", "algorithm", "cuda_pipeline.h", "cstdint", "thread",
])
def test_headers_of_the_standard_and_the_toolkit_are_allowed(header):
    assert header_allowed(header)


@pytest.mark.parametrize("header", [
    "/etc/passwd", "../task_suite/basics/vector_add/solution.cu", "cuda/../../../etc/passwd", "passwd",
    "solution.cu", "reference.py", "cub//x", "thrust/../x", "cuda/ std", "",
])
def test_paths_and_unknown_names_are_not_allowed(header):
    assert not header_allowed(header)


@pytest.mark.parametrize("source, expected", [
    ('#include "/etc/passwd"\n', r'line 1: `#include "/etc/passwd"` is not allowed'),
    ('\n#include "cuda_runtime.h"\n', "line 2: `#include \"cuda_runtime.h\"` is not allowed"),
    ("#include </etc/passwd>\n", "line 1: `#include </etc/passwd>`"),
    ("#include <../../etc/passwd>\n", "line 1: `#include <../../etc/passwd>`"),
    ('#define F "/etc/passwd"\n#include F\n', "line 2: `#include F`"),
    ('  %:  include "/etc/passwd"\n', "line 1: `#include"),
    ('# \\\n include "/etc/passwd"\n', "line 1: `#include"),
    ('#include_next <cuda_runtime.h>\n', "line 1: `#include_next`"),
    ('#import "/etc/passwd"\n', "line 1: `#import`"),
    ('static const char d[] = {\n#embed "/etc/passwd"\n};\n', "line 2: `#embed`"),
    ('#if __has_include("/etc/passwd")\n#endif\n', "line 1: `__has_include` may only"),
    ('#if __has_include(</etc/passwd>)\n#endif\n', "line 1: `__has_include`"),
    ('#if __has_include_next(<cuda.h>)\n#endif\n', "line 1: `__has_include_next`"),
    ('#define P __has_include\n', "line 1: `__has_include`"),
    ('#pragma GCC dependency "/etc/passwd"\n', "line 1: `#pragma GCC dependency"),
    ('#pragma push_macro("solve")\n', "line 1: `#pragma push_macro"),
    ('_Pragma("GCC dependency \\"/etc/passwd\\"")\n', "line 1: `_Pragma`"),
    ('asm(".incbin \\"/etc/passwd\\"");\n', "line 1: an assembler file directive"),
    ('asm(".inc" "bin \\"/etc/passwd\\"");\n', "line 1: an assembler file directive"),
    ('asm(".\\x69ncbin \\"/etc/passwd\\"");\n', "line 1: an assembler file directive"),
    ('asm(".include \\"/etc/passwd\\"");\n', "line 1: an assembler file directive"),
    ('#define B "bin \\"/etc/passwd\\""\nasm(".inc" B);\n', "line 2: an assembler file directive"),
    ('asm(R"(.incbin "/etc/passwd")");\n', "an assembler file directive"),
])
def test_every_way_of_reading_a_file_is_rejected_with_its_line(source, expected):
    message = rejection(source + KERNEL)
    assert expected in message, message
    assert "root:x" not in message


def test_legitimate_directives_pass():
    check_source("#include <cuda_runtime.h>\n#include<cstdio>\n#  include <cooperative_groups/reduce.h>\n"
                 "#pragma once\n#pragma unroll\n#line 10 \"x.cu\"\n#if __has_include(<cuda_fp16.h>)\n"
                 "#include <cuda_fp16.h>\n#endif\n// #include \"/etc/passwd\"\n/* #embed \"x\" */\n"
                 'static const char* s = "#include \\"x\\"";\n'
                 'asm volatile("" ::: "memory");\n' + KERNEL)


def test_compiler_output_keeps_the_answers_errors_and_drops_a_headers_lines():
    log = "\n".join([
        "/usr/include/c++/12/new(70): error: invalid specifier outside a class declaration",
        "      virtual const char* what() const throw();   // header text",
        "      ^",
        "",
        "answer.cu(4): error: identifier \"undefined_thing\" is undefined",
        "    undefined_thing = 1;",
        "    ^",
        "",
        "In file included from answer.cu:2:",
        "/etc/passwd:1:5: error: found ':' in nested-name-specifier",
        "    1 | root:x:0:0:root:/root:/bin/bash",
        "      |     ^",
        "answer.cu:4:80: error: 'undefined_thing' was not declared in this scope",
        "2 errors detected in the compilation of \"answer.cu\".",
    ])
    shown = own_diagnostics(log, "answer.cu")
    assert "header text" not in shown and "root:x" not in shown
    assert "(diagnostic from new omitted)" in shown and "(diagnostic from passwd omitted)" in shown
    assert 'answer.cu(4): error: identifier "undefined_thing" is undefined' in shown
    assert "    undefined_thing = 1;" in shown
    assert "answer.cu:4:80: error" in shown and "2 errors detected" in shown


def test_nvcc_errors_about_an_included_file_do_not_quote_it(tmp_path):
    # Straight to the compiler (the static check would stop this first): nvcc's real output on a file include.
    with pytest.raises(StageFailure) as info:
        compile_library('#include "/etc/passwd"\n' + KERNEL, cache_dir=tmp_path)
    failure = info.value
    assert failure.stage == "compile"
    for text in (failure.message, failure.details):
        assert "root:x:0" not in text and "/bin/bash" not in text and "(diagnostic from passwd omitted)" in text


def test_nvcc_runs_outside_the_project_so_relative_paths_reach_nothing(tmp_path):
    # From <cache>/compile/<key>/ this path used to reach the suite when the cache sat in the project.
    cache = REPO / ".cudabench_cache_test_static_check"
    try:
        with pytest.raises(StageFailure) as info:
            compile_library('#define solve solve_ref\n#include "../../../task_suite/basics/vector_add/solution.cu"\n'
                            '#undef solve\nextern "C" void solve(const float* a, const float* b, float* c, int n)'
                            " { solve_ref(a, b, c, n); }\n", cache_dir=cache)
        assert re.search("No such file|cannot open source file", info.value.message)
    finally:
        import shutil

        shutil.rmtree(cache, ignore_errors=True)


def test_assembler_file_directive_built_by_token_pasting_fails_the_compile_stage(tmp_path):
    # No lexical check sees `.incbin` here; nvcc's preprocessed host source does.
    source = ('#define CAT(a, b) a##b\n#define STR(x) XSTR(x)\n#define XSTR(x) #x\n'
              'asm(STR(.CAT(inc, bin)) " \\"/etc/hostname\\"");\n' + KERNEL)
    check_source(source)
    with pytest.raises(StageFailure, match="once preprocessed, holds an assembler file directive"):
        compile_library(source, cache_dir=tmp_path)


def test_the_compilers_do_not_see_our_environment(tmp_path, monkeypatch):
    # Variables the compilers read (NVCC_APPEND_FLAGS, CPATH) would let the environment into the build; a secret
    # would be one #pragma message away.
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "cuda_runtime.h").write_text('#error "the environment reached the compiler"\n')
    monkeypatch.setenv("NVCC_APPEND_FLAGS", "-DCUDABENCH_SECRET=1")
    monkeypatch.setenv("CPATH", str(probe))
    monkeypatch.setenv("CPLUS_INCLUDE_PATH", str(probe))
    source = "#ifdef CUDABENCH_SECRET\n#error leaked\n#endif\n" + KERNEL
    compile_library(source, cache_dir=tmp_path / "cache")
    build_cpu_library(source, tmp_path / "lib.so")


def test_gxx_errors_about_an_included_file_do_not_quote_it(tmp_path):
    with pytest.raises(CpuBuildError) as info:
        build_cpu_library('#include "/etc/passwd"\n' + KERNEL, tmp_path / "lib.so")
    assert "root:x:0" not in str(info.value) and "root:x:0" not in info.value.log
    assert "(diagnostic from passwd omitted)" in info.value.log
    assert os.sep + "tmp" not in info.value.log


# --- library use is judged by what is called and linked, not by #include ----------------------------------------

SOFTMAX = (REPO / "task_suite" / "ai" / "softmax" / "solution.cu").read_text()
CUB_SUM = """#include <cub/cub.cuh>
__global__ void k(const float* x, float* y, int n) {
    typedef cub::BlockReduce<float, 256> R;
    __shared__ typename R::TempStorage t;
    float s = R(t).Sum(threadIdx.x < n ? x[threadIdx.x] : 0.f);
    if (threadIdx.x == 0) y[0] = s;
}
extern "C" void solve(const float* x, float* y, int n) { k<<<1, 256>>>(x, y, n); }
"""


def test_an_unused_library_include_passes_every_stage(tmp_path):
    """The KernelPilot case: a plain softmax that includes CUB and calls nothing from it, where libraries are
    barred, is judged like the same softmax without the include (here: all the way through the CPU runtime)."""
    from pytest_cudabench.config import Settings
    from pytest_cudabench.pipeline import Evaluation
    from pytest_cudabench.tasks.loader import load_task

    task = load_task(REPO / "task_suite" / "ai" / "softmax", REPO / "task_suite")
    assert task.libraries == ()
    source = "#include <cub/cub.cuh>\n" + SOFTMAX
    check_source(source)
    evaluation = Evaluation(task, 1, 0, Settings(model="m", seed=2, cache_dir=str(tmp_path), runtime="cpu",
                                                 rootdir=str(tmp_path)))
    result = evaluation.run(f"```cuda\n{source}```\n")
    assert {k: v["status"] for k, v in result["stages"].items()} == {
        "extract": "passed", "static-check": "passed", "compile": "passed", "execute": "passed", "time": "not-run"}


@pytest.mark.parametrize("source, expected", [
    (CUB_SUM, "line 3: `cub` uses cub, which this task does not allow"),
    ("#include <cub/cub.cuh>\nCUB_NAMESPACE_BEGIN\nvoid f() {}\nCUB_NAMESPACE_END\n" + SOFTMAX,
     "line 2: `CUB_NAMESPACE_BEGIN` uses cub"),
    ("#include <cub/cub.cuh>\n#define NS(a, b) a##b\n" + SOFTMAX,
     "line 2: token pasting (##) in an answer that includes <cub/cub.cuh>"),
    ("#include <thrust/sort.h>\n" + SOFTMAX.replace("softmax_rows<<<", "thrust::sort(y, y + rows);\n    softmax_rows<<<"),
     "`thrust` uses thrust"),
    (SOFTMAX.replace("softmax_rows<<<", "cublasHandle_t h; cublasCreate(&h);\n    softmax_rows<<<"),
     "`cublasCreate` uses cublas"),
])
def test_calling_a_barred_library_still_fails(source, expected):
    assert expected in rejection(source)


def test_the_cpu_runtime_builds_without_an_unused_library_include():
    from pytest_cudabench.source.static_check import without_unused_library_includes

    source = "#include <cub/cub.cuh>\n#include <cuda_runtime.h>\n" + SOFTMAX
    kept = without_unused_library_includes(source)
    assert kept.splitlines()[0] == "" and kept.splitlines()[1] == "#include <cuda_runtime.h>"
    assert kept.count("\n") == source.count("\n")  # line numbers of diagnostics stay right
    assert without_unused_library_includes(CUB_SUM) == CUB_SUM  # used: left for the runtime to refuse


@pytest.mark.skipif(not (Path(os.environ.get("CUDA_HOME", "/usr/local/cuda")) / "include" / "cublas_v2.h").is_file(),
                    reason="cuBLAS is not installed here (no cublas_v2.h)")
def test_a_linked_call_into_a_barred_library_fails_the_compile_stage(tmp_path):
    from pytest_cudabench.source.static_check import check_imports

    source = "#include <cublas_v2.h>\n" + SOFTMAX.replace(
        "softmax_rows<<<", "cublasHandle_t h; cublasCreate(&h);\n    softmax_rows<<<")
    build = compile_library(source, cache_dir=tmp_path, arch="sm_80", extra_flags=("-lcublas",))
    with pytest.raises(StageFailure, match=r"the compiled answer calls `cublasCreate\w*` of cublas"):
        check_imports(Path(build.library), ())
    check_imports(Path(build.library), ("cublas",))


HOST_CALLBACK = KERNEL.replace("add<<<", "cudaLaunchHostFunc(0, note_done, nullptr);\n    add<<<").replace(
    "extern \"C\"", "static void note_done(void*) {}\nextern \"C\"")


@pytest.mark.parametrize("source, expected", [
    (HOST_CALLBACK, "line 7: call to `cudaLaunchHostFunc` (runs host code on a CUDA driver thread)"),
    (HOST_CALLBACK.replace("cudaLaunchHostFunc(0, note_done, nullptr)",
                           "cudaStreamAddCallback(0, [](cudaStream_t, cudaError_t, void*) {}, nullptr, 0)"),
     "call to `cudaStreamAddCallback` (runs host code on a CUDA driver thread)"),
    (HOST_CALLBACK.replace("cudaLaunchHostFunc(0, ", "cuLaunchHostFunc((CUstream)0, "),
     "call to `cuLaunchHostFunc` (runs host code on a CUDA driver thread)"),
    (HOST_CALLBACK.replace("cudaLaunchHostFunc(0, note_done, nullptr)",
                           "void* f; cudaGetDriverEntryPoint(\"cuLaunchHostFunc\", &f, 0, nullptr)"),
     "call to `cudaGetDriverEntryPoint` (looks up CUDA driver functions at run time)"),
    (HOST_CALLBACK.replace("cudaLaunchHostFunc(0, note_done, nullptr)",
                           "cudaGraphNodeParams p = {}; p.type = cudaGraphNodeTypeHost"),
     "`cudaGraphNodeTypeHost` makes a graph node of host code"),
])
def test_host_callbacks_are_refused_at_static_check(source, expected):
    """The driver runs a host callback on a helper thread of its own, outside solve: seccomp filters that thread
    (TSYNC), but the GPU child's Landlock domain binds only the calling thread, so an answer may not ask for one."""
    assert expected in rejection(source)
