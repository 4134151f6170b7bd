// task: reduction/sum   expect: wrong result
// cudaMallocs an accumulator and never clears it: fresh memory is zero on a CPU by luck only; a GPU's allocator
// hands back the previous call's freed block, sum included.
__global__ void sum(const float* x, float* acc, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) atomicAdd(acc, x[i]);
}
extern "C" void solve(const float* x, float* out, int n) {
    float* acc;
    cudaMalloc(&acc, sizeof(float));
    sum<<<(n + 255) / 256, 256>>>(x, acc, n);
    cudaMemcpy(out, acc, sizeof(float), cudaMemcpyDeviceToDevice);
    cudaFree(acc);
}
