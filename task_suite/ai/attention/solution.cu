#include <cuda_runtime.h>
#include <math.h>

#define QT 64     // queries per block, one thread each
#define KT 32     // keys per shared tile
#define MAXD 128

// Each thread owns one query row: q and the output accumulator live in registers / local memory; K and V tiles are
// shared by the block. Online softmax keeps one pass over the keys.
__global__ void attention_kernel(const float* __restrict__ Q, const float* __restrict__ K,
                                 const float* __restrict__ V, float* __restrict__ O, int Lq, int Lk, int d,
                                 float scale) {
    __shared__ float Ks[KT][MAXD];
    __shared__ float Vs[KT][MAXD];
    int b = blockIdx.y;
    int i = blockIdx.x * QT + threadIdx.x;
    bool active = i < Lq;
    const float* Kb = K + (size_t)b * Lk * d;
    const float* Vb = V + (size_t)b * Lk * d;
    float q[MAXD], acc[MAXD];
    for (int t = 0; t < d; ++t) {
        q[t] = active ? Q[((size_t)b * Lq + i) * d + t] * scale : 0.0f;
        acc[t] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    for (int j0 = 0; j0 < Lk; j0 += KT) {
        int nk = Lk - j0 < KT ? Lk - j0 : KT;
        for (int e = threadIdx.x; e < nk * d; e += blockDim.x) {
            int jj = e / d, t = e % d;
            Ks[jj][t] = Kb[(size_t)(j0 + jj) * d + t];
            Vs[jj][t] = Vb[(size_t)(j0 + jj) * d + t];
        }
        __syncthreads();
        if (active) {
            for (int jj = 0; jj < nk; ++jj) {
                float s = 0.0f;
                for (int t = 0; t < d; ++t) s += q[t] * Ks[jj][t];
                if (s > m) {
                    float corr = expf(m - s);  // exp(-inf) = 0 on the first key
                    l *= corr;
                    for (int t = 0; t < d; ++t) acc[t] *= corr;
                    m = s;
                }
                float p = expf(s - m);
                l += p;
                for (int t = 0; t < d; ++t) acc[t] += p * Vs[jj][t];
            }
        }
        __syncthreads();
    }
    if (active) {
        float inv = 1.0f / l;
        for (int t = 0; t < d; ++t) O[((size_t)b * Lq + i) * d + t] = acc[t] * inv;
    }
}

extern "C" void solve(const float* Q, const float* K, const float* V, float* O, int batch, int Lq, int Lk, int d) {
    dim3 grid((Lq + QT - 1) / QT, batch);
    attention_kernel<<<grid, QT>>>(Q, K, V, O, Lq, Lk, d, 1.0f / sqrtf((float)d));
}
