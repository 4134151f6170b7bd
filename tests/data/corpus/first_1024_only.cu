// task: basics/vector_add   expect: (?s)wrong result.*never written
__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}
extern "C" void solve(const float* a, const float* b, float* c, int n) {
    int m = n < 1024 ? n : 1024;
    add<<<(m + 255) / 256, 256>>>(a, b, c, m);
}
