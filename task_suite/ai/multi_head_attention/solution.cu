#include <cuda_runtime.h>
#include <math.h>

#define QT 64     // query tokens per block, one thread each
#define KT 32     // keys per shared tile
#define MAXD 128

// Block (x, h, b) handles query tokens [x * QT, x * QT + QT) of head h in batch b. A head's slice of token j starts
// at column h * dh of row j (row stride E). Each thread owns one query: q and the output accumulator stay in
// registers / local memory; the head's K and V slices of a key tile are shared by the block. Online softmax keeps
// one pass over the keys.
__global__ void mha_kernel(const float* __restrict__ Q, const float* __restrict__ K, const float* __restrict__ V,
                           float* __restrict__ O, int L, int E, int dh, float scale) {
    __shared__ float Ks[KT][MAXD];
    __shared__ float Vs[KT][MAXD];
    int h = blockIdx.y, b = blockIdx.z;
    int i = blockIdx.x * QT + threadIdx.x;
    bool active = i < L;
    size_t head_base = (size_t)b * L * E + (size_t)h * dh;
    const float* Kb = K + head_base;
    const float* Vb = V + head_base;
    float q[MAXD], acc[MAXD];
    for (int t = 0; t < dh; ++t) {
        q[t] = active ? Q[head_base + (size_t)i * E + t] * scale : 0.0f;
        acc[t] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    for (int j0 = 0; j0 < L; j0 += KT) {
        int nk = L - j0 < KT ? L - j0 : KT;
        for (int e = threadIdx.x; e < nk * dh; e += blockDim.x) {
            int jj = e / dh, t = e % dh;
            Ks[jj][t] = Kb[(size_t)(j0 + jj) * E + t];
            Vs[jj][t] = Vb[(size_t)(j0 + jj) * E + t];
        }
        __syncthreads();
        if (active) {
            for (int jj = 0; jj < nk; ++jj) {
                float s = 0.0f;
                for (int t = 0; t < dh; ++t) s += q[t] * Ks[jj][t];
                if (s > m) {
                    float corr = expf(m - s);  // exp(-inf) = 0 on the first key
                    l *= corr;
                    for (int t = 0; t < dh; ++t) acc[t] *= corr;
                    m = s;
                }
                float p = expf(s - m);
                l += p;
                for (int t = 0; t < dh; ++t) acc[t] += p * Vs[jj][t];
            }
        }
        __syncthreads();
    }
    if (active) {
        float inv = 1.0f / l;
        for (int t = 0; t < dh; ++t) O[head_base + (size_t)i * E + t] = acc[t] * inv;
    }
}

extern "C" void solve(const float* Q, const float* K, const float* V, float* O, int batch, int L, int heads,
                      int dh) {
    dim3 grid((L + QT - 1) / QT, heads, batch);
    mha_kernel<<<grid, QT>>>(Q, K, V, O, L, heads * dh, dh, 1.0f / sqrtf((float)dh));
}
