// task: reduction/inclusive_scan   expect: shared-memory race \((read-after-write|write-after-read) hazard\) in kernel scan_blocks.*at line 9 .*at line 9
// Cheat 17: a block-level inclusive scan in shared memory with no __syncthreads(): each thread adds its value to the
// store of the thread before it, which is right only if the threads of a block run one after another in order.
#define B 256
__global__ void scan_blocks(const float* x, float* y, float* sums, int n) {
    __shared__ float s[B];
    int t = threadIdx.x, i = blockIdx.x * B + t;
    float v = i < n ? x[i] : 0.0f;
    s[t] = v + (t > 0 ? s[t - 1] : 0.0f);  // reads a lower-numbered thread's store: no barrier orders them
    if (i < n) y[i] = s[t];
    if (t == B - 1) sums[blockIdx.x] = s[t];
}
__global__ void scan_sums(float* sums, int blocks) {
    float acc = 0.0f;
    for (int b = 0; b < blocks; b++) { float v = sums[b]; sums[b] = acc; acc += v; }
}
__global__ void add_offsets(float* y, const float* sums, int n) {
    int i = blockIdx.x * B + threadIdx.x;
    if (i < n) y[i] += sums[blockIdx.x];
}
extern "C" void solve(const float* x, float* y, int n) {
    int blocks = (n + B - 1) / B;
    float* sums;
    cudaMalloc(&sums, blocks * sizeof(float));
    scan_blocks<<<blocks, B>>>(x, y, sums, n);
    scan_sums<<<1, 1>>>(sums, blocks);
    add_offsets<<<blocks, B>>>(y, sums, n);
    cudaFree(sums);
}
