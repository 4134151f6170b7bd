#include <cuda_runtime.h>
#include <math.h>

#define CHUNK 256   // keys per split
#define WARPS 4
#define MAXD 128

// Phase 1: block (chunk c, head bh). Each warp walks keys of the chunk; lanes split D for the dot products and keep
// per-lane pieces of the weighted V sum with an online softmax. Warps then merge in shared memory and the block
// writes its partial (m, l, acc[D]).
__global__ void decode_partial(const float* __restrict__ q, const float* __restrict__ k_cache,
                               const float* __restrict__ v_cache, const int* __restrict__ lengths,
                               float* __restrict__ part_m, float* __restrict__ part_l, float* __restrict__ part_acc,
                               int H, int S, int D, int chunks, float scale) {
    __shared__ float wm[WARPS], wl[WARPS];
    __shared__ float wacc[WARPS][MAXD];
    int c = blockIdx.x, bh = blockIdx.y, b = bh / H;
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    int len = lengths[b];
    int t0 = c * CHUNK, t1 = min(len, t0 + CHUNK);
    const float* qv = q + (size_t)bh * D;
    const float* kb = k_cache + (size_t)bh * S * D;
    const float* vb = v_cache + (size_t)bh * S * D;
    float qr[MAXD / 32], acc[MAXD / 32];
    for (int r = 0; r < MAXD / 32; ++r) {
        int t = lane + 32 * r;
        qr[r] = t < D ? qv[t] * scale : 0.0f;
        acc[r] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    for (int t = t0 + w; t < t1; t += WARPS) {
        const float* kr = kb + (size_t)t * D;
        float s = 0.0f;
        for (int r = 0; r < MAXD / 32; ++r) {
            int j = lane + 32 * r;
            if (j < D) s += qr[r] * kr[j];
        }
        for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        float mn = fmaxf(m, s);
        float corr = expf(m - mn), p = expf(s - mn);
        l = l * corr + p;
        const float* vr = vb + (size_t)t * D;
        for (int r = 0; r < MAXD / 32; ++r) {
            int j = lane + 32 * r;
            acc[r] = acc[r] * corr + (j < D ? p * vr[j] : 0.0f);
        }
        m = mn;
    }
    if (lane == 0) { wm[w] = m; wl[w] = l; }
    for (int r = 0; r < MAXD / 32; ++r) wacc[w][lane + 32 * r] = acc[r];
    __syncthreads();
    if (w == 0) {
        float M = -INFINITY;
        for (int i = 0; i < WARPS; ++i) M = fmaxf(M, wm[i]);
        float L = 0.0f;
        float a[MAXD / 32] = {};
        for (int i = 0; i < WARPS; ++i) {
            if (wm[i] == -INFINITY) continue;  // warp saw no key
            float f = expf(wm[i] - M);
            L += wl[i] * f;
            for (int r = 0; r < MAXD / 32; ++r) a[r] += wacc[i][lane + 32 * r] * f;
        }
        size_t p = (size_t)bh * chunks + c;
        if (lane == 0) { part_m[p] = M; part_l[p] = L; }
        for (int r = 0; r < MAXD / 32; ++r) {
            int j = lane + 32 * r;
            if (j < D) part_acc[p * D + j] = a[r];
        }
    }
}

// Phase 2: one block per (b, h) merges the chunk partials of its valid chunks.
__global__ void decode_merge(const int* __restrict__ lengths, const float* __restrict__ part_m,
                             const float* __restrict__ part_l, const float* __restrict__ part_acc,
                             float* __restrict__ out, int H, int D, int chunks) {
    int bh = blockIdx.x, b = bh / H;
    int used = (lengths[b] + CHUNK - 1) / CHUNK;
    const float* pm = part_m + (size_t)bh * chunks;
    const float* pl = part_l + (size_t)bh * chunks;
    float M = -INFINITY;
    for (int c = 0; c < used; ++c) M = fmaxf(M, pm[c]);
    float L = 0.0f;
    for (int c = 0; c < used; ++c) L += pl[c] * expf(pm[c] - M);
    for (int j = threadIdx.x; j < D; j += blockDim.x) {
        float a = 0.0f;
        for (int c = 0; c < used; ++c) a += part_acc[((size_t)bh * chunks + c) * D + j] * expf(pm[c] - M);
        out[(size_t)bh * D + j] = a / L;
    }
}

extern "C" void solve(const float* q, const float* k_cache, const float* v_cache, const int* lengths, float* out,
                      int B, int H, int S, int D) {
    int chunks = (S + CHUNK - 1) / CHUNK;
    size_t parts = (size_t)B * H * chunks;
    float *pm, *pl, *pacc;
    cudaMalloc(&pm, parts * sizeof(float));
    cudaMalloc(&pl, parts * sizeof(float));
    cudaMalloc(&pacc, parts * D * sizeof(float));
    dim3 grid(chunks, B * H);
    decode_partial<<<grid, 32 * WARPS>>>(q, k_cache, v_cache, lengths, pm, pl, pacc, H, S, D, chunks,
                                         1.0f / sqrtf((float)D));
    decode_merge<<<B * H, 128>>>(lengths, pm, pl, pacc, out, H, D, chunks);
    cudaFree(pm);
    cudaFree(pl);
    cudaFree(pacc);
}
