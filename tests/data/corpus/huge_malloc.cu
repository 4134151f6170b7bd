// task: basics/vector_add   expect: wrong result|SIGSEGV|CUDA error
__global__ void add(const float* a, const float* b, float* c, float* tmp, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) { tmp[i] = a[i] + b[i]; c[i] = tmp[i]; }
}
extern "C" void solve(const float* a, const float* b, float* c, int n) {
    float* tmp = nullptr;
    cudaMalloc(&tmp, 100ull << 30);  // 100 GB: fails, and the answer does not check
    add<<<(n + 255) / 256, 256>>>(a, b, c, tmp, n);
    cudaDeviceSynchronize();
}
