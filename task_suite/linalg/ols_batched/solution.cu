#include <cuda_runtime.h>
#include <math.h>

#define MAXP 16
#define ROWS 32  // rows of X staged per step

__global__ void ols_kernel(const double* __restrict__ X, const double* __restrict__ y, double* __restrict__ beta,
                           int m, int p) {
    __shared__ double xs[ROWS][MAXP + 1];
    __shared__ double ys[ROWS];
    __shared__ double G[MAXP][MAXP + 1];
    __shared__ double r[MAXP];
    __shared__ double z[MAXP];
    const double* Xb = X + (size_t)blockIdx.x * m * p;
    const double* yb = y + (size_t)blockIdx.x * m;
    int pairs = p * (p + 1) / 2;  // lower triangle of G, plus p entries of r: one accumulator per thread-slot
    int slots = pairs + p;
    double acc[2] = {0.0, 0.0};  // at most 136 + 16 = 152 slots over 128 threads: two per thread at most
    for (int r0 = 0; r0 < m; r0 += ROWS) {
        int nr = min(ROWS, m - r0);
        for (int e = threadIdx.x; e < nr * p; e += blockDim.x) xs[e / p][e % p] = Xb[(size_t)r0 * p + e];
        for (int e = threadIdx.x; e < nr; e += blockDim.x) ys[e] = yb[r0 + e];
        __syncthreads();
        for (int s = threadIdx.x, q = 0; s < slots; s += blockDim.x, ++q) {
            double a = 0.0;
            if (s < pairs) {
                int i = (int)((sqrt(8.0 * s + 1.0) - 1.0) / 2.0);  // s = i (i + 1) / 2 + j, j <= i
                while (i * (i + 1) / 2 > s) --i;
                while ((i + 1) * (i + 2) / 2 <= s) ++i;
                int j = s - i * (i + 1) / 2;
                for (int t = 0; t < nr; ++t) a += xs[t][i] * xs[t][j];
            } else {
                int i = s - pairs;
                for (int t = 0; t < nr; ++t) a += xs[t][i] * ys[t];
            }
            acc[q] += a;
        }
        __syncthreads();
    }
    for (int s = threadIdx.x, q = 0; s < slots; s += blockDim.x, ++q) {
        if (s < pairs) {
            int i = (int)((sqrt(8.0 * s + 1.0) - 1.0) / 2.0);
            while (i * (i + 1) / 2 > s) --i;
            while ((i + 1) * (i + 2) / 2 <= s) ++i;
            int j = s - i * (i + 1) / 2;
            G[i][j] = acc[q];
        } else {
            r[s - pairs] = acc[q];
        }
    }
    __syncthreads();
    if (threadIdx.x == 0) {  // p <= 16: a serial Cholesky solve is negligible next to the Gram accumulation
        for (int k = 0; k < p; ++k) {
            double d = G[k][k];
            for (int t = 0; t < k; ++t) d -= G[k][t] * G[k][t];
            d = sqrt(d);
            G[k][k] = d;
            for (int i = k + 1; i < p; ++i) {
                double v = G[i][k];
                for (int t = 0; t < k; ++t) v -= G[i][t] * G[k][t];
                G[i][k] = v / d;
            }
        }
        for (int i = 0; i < p; ++i) {  // L z = r
            double v = r[i];
            for (int t = 0; t < i; ++t) v -= G[i][t] * z[t];
            z[i] = v / G[i][i];
        }
        double* out = beta + (size_t)blockIdx.x * p;
        for (int i = p - 1; i >= 0; --i) {  // L^T beta = z
            double v = z[i];
            for (int t = i + 1; t < p; ++t) v -= G[t][i] * out[t];
            out[i] = v / G[i][i];
        }
    }
}

extern "C" void solve(const double* X, const double* y, double* beta, int batch, int m, int p) {
    ols_kernel<<<batch, 128>>>(X, y, beta, m, p);
}
