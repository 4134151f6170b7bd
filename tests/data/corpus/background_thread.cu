// task: basics/vector_add   expect: background thread
// Cheat 4: returns at once and lets a detached host thread do the work after the harness stopped looking.
#include <thread>

__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}

extern "C" void solve(const float* a, const float* b, float* c, int n) {
    std::thread([=] { add<<<(n + 255) / 256, 256>>>(a, b, c, n); cudaDeviceSynchronize(); }).detach();
}
