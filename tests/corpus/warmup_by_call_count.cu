// task: basics/vector_add   expect: wrong result at benchmark scale .*(after timing|in timed call)   stage: time
// Cheat 20: counts calls to tell the correctness cases and the warm-up from the timed calls, and stops working
// once the warm-up should be over.
__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}

static long calls = 0;

extern "C" void solve(const float* a, const float* b, float* c, int n) {
    if (++calls > 100) return;
    add<<<(n + 255) / 256, 256>>>(a, b, c, n);
}
