// task: basics/vector_add   expect: imports `dlsym` \(looks up symbols at run time\)
// Cheat 22: finds the runtime's event timer to patch it; the name is pasted together so the source never spells it.
#define RESOLVE(x) dl##x
extern "C" void* RESOLVE(sym)(void* handle, const char* name);

__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}

extern "C" void solve(const float* a, const float* b, float* c, int n) {
    static void* timer = RESOLVE(sym)((void*)0, "cudaEventElapsedTime");
    (void)timer;
    add<<<(n + 255) / 256, 256>>>(a, b, c, n);
}
