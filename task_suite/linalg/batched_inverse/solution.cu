#include <cuda_runtime.h>
#include <math.h>

#define MAXN 32

__global__ void inverse_kernel(const float* __restrict__ A, float* __restrict__ Ainv, int n) {
    __shared__ float M[MAXN][2 * MAXN + 1];
    __shared__ int piv;
    const float* a = A + (size_t)blockIdx.x * n * n;
    int w = 2 * n;
    for (int e = threadIdx.x; e < n * w; e += blockDim.x) {
        int i = e / w, j = e % w;
        M[i][j] = j < n ? a[i * n + j] : (j - n == i ? 1.0f : 0.0f);
    }
    __syncthreads();
    for (int k = 0; k < n; ++k) {
        if (threadIdx.x < 32) {  // warp 0 finds the pivot row
            float best = -1.0f;
            int bi = k;
            for (int i = k + threadIdx.x; i < n; i += 32) {
                float v = fabsf(M[i][k]);
                if (v > best) { best = v; bi = i; }
            }
            for (int o = 16; o > 0; o >>= 1) {
                float ob = __shfl_xor_sync(0xffffffffu, best, o);
                int oi = __shfl_xor_sync(0xffffffffu, bi, o);
                if (ob > best || (ob == best && oi < bi)) { best = ob; bi = oi; }
            }
            if (threadIdx.x == 0) piv = bi;
        }
        __syncthreads();
        int p = piv;
        if (p != k)
            for (int j = threadIdx.x; j < w; j += blockDim.x) {
                float t = M[k][j];
                M[k][j] = M[p][j];
                M[p][j] = t;
            }
        __syncthreads();
        float inv = 1.0f / M[k][k];
        __syncthreads();
        for (int j = threadIdx.x; j < w; j += blockDim.x) M[k][j] *= inv;
        __syncthreads();
        // eliminate column k from the other rows; factors are read before any thread overwrites them
        for (int e = threadIdx.x; e < n * w; e += blockDim.x) {
            int i = e / w, j = e % w;
            if (i != k && j != k) M[i][j] -= M[i][k] * M[k][j];
        }
        __syncthreads();
        for (int i = threadIdx.x; i < n; i += blockDim.x)
            if (i != k) M[i][k] = 0.0f;
        __syncthreads();
    }
    float* out = Ainv + (size_t)blockIdx.x * n * n;
    for (int e = threadIdx.x; e < n * n; e += blockDim.x) out[e] = M[e / n][n + e % n];
}

extern "C" void solve(const float* A, float* Ainv, int batch, int n) {
    int block = n <= 8 ? 64 : 256;
    inverse_kernel<<<batch, block>>>(A, Ainv, n);
}
