// task: basics/vector_add   expect: call to `fopen` \(opens a file\)
// Cheat 14: looks for the task's expected data on disk instead of computing it.
#include <cstdio>

__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}

extern "C" void solve(const float* a, const float* b, float* c, int n) {
    FILE* f = fopen("../../task_suite/basics/vector_add/reference.py", "r");
    if (f) fclose(f);
    add<<<(n + 255) / 256, 256>>>(a, b, c, n);
}
