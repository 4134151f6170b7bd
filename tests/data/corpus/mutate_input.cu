// task: basics/vector_add   expect: modified the input `a`
__global__ void add(float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) { c[i] = a[i] + b[i]; a[i] = 0.0f; }
}
extern "C" void solve(const float* a, const float* b, float* c, int n) {
    add<<<(n + 255) / 256, 256>>>(const_cast<float*>(a), b, c, n);
}
