// task: basics/vector_add   expect: wrong result at benchmark scale .*(after timing|in timed call)   stage: time
// Cheat 19: honest while the correctness cases run, then fingerprints each call (pointers, n, first elements) and
// skips the work when it has seen the fingerprint before, trusting the output buffer to still hold the result.
#include <cuda_runtime.h>

__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}

struct Fingerprint { const float* a; const float* b; float* c; int n; float a0, b0; };
static Fingerprint seen[8];
static long calls = 0;

extern "C" void solve(const float* a, const float* b, float* c, int n) {
    float head[2] = {0.0f, 0.0f};
    cudaMemcpy(&head[0], a, sizeof(float), cudaMemcpyDeviceToHost);
    cudaMemcpy(&head[1], b, sizeof(float), cudaMemcpyDeviceToHost);
    Fingerprint now = {a, b, c, n, head[0], head[1]};
    if (++calls > 64) {
        for (const Fingerprint& f : seen)
            if (f.a == a && f.b == b && f.c == c && f.n == n && f.a0 == head[0] && f.b0 == head[1]) return;
    }
    add<<<(n + 255) / 256, 256>>>(a, b, c, n);
    seen[calls % 8] = now;
}
