// task: basics/vector_add   expect: line 4: `__has_include` may only ask for a standard or CUDA header
// Cheat 15: probes the file system at compile time (is the task's solution there?) and behaves differently.
#include <cuda_runtime.h>
#if __has_include("../../../task_suite/basics/vector_add/solution.cu")
#define SCALE 1.0f
#else
#define SCALE 2.0f
#endif
__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = SCALE * (a[i] + b[i]);
}
extern "C" void solve(const float* a, const float* b, float* c, int n) { add<<<(n + 255) / 256, 256>>>(a, b, c, n); }
