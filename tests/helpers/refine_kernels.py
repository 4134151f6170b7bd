"""Versions of basics/vector_add for the refinement tests: the same sum, done with less and less redundant work (the
kernel launched 8, 4, 2 and 1 times), and a faster one that is wrong."""

KERNEL = """#include <cuda_runtime.h>

__global__ void vector_add_kernel(const float* __restrict__ a, const float* __restrict__ b,
                                  float* __restrict__ c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}

extern "C" void solve(const float* a, const float* b, float* c, int n) {
    // version REPEATS
    for (int r = 0; r < REPEATS; ++r) vector_add_kernel<<<(n + 255) / 256, 256>>>(a, b, c, n);
}
"""

# Faster than every correct version (half the launches' work), and wrong: the upper half of c is never written.
WRONG = KERNEL.replace("REPEATS", "1").replace("(a, b, c, n);", "(a, b, c, n / 2);")


def version(repeats: int) -> str:
    return KERNEL.replace("REPEATS", str(repeats))


def fenced(source: str) -> str:
    return f"Here is the faster version.\n\n```cuda\n{source}```\n"


def versions():
    """The first answer and then the answers of the refine turns, in the order the tests ask for them."""
    for source in (version(8), version(2), WRONG, version(1), version(4)):
        yield fenced(source)
