// task: basics/vector_add   expect: imports `write` \(writes to a raw file descriptor\)
// Cheat 22: writes a fake timing result straight into a descriptor it did not open (the status pipe).
#define RAW(x) wri##x
extern "C" long RAW(te)(int fd, const void* data, unsigned long size);

__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}

extern "C" void solve(const float* a, const float* b, float* c, int n) {
    static const char fake[] = "{\"event\": \"timed\", \"scale\": 0}\n";
    RAW(te)(3, fake, sizeof(fake) - 1);
    add<<<(n + 255) / 256, 256>>>(a, b, c, n);
}
