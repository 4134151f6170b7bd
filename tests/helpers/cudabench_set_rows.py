"""CUDABench-Set rows written for the project's tests (in the published format; none is taken from the set)."""

from __future__ import annotations

import json
from pathlib import Path

# Host helpers every program below shares: read and write data/<name>.bin.
IO = r"""
#include <cuda_runtime.h>
#include <cstdio>
#include <cstdlib>
#include <vector>
template <typename T> static std::vector<T> read_bin(const char* path, size_t n) {
    std::vector<T> v(n);
    FILE* f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); exit(1); }
    size_t got = fread(v.data(), sizeof(T), n, f);
    fclose(f);
    if (got != n) { fprintf(stderr, "short read %s\n", path); exit(1); }
    return v;
}
template <typename T> static void write_bin(const char* path, const std::vector<T>& v) {
    FILE* f = fopen(path, "wb");
    if (!f) { fprintf(stderr, "cannot write %s\n", path); exit(1); }
    fwrite(v.data(), sizeof(T), v.size(), f);
    fclose(f);
}
"""

AFFINE_CU = IO + r"""
__global__ void affine(const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = 2.0f * x[i] + 1.0f;
}
int main() {
    const int N = __N__;
    std::vector<float> x = read_bin<float>("data/x.bin", N), y(N);
    float *dx, *dy;
    cudaMalloc(&dx, N * sizeof(float)); cudaMalloc(&dy, N * sizeof(float));
    cudaMemcpy(dx, x.data(), N * sizeof(float), cudaMemcpyHostToDevice);
    affine<<<(N + 255) / 256, 256>>>(dx, dy, N);
    cudaMemcpy(y.data(), dy, N * sizeof(float), cudaMemcpyDeviceToHost);
    write_bin("data/y.bin", y);
    cudaFree(dx); cudaFree(dy);
    return 0;
}
"""

AFFINE_GEN = """\
import numpy as np
N = %(n)d
np.random.seed(42)
x = np.random.randn(N).astype(np.float32)
x.tofile("data/x.bin")
(2.0 * x + 1.0).astype(np.float32).tofile("data/y_ref.bin")
"""

FLOAT_COMPARE = """\
import numpy as np
N = %(n)d
out = np.fromfile("data/%(out)s.bin", dtype=np.float32, count=N)
ref = np.fromfile("data/%(ref)s.bin", dtype=np.float32, count=N)
print("T" if out.shape == ref.shape and np.allclose(out, ref, atol=%(atol)s) else "F")
"""

SIGMOID_GEN = """\
import torch
N = %(n)d
torch.manual_seed(42)
x = torch.randn(N, dtype=torch.float32)
x.numpy().tofile("data/x.bin")
torch.sigmoid(x).numpy().tofile("data/y_ref.bin")
"""

SIGMOID_CU = AFFINE_CU.replace("y[i] = 2.0f * x[i] + 1.0f;", "y[i] = 1.0f / (1.0f + expf(-x[i]));").replace(
    "affine", "sigmoid")

HISTOGRAM_CU = IO + r"""
__global__ void histogram(const int* v, int* bins, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) atomicAdd(&bins[v[i] & 15], 1);
}
int main() {
    const int N = __N__;
    std::vector<int> v = read_bin<int>("data/values.bin", N), bins(16, 0);
    int *dv, *db;
    cudaMalloc(&dv, N * sizeof(int)); cudaMalloc(&db, 16 * sizeof(int));
    cudaMemcpy(dv, v.data(), N * sizeof(int), cudaMemcpyHostToDevice);
    cudaMemset(db, 0, 16 * sizeof(int));
    histogram<<<(N + 127) / 128, 128>>>(dv, db, N);
    cudaMemcpy(bins.data(), db, 16 * sizeof(int), cudaMemcpyDeviceToHost);
    write_bin("data/bins.bin", bins);
    return 0;
}
"""

HISTOGRAM_GEN = """\
import numpy as np
N = %(n)d
np.random.seed(7)
v = np.random.randint(0, 1 << 20, N).astype(np.int32)
v.tofile("data/values.bin")
np.bincount(v & 15, minlength=16).astype(np.int32).tofile("data/bins_ref.bin")
"""

HISTOGRAM_COMPARE = """\
import numpy as np
out = np.fromfile("data/bins.bin", dtype=np.int32)
ref = np.fromfile("data/bins_ref.bin", dtype=np.int32)
print("T" if out.shape == ref.shape and (out == ref).all() else "F")
"""

# A block sum in shared memory: every thread stores its value, the block's last thread adds the slots up. Without the
# barrier it reads the other threads' slots unordered: right only when the threads of a block run in thread order.
BLOCK_SUM_CU = IO + r"""
#define B 256
__global__ void block_sum(const float* x, float* sums) {
    __shared__ float s[B];
    int t = threadIdx.x;
    s[t] = x[blockIdx.x * B + t];
    __BARRIER__
    if (t == B - 1) {
        float acc = 0.0f;
        for (int k = 0; k < B; k++) acc += s[k];
        sums[blockIdx.x] = acc;
    }
}
int main() {
    const int N = __N__, BLOCKS = N / B;
    std::vector<float> x = read_bin<float>("data/x.bin", N), sums(BLOCKS);
    float *dx, *ds;
    cudaMalloc(&dx, N * sizeof(float)); cudaMalloc(&ds, BLOCKS * sizeof(float));
    cudaMemcpy(dx, x.data(), N * sizeof(float), cudaMemcpyHostToDevice);
    block_sum<<<BLOCKS, B>>>(dx, ds);
    cudaMemcpy(sums.data(), ds, BLOCKS * sizeof(float), cudaMemcpyDeviceToHost);
    write_bin("data/sums.bin", sums);
    return 0;
}
"""

BLOCK_SUM_GEN = """\
import numpy as np
N = %(n)d
np.random.seed(3)
x = np.random.randn(N).astype(np.float32)
x.tofile("data/x.bin")
x.reshape(-1, 256).sum(axis=1, dtype=np.float64).astype(np.float32).tofile("data/sums_ref.bin")
"""


def row(row_id: int, task: str, n: int, *, bench: str = AFFINE_CU, gen: str = AFFINE_GEN,
        compare: str | None = None, inputs=None, outputs=None) -> dict:
    values = {"n": n, "out": "y", "ref": "y_ref", "atol": "1e-5"}
    return {
        "id": row_id, "task_name": task, "task_description": f"Compute the {task} kernel on GPU using CUDA.",
        "inputs": inputs or [{"name": "x", "dtype": "float32", "shape": f"({n},)"}],
        "outputs": outputs or [{"name": "y", "dtype": "float32", "shape": f"({n},)"}],
        "gpu": "unknown", "bench.cu": bench.replace("__N__", str(n)), "gen.py": gen % values,
        "compare.py": (compare or FLOAT_COMPARE) % values,
        "level1_prompt": f"Implement {task}: for each element, compute the result described by its name.",
        "level2_prompt": f"Compute {task} element-wise.", "level3_prompt": f"Compute the {task} kernel on GPU using CUDA.",
    }


def affine_rows(start_id: int = 0, task: str = "Affine", sizes=(1000, 4096)) -> list[dict]:
    return [row(start_id + k, task, n) for k, n in enumerate(sizes)]


def sigmoid_row(row_id: int, n: int = 777) -> dict:
    return row(row_id, "Torch_Sigmoid", n, bench=SIGMOID_CU, gen=SIGMOID_GEN,
               compare=FLOAT_COMPARE.replace("%(atol)s", "1e-5"))


def histogram_row(row_id: int, n: int = 5000) -> dict:
    return row(row_id, "Int_Histogram", n, bench=HISTOGRAM_CU, gen=HISTOGRAM_GEN, compare=HISTOGRAM_COMPARE,
               inputs=[{"name": "values", "dtype": "int32", "shape": f"({n},)"}],
               outputs=[{"name": "bins", "dtype": "int32", "shape": "(16,)"}])


def always_f_row(row_id: int, n: int = 256) -> dict:
    return row(row_id, "Compare_Says_F", n, compare='print("F")\n')


def exit_one_row(row_id: int, n: int = 256) -> dict:
    return row(row_id, "Exits_One", n, bench=AFFINE_CU.replace("    return 0;\n}", "    return 1;\n}"))


def reads_outside_row(row_id: int, secret_path: str, n: int = 64) -> dict:
    """Copies the bytes of a file outside its directory into its output; exits 2 when it cannot open it."""
    bench = AFFINE_CU.replace('write_bin("data/y.bin", y);', (
        'FILE* s = fopen("SECRET_PATH", "rb");\n'
        '    if (s) { fread(y.data(), 1, N * sizeof(float), s); fclose(s); printf("opened the secret\\n"); }\n'
        '    else { printf("secret not readable\\n"); return 2; }\n'
        '    write_bin("data/y.bin", y);').replace("SECRET_PATH", secret_path))
    return row(row_id, "Reads_Outside", n, bench=bench)


def hang_row(row_id: int, n: int = 64) -> dict:
    bench = AFFINE_CU.replace("    return 0;\n}", "    volatile int spin = 1;\n    while (spin) { }\n    return 0;\n}")
    return row(row_id, "Hangs", n, bench=bench)


def host_reads_device_row(row_id: int, n: int = 256) -> dict:
    """A common slip: host code reads the device output directly (here to print it) instead of the copied one."""
    write = '    write_bin("data/y.bin", y);'
    bench = AFFINE_CU.replace(write, '    printf("first %f\\n", dy[0]);\n' + write)
    assert bench != AFFINE_CU
    return row(row_id, "Host_Reads_Device", n, bench=bench)


MANAGED_CU = IO + r"""
__global__ void affine(const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = 2.0f * x[i] + 1.0f;
}
int main() {
    const int N = __N__;
    std::vector<float> x = read_bin<float>("data/x.bin", N), y(N);
    float *mx, *my;
    cudaMallocManaged(&mx, N * sizeof(float)); cudaMallocManaged(&my, N * sizeof(float));
    for (int i = 0; i < N; i++) mx[i] = x[i];  // managed memory: the host may touch it
    affine<<<(N + 255) / 256, 256>>>(mx, my, N);
    cudaDeviceSynchronize();
    for (int i = 0; i < N; i++) y[i] = my[i];
    write_bin("data/y.bin", y);
    cudaFree(mx); cudaFree(my);
    return 0;
}
"""


def managed_memory_row(row_id: int, n: int = 300) -> dict:
    return row(row_id, "Managed_Affine", n, bench=MANAGED_CU)


def zero_accepting_row(row_id: int, n: int = 512) -> dict:
    """A compare.py with a tolerance so loose that an all-zero answer passes (outputs are ~1e-4 in size)."""
    gen = AFFINE_GEN.replace("x = np.random.randn(N).astype(np.float32)",
                             "x = (np.random.randn(N) * 1e-4).astype(np.float32)").replace(
        "(2.0 * x + 1.0)", "(2.0 * x)")
    bench = AFFINE_CU.replace("2.0f * x[i] + 1.0f", "2.0f * x[i]")
    return row(row_id, "Loose_Compare", n, bench=bench, gen=gen, compare=FLOAT_COMPARE.replace("%(atol)s", "1e-2"))


def block_sum_row(row_id: int, synced: bool, n: int = 2048) -> dict:
    """A block sum in shared memory, with the barrier between the stores and the sum or without it (a race that
    thread order hides)."""
    bench = BLOCK_SUM_CU.replace("__BARRIER__", "__syncthreads();" if synced else "// no barrier")
    compare = FLOAT_COMPARE.replace("N = %(n)d", "N = %(n)d // 256").replace("%(atol)s", "1e-3")
    values = {"out": "sums", "ref": "sums_ref"}
    task = "Block_Sum" if synced else "Block_Sum_Unsynced"
    return row(row_id, task, n, bench=bench, gen=BLOCK_SUM_GEN, compare=compare % {**values, "n": n},
               outputs=[{"name": "sums", "dtype": "float32", "shape": f"({n // 256},)"}])


def global_chain_row(row_id: int, n: int = 512) -> dict:
    """Each thread adds its input to the output its lower neighbour wrote (one block, global memory, no barrier):
    a running sum that thread order computes right and any other order wrong. No shared memory: only the outputs
    show it."""
    bench = AFFINE_CU.replace("if (i < n) y[i] = 2.0f * x[i] + 1.0f;",
                              "if (i < n) y[i] = x[i] + (i > 0 ? ((volatile float*)y)[i - 1] : 0.0f);").replace(
        "affine<<<(N + 255) / 256, 256>>>", "affine<<<1, N>>>")
    gen = AFFINE_GEN.replace("(2.0 * x + 1.0)", "np.cumsum(x, dtype=np.float64)")
    return row(row_id, "Global_Chain", n, bench=bench, gen=gen, compare=FLOAT_COMPARE.replace("%(atol)s", "1e-3"))


def write_rows(path: Path, rows: list[dict], extra_lines: list[str] = ()) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "".join(line + "\n" for line in extra_lines))
    return path


# A Reduction program that never launches a kernel: it reads its input file, sums on the host and writes the sum.
HOST_SUM_CU = IO + r"""
int main() {
    const int N = __N__;
    std::vector<float> x = read_bin<float>("data/x.bin", N), y(1);
    double s = 0.0;
    for (int i = 0; i < N; i++) s += x[i];
    y[0] = (float)s;
    write_bin("data/y.bin", y);
    return 0;
}
"""

SUM_GEN = """\
import numpy as np
N = %(n)d
np.random.seed(5)
x = np.random.rand(N).astype(np.float32)
x.tofile("data/x.bin")
np.array([x.sum(dtype=np.float64)], dtype=np.float32).tofile("data/y_ref.bin")
"""


def host_sum_row(row_id: int, n: int = 4096) -> dict:
    compare = FLOAT_COMPARE.replace("N = %(n)d", "N = 1").replace("%(atol)s", "1e-2")
    return row(row_id, "Host_Reduction", n, bench=HOST_SUM_CU, gen=SUM_GEN, compare=compare % {
        "out": "y", "ref": "y_ref"}, outputs=[{"name": "y", "dtype": "float32", "shape": "(1,)"}])


def slow_row(row_id: int, n: int = 4096) -> dict:
    """A correct program that takes far longer than a test's limit on the CPU runtime: it launches its kernel over
    and over (a GPU would be done in a second), its threads finishing all the while."""
    launch = "affine<<<(N + 255) / 256, 256>>>(dx, dy, N);"
    bench = AFFINE_CU.replace(launch, "for (long r = 0; r < 1000000000L; r++) " + launch)
    assert bench != AFFINE_CU
    return row(row_id, "Slow_Affine", n, bench=bench)
