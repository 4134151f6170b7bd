#include <cuda_runtime.h>
#include <cuda_fp16.h>

#define BM 64
#define BN 64
#define BK 16
// 256 threads, each computing a 4 x 4 register tile of the 64 x 64 block tile

__global__ void hgemm_kernel(const __half* __restrict__ A, const __half* __restrict__ B, float* __restrict__ C,
                             int M, int N, int K) {
    __shared__ float As[BK][BM + 4];  // transposed: As[k][m]
    __shared__ float Bs[BK][BN + 4];
    int tid = threadIdx.x;
    int tr = tid / 16, tc = tid % 16;  // thread's 4 x 4 sub-tile at rows tr*4.., cols tc*4..
    int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
    float acc[4][4] = {};
    for (int k0 = 0; k0 < K; k0 += BK) {
        for (int i = tid; i < BM * BK; i += 256) {  // A tile: 64 rows x 16 k
            int m = i / BK, k = i % BK;
            int gm = row0 + m, gk = k0 + k;
            As[k][m] = (gm < M && gk < K) ? __half2float(A[(size_t)gm * K + gk]) : 0.0f;
        }
        for (int i = tid; i < BK * BN; i += 256) {  // B tile: 16 k x 64 cols
            int k = i / BN, n = i % BN;
            int gk = k0 + k, gn = col0 + n;
            Bs[k][n] = (gk < K && gn < N) ? __half2float(B[(size_t)gk * N + gn]) : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; ++k) {
            float a[4], b[4];
            for (int r = 0; r < 4; ++r) a[r] = As[k][tr * 4 + r];
            for (int c = 0; c < 4; ++c) b[c] = Bs[k][tc * 4 + c];
            for (int r = 0; r < 4; ++r)
                for (int c = 0; c < 4; ++c) acc[r][c] += a[r] * b[c];
        }
        __syncthreads();
    }
    for (int r = 0; r < 4; ++r) {
        int gm = row0 + tr * 4 + r;
        if (gm >= M) continue;
        for (int c = 0; c < 4; ++c) {
            int gn = col0 + tc * 4 + c;
            if (gn < N) C[(size_t)gm * N + gn] = acc[r][c];
        }
    }
}

extern "C" void solve(const __half* A, const __half* B, float* C, int M, int N, int K) {
    dim3 grid((N + BN - 1) / BN, (M + BM - 1) / BM);
    hgemm_kernel<<<grid, 256>>>(A, B, C, M, N, K);
}
