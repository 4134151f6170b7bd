#include <cuda_runtime.h>
#include <cfloat>

#define THREADS 128
#define TILE 256
#define MAXK 32

__global__ void knn_kernel(const float* __restrict__ queries, const float* __restrict__ refs, int* __restrict__ idx,
                           float* __restrict__ dist2, int nq, int nr, int k) {
    __shared__ float sx[TILE], sy[TILE], sz[TILE];
    int q = blockIdx.x * THREADS + threadIdx.x;
    float qx = 0.f, qy = 0.f, qz = 0.f;
    if (q < nq) { qx = queries[3 * (size_t)q]; qy = queries[3 * (size_t)q + 1]; qz = queries[3 * (size_t)q + 2]; }
    float bd[MAXK];
    int bi[MAXK];
    for (int i = 0; i < MAXK; ++i) { bd[i] = FLT_MAX; bi[i] = -1; }
    for (int base = 0; base < nr; base += TILE) {
        for (int t = threadIdx.x; t < TILE; t += THREADS) {
            int j = base + t;
            if (j < nr) { sx[t] = refs[3 * (size_t)j]; sy[t] = refs[3 * (size_t)j + 1]; sz[t] = refs[3 * (size_t)j + 2]; }
        }
        __syncthreads();
        int count = min(TILE, nr - base);
        if (q < nq) {
            for (int t = 0; t < count; ++t) {
                float dx = sx[t] - qx, dy = sy[t] - qy, dz = sz[t] - qz;
                float d = dx * dx + dy * dy + dz * dz;
                if (d < bd[k - 1]) {  // strictly closer: earlier (smaller) indices win ties
                    int p = k - 1;
                    while (p > 0 && bd[p - 1] > d) { bd[p] = bd[p - 1]; bi[p] = bi[p - 1]; --p; }
                    bd[p] = d;
                    bi[p] = base + t;
                }
            }
        }
        __syncthreads();
    }
    if (q < nq) {
        for (int i = 0; i < k; ++i) {
            idx[(size_t)q * k + i] = bi[i];
            dist2[(size_t)q * k + i] = bd[i];
        }
    }
}

extern "C" void solve(const float* queries, const float* refs, int* idx, float* dist2, int nq, int nr, int k) {
    knn_kernel<<<(nq + THREADS - 1) / THREADS, THREADS>>>(queries, refs, idx, dist2, nq, nr, k);
}
