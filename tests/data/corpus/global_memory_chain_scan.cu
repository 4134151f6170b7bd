// task: reduction/inclusive_scan   expect: result depends on thread order: correct with each block's threads run in thread order between barriers, wrong when run in (reverse thread order|a shuffled order|with warps interleaved)
// Cheat 17 through global memory: each thread adds its value to the output of the thread before it, which is right
// only if the threads of a block run one after another in order (no shared memory for a race detector to watch).
#define B 256
__global__ void scan_blocks(const float* x, float* y, float* sums, int n) {
    int t = threadIdx.x, i = blockIdx.x * B + t;
    if (i < n) y[i] = x[i] + (t > 0 ? ((volatile float*)y)[i - 1] : 0.0f);
    if (i < n && (t == B - 1 || i == n - 1)) sums[blockIdx.x] = y[i];
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
