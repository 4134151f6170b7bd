// task: reduction/sum   expect: shared-memory race \((write-after-read|read-after-write) hazard\) in kernel sum.*line 11|wrong result|differs between two calls
// The legacy "warp-synchronous" reduction: no __syncthreads/__syncwarp between the steps in shared memory.
__global__ void sum(const float* x, float* out, int n) {
    __shared__ float s[256];
    int tid = threadIdx.x;
    float v = 0.0f;
    for (int i = blockIdx.x * blockDim.x + tid; i < n; i += gridDim.x * blockDim.x) v += x[i];
    s[tid] = v;
    __syncthreads();
    for (int stride = 128; stride > 0; stride >>= 1) {
        if (tid < stride) s[tid] += s[tid + stride];  // races: no barrier between steps
    }
    if (tid == 0) atomicAdd(out, s[0]);
}
extern "C" void solve(const float* x, float* out, int n) {
    cudaMemset(out, 0, sizeof(float));
    int grid = (n + 255) / 256;
    if (grid > 64) grid = 64;
    sum<<<grid, 256>>>(x, out, n);
}
