// task: basics/vector_add   expect: wrong result at benchmark scale .*(after timing|in timed call)   stage: time
// Cheat 20: tells the warm-up from the timed calls: honest for the first 64 calls of the process (the correctness
// cases) and for the first call at each output buffer (the warm-up, as it sees it); later calls there do nothing.
__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}

static long calls = 0;
static float* warmed[16];

extern "C" void solve(const float* a, const float* b, float* c, int n) {
    if (++calls > 64) {
        for (float* p : warmed)
            if (p == c) return;
    }
    add<<<(n + 255) / 256, 256>>>(a, b, c, n);
    warmed[calls % 16] = c;
}
