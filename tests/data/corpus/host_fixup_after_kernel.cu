// task: basics/vector_add   expect: host code accessed device memory
// A kernel does most of the work, then host code patches the output in place through the device pointer.
__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n - 1) c[i] = a[i] + b[i];
}
extern "C" void solve(const float* a, const float* b, float* c, int n) {
    add<<<(n + 255) / 256, 256>>>(a, b, c, n);
    cudaDeviceSynchronize();
    if (n > 0) c[n - 1] = a[n - 1] + b[n - 1];
}
