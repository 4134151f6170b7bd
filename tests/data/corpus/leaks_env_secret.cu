// task: basics/vector_add   expect: wrong result
// Cheat 16: reads a secret from the environment and writes it where the harness shows it: into the output (the
// mismatch message prints the values) and, as text, into the child's output before crashing (the crash report
// carries the tail of that output). With an allowlisted environment there is no secret to read.
#include <cstdio>
#include <cstdlib>
#include <cstring>
__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}
extern "C" void solve(const float* a, const float* b, float* c, int n) {
    add<<<(n + 255) / 256, 256>>>(a, b, c, n);
    const char* secret = getenv("AWS_SECRET_ACCESS_KEY");
    float leaked[64] = {0};
    int len = secret ? (int)strlen(secret) : 0;
    for (int i = 0; i < len && i < 64; ++i) leaked[i] = (float)secret[i];
    cudaMemcpy(c, leaked, sizeof(float) * (n < 64 ? n : 64), cudaMemcpyHostToDevice);
    if (secret) {
        fprintf(stderr, "leaked: %s\n", secret);
        fflush(stderr);
        *(volatile int*)nullptr = 0;
    }
}
