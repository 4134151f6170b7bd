// Source-pass corner cases: namespace-scope extern __shared__, a launch inside a macro, a kernel whose template
// argument is deduced, launches split over lines, a kernel in a namespace, comments between <<< and >>>.
#include <cuda_runtime.h>

extern __shared__ float ns_dyn[];

namespace ops {
template <typename T>
__global__ void fill(T* out, T value, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    ns_dyn[threadIdx.x] = (float)value;
    __syncthreads();
    if (i < n) out[i] = (T)ns_dyn[(threadIdx.x + 1) % blockDim.x] + (T)i;
}
}  // namespace ops

#define LAUNCH_FILL(out, v, n) ops::fill<<<((n) + 31) / 32, 32, 32 * sizeof(float)>>>(out, v, n)

extern "C" void solve(int* a, float* b, int n) {
    LAUNCH_FILL(a, 5, n);
    ops::fill
        <<< (n + 63) / 64, /* block */ 64,
            64 * sizeof(float) >>>
        (b, 2.5f,
         n);
}
