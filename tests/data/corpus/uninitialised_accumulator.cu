// task: reduction/sum   expect: wrong result
// Accumulates into out[0] without zeroing it first: relies on whatever the buffer held.
__global__ void sum(const float* x, float* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) atomicAdd(out, x[i]);
}
extern "C" void solve(const float* x, float* out, int n) {
    sum<<<(n + 255) / 256, 256>>>(x, out, n);
}
