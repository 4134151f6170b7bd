// task: basics/vector_add   expect: dlfcn.h> is not allowed|imports `dlsym`|call to `dlsym`
// Cheat 5: looks up the runtime's event timer to tamper with it.
#include <dlfcn.h>

__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}

extern "C" void solve(const float* a, const float* b, float* c, int n) {
    void* timer = dlsym(RTLD_DEFAULT, "cudaEventElapsedTime");
    (void)timer;
    add<<<(n + 255) / 256, 256>>>(a, b, c, n);
}
