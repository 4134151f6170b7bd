#include <cuda_runtime.h>

// Cyclic reduction in global memory, one launch per level. Working copies a, b, c, d (batch x n) are reduced in
// place: at level l (stride s = 2^l) the rows i with (i + 1) % (2s) == 0 eliminate rows i - s and i + s, which are
// not modified at that level. Out-of-range neighbours are identity rows (a = c = 0, b = 1, d = 0, x = 0).

__global__ void init_kernel(const float* __restrict__ lower, const float* __restrict__ diag,
                            const float* __restrict__ upper, const float* __restrict__ rhs, float* a, float* b,
                            float* c, float* d, long long total, int n) {
    for (long long k = blockIdx.x * (long long)blockDim.x + threadIdx.x; k < total;
         k += (long long)gridDim.x * blockDim.x) {
        int i = (int)(k % n);
        a[k] = i == 0 ? 0.0f : lower[k];
        c[k] = i == n - 1 ? 0.0f : upper[k];
        b[k] = diag[k];
        d[k] = rhs[k];
    }
}

__global__ void reduce_kernel(float* a, float* b, float* c, float* d, int batch, int n, int s) {
    long long per = n / (2 * s);  // rows i = 2s * (j + 1) - 1 < n, j in [0, per)
    long long total = per * batch;
    for (long long k = blockIdx.x * (long long)blockDim.x + threadIdx.x; k < total;
         k += (long long)gridDim.x * blockDim.x) {
        long long sys = k / per;
        int i = (int)(2 * s * (k % per + 1) - 1);
        size_t base = (size_t)sys * n;
        size_t me = base + i;
        int lo = i - s, hi = i + s;
        float ai = a[me], bi = b[me], ci = c[me], di = d[me];
        float alpha = ai / b[base + lo];  // lo >= 0 always here
        float na = -alpha * a[base + lo];
        float nb = bi - alpha * c[base + lo];
        float nd = di - alpha * d[base + lo];
        float nc = 0.0f;
        if (hi < n) {
            float gamma = ci / b[base + hi];
            nb -= gamma * a[base + hi];
            nd -= gamma * d[base + hi];
            nc = -gamma * c[base + hi];
        }
        a[me] = na;
        b[me] = nb;
        c[me] = nc;
        d[me] = nd;
    }
}

// Back substitution at level l: rows i with (i + 1) % (2s) == s (the rows eliminated at this level) are solved from
// their already known neighbours i - s and i + s.
__global__ void substitute_kernel(const float* a, const float* b, const float* c, const float* d, float* x,
                                  int batch, int n, int s) {
    long long per = (n + s) / (2 * s);  // i = 2s * j + s - 1 < n
    long long total = per * batch;
    for (long long k = blockIdx.x * (long long)blockDim.x + threadIdx.x; k < total;
         k += (long long)gridDim.x * blockDim.x) {
        long long sys = k / per;
        int i = (int)(2 * s * (k % per) + s - 1);
        size_t base = (size_t)sys * n;
        float v = d[base + i];
        if (i - s >= 0) v -= a[base + i] * x[base + i - s];
        if (i + s < n) v -= c[base + i] * x[base + i + s];
        x[base + i] = v / b[base + i];
    }
}

static int grid_for(long long work) {
    long long g = (work + 255) / 256;
    if (g < 1) g = 1;
    if (g > 65535) g = 65535;
    return (int)g;
}

extern "C" void solve(const float* lower, const float* diag, const float* upper, const float* rhs, float* x,
                      int batch, int n) {
    long long total = (long long)batch * n;
    float* work;
    cudaMalloc(&work, sizeof(float) * 4 * (size_t)total);
    float *a = work, *b = work + total, *c = work + 2 * total, *d = work + 3 * total;
    init_kernel<<<grid_for(total), 256>>>(lower, diag, upper, rhs, a, b, c, d, total, n);
    int top = 1;  // largest power of two <= n
    while (2 * top <= n) top *= 2;
    for (int s = 1; s < top; s *= 2) reduce_kernel<<<grid_for(total / (2 * s) + 1), 256>>>(a, b, c, d, batch, n, s);
    // the row top - 1 now depends on no other row of its level; rows of level s are solved from level 2s down
    for (int s = top; s >= 1; s /= 2) substitute_kernel<<<grid_for(total / s + 1), 256>>>(a, b, c, d, x, batch, n, s);
    cudaFree(work);
}
