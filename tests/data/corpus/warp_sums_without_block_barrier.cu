// task: reduction/sum   expect: shared-memory race \((read-after-write|write-after-read) hazard\) in kernel block_sum.*line 1[0-4]
// Cheat 17 between warps: each warp's lane 0 stores its shuffle-reduced sum in shared memory and thread 0 adds them
// after only a __syncwarp(), which orders the lanes of its own warp, not the other warps' stores.
__global__ void block_sum(const float* x, float* out, int n) {
    __shared__ float partial[32];
    int i = blockIdx.x * blockDim.x + threadIdx.x, lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    float v = i < n ? x[i] : 0.0f;
    for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
    if (lane == 0) partial[warp] = v;
    __syncwarp();  // should be __syncthreads(): other warps' partial sums are not ordered before the read
    if (threadIdx.x == 0) {
        float total = 0.0f;
        for (int w = 0; w < blockDim.x / 32; w++) total += partial[w];
        atomicAdd(out, total);
    }
}
extern "C" void solve(const float* x, float* out, int n) {
    cudaMemset(out, 0, sizeof(float));
    block_sum<<<(n + 255) / 256, 256>>>(x, out, n);
}
