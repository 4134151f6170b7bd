#include <cuda_runtime.h>

#define TX 32
#define TY 8
#define ROWS 4  // rows of a per thread

// Block tile: TY * ROWS rows of a by TX columns of b; threadIdx.x runs along j for coalesced writes of d.
__global__ void pairwise_kernel(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ d,
                                int m, int n) {
    __shared__ float sa[TY * ROWS][3];
    __shared__ float sb[TX][3];
    int j = blockIdx.x * TX + threadIdx.x;
    int i0 = blockIdx.y * TY * ROWS;
    int t = threadIdx.y * TX + threadIdx.x;
    for (int k = t; k < TX * 3; k += TX * TY) {
        int jj = blockIdx.x * TX + k / 3;
        sb[k / 3][k % 3] = jj < n ? b[(size_t)jj * 3 + k % 3] : 0.0f;
    }
    for (int k = t; k < TY * ROWS * 3; k += TX * TY) {
        int ii = i0 + k / 3;
        sa[k / 3][k % 3] = ii < m ? a[(size_t)ii * 3 + k % 3] : 0.0f;
    }
    __syncthreads();
    if (j >= n) return;
    float bx = sb[threadIdx.x][0], by = sb[threadIdx.x][1], bz = sb[threadIdx.x][2];
    for (int r = 0; r < ROWS; ++r) {
        int li = threadIdx.y + r * TY;
        int i = i0 + li;
        if (i >= m) break;
        float dx = sa[li][0] - bx, dy = sa[li][1] - by, dz = sa[li][2] - bz;
        d[(size_t)i * n + j] = sqrtf(dx * dx + dy * dy + dz * dz);
    }
}

extern "C" void solve(const float* a, const float* b, float* d, int m, int n) {
    dim3 block(TX, TY);
    dim3 grid((n + TX - 1) / TX, (m + TY * ROWS - 1) / (TY * ROWS));
    pairwise_kernel<<<grid, block>>>(a, b, d, m, n);
}
