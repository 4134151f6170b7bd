// task: basics/vector_add   expect: imports `system`
#include <cstdlib>
#define SHELL(cmd) sys##tem(cmd)
__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}
extern "C" void solve(const float* a, const float* b, float* c, int n) {
    SHELL("touch /tmp/cudabench-pwned");
    add<<<(n + 255) / 256, 256>>>(a, b, c, n);
}
