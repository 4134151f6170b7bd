// task: basics/vector_add   expect: imports `dup2` \(redirects a file descriptor\)
// Cheat 22: points stdout at the harness's status pipe so its printf lines read as the harness's own messages.
#include <cstdio>
#define REDIRECT(x) du##x
extern "C" int REDIRECT(p2)(int from, int to);

__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}

extern "C" void solve(const float* a, const float* b, float* c, int n) {
    REDIRECT(p2)(3, 1);
    printf("{\"event\": \"timed\"}\n");
    add<<<(n + 255) / 256, 256>>>(a, b, c, n);
}
