// Kernels whose result does or does not depend on the order of a block's threads (one block of n <= 1024 threads).
// mode 0: inclusive scan in shared memory with no barrier; each thread reads the store of the thread before it
// mode 1: the same scan done right (Hillis-Steele, __syncthreads between the steps)
// mode 2: per-warp sums (shuffles) written to shared memory by lane 0, read by thread 0 after only a __syncwarp
// mode 3: shared-memory atomics, then a barrier, then the read: no race
// mode 4: like mode 2 with a __syncthreads instead of the __syncwarp: no race
// mode 5: lanes of one warp exchange values through shared memory with a __syncwarp between store and load: no race
// mode 6: the same without the __syncwarp: a race
// mode 8: threads store neighbouring bytes of one word, then a barrier: no race
// mode 9: every thread that sees a value above 4 sets a shared flag to 1 (same value, no read in between): no report
// mode 7: reads a __shared__ array no thread of this launch wrote (the previous launch did): junk, not old values
__global__ void chain_scan(const float* x, float* y, int n) {
    __shared__ float s[1024];
    int t = threadIdx.x;
    s[t] = x[t] + (t > 0 ? s[t - 1] : 0.0f);
    y[t] = s[t];
}
__global__ void synced_scan(const float* x, float* y, int n) {
    __shared__ float s[1024];
    int t = threadIdx.x;
    s[t] = x[t];
    __syncthreads();
    for (int off = 1; off < n; off *= 2) {
        float v = t >= off ? s[t - off] : 0.0f;
        __syncthreads();
        s[t] += v;
        __syncthreads();
    }
    y[t] = s[t];
}
__global__ void warp_sums(const float* x, float* y, int n, int block_sync) {
    __shared__ float partial[32];
    int t = threadIdx.x, lane = t & 31, warp = t >> 5;
    float v = x[t];
    for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
    if (lane == 0) partial[warp] = v;
    if (block_sync) __syncthreads(); else __syncwarp();
    if (t == 0) {
        float total = 0.0f;
        for (int w = 0; w < (n + 31) / 32; w++) total += partial[w];
        y[0] = total;
    }
}
__global__ void atomic_count(const float* x, float* y, int n) {
    __shared__ int bins[4];
    int t = threadIdx.x;
    if (t < 4) bins[t] = 0;
    __syncthreads();
    atomicAdd(&bins[((int)x[t]) & 3], 1);
    __syncthreads();
    if (t < 4) y[t] = (float)bins[t];
}
__global__ void warp_exchange(const float* x, float* y, int n, int sync) {
    __shared__ float s[1024];
    int t = threadIdx.x;
    s[t] = x[t];
    if (sync) __syncwarp();
    y[t] = s[t ^ 1];
}
__global__ void leftover(const float* x, float* y, int n, int write) {
    __shared__ float s[1024];
    int t = threadIdx.x;
    if (write) s[t] = x[t];
    else y[t] = s[t];
}
__global__ void byte_stores(const float* x, float* y, int n) {
    __shared__ unsigned char b[1024];
    int t = threadIdx.x;
    b[t] = (unsigned char)x[t];
    __syncthreads();
    y[t] = b[t ^ 1];
}
__global__ void any_flag(const float* x, float* y, int n) {
    __shared__ int flag;
    if (threadIdx.x == 0) flag = 0;
    __syncthreads();
    if (x[threadIdx.x] > 4.0f) flag = 1;
    __syncthreads();
    y[threadIdx.x] = (float)flag;
}
extern "C" void solve(int mode, const float* x, float* y, int n) {
    if (mode == 9) any_flag<<<1, n>>>(x, y, n);
    if (mode == 8) byte_stores<<<1, n>>>(x, y, n);
    if (mode == 5 || mode == 6) warp_exchange<<<1, n>>>(x, y, n, mode == 5);
    if (mode == 7) {
        leftover<<<1, n>>>(x, y, n, 1);
        leftover<<<1, n>>>(x, y, n, 0);
    }
    if (mode == 0) chain_scan<<<1, n>>>(x, y, n);
    if (mode == 1) synced_scan<<<1, n>>>(x, y, n);
    if (mode == 2 || mode == 4) warp_sums<<<1, n>>>(x, y, n, mode == 4);
    if (mode == 3) atomic_count<<<1, n>>>(x, y, n);
}
