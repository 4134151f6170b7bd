#include <cuda_runtime.h>
#include <math.h>

#define MAXN 64

__global__ void cholesky_kernel(const double* __restrict__ A, double* __restrict__ L, int n) {
    __shared__ double a[MAXN][MAXN + 1];
    const double* src = A + (size_t)blockIdx.x * n * n;
    for (int e = threadIdx.x; e < n * n; e += blockDim.x) {
        int i = e / n, j = e % n;
        if (j <= i) a[i][j] = src[e];
    }
    __syncthreads();
    for (int k = 0; k < n; ++k) {
        if (threadIdx.x == 0) a[k][k] = sqrt(a[k][k]);
        __syncthreads();
        double d = a[k][k];
        for (int i = k + 1 + threadIdx.x; i < n; i += blockDim.x) a[i][k] /= d;
        __syncthreads();
        // trailing update of the lower triangle: pairs (i, j) with k < j <= i
        int m = n - k - 1;
        for (int e = threadIdx.x; e < m * m; e += blockDim.x) {
            int i = k + 1 + e / m, j = k + 1 + e % m;
            if (j <= i) a[i][j] -= a[i][k] * a[j][k];
        }
        __syncthreads();
    }
    double* out = L + (size_t)blockIdx.x * n * n;
    for (int e = threadIdx.x; e < n * n; e += blockDim.x) {
        int i = e / n, j = e % n;
        out[e] = j <= i ? a[i][j] : 0.0;
    }
}

extern "C" void solve(const double* A, double* L, int batch, int n) {
    int block = n <= 8 ? 64 : 256;
    cholesky_kernel<<<batch, block>>>(A, L, n);
}
