// task: basics/vector_add   expect: defines `clock_gettime`
// Cheat 22: interposes the host clock the harness reads (token pasting hides the name from the source check;
// the library's symbol table does not).
#define NAME(a, b) a##b
__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}
extern "C" int NAME(clock_, gettime)(clockid_t id, struct timespec* ts) noexcept {
    ts->tv_sec = 0; ts->tv_nsec = 0;
    return 0;  // time stands still
}
extern "C" void solve(const float* a, const float* b, float* c, int n) {
    add<<<(n + 255) / 256, 256>>>(a, b, c, n);
}
