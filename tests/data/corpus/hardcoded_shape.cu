// task: basics/vector_add   expect: wrong result|SIGSEGV|out-of-bounds
__global__ void add(const float* a, const float* b, float* c) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < 1024) c[i] = a[i] + b[i];
}
extern "C" void solve(const float* a, const float* b, float* c, int n) {
    add<<<4, 256>>>(a, b, c);  // sized for the example in the prompt, not for n
}
