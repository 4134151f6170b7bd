#include <cuda_runtime.h>

__device__ float block_sum(float v) {
    __shared__ float partial[32];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    v = lane < warps ? partial[lane] : 0.0f;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    __syncthreads();  // partial[] is reused by the next call
    return v;
}

// Phase 1: one block per row: statistics, dx, and mu / rstd for phase 2.
__global__ void ln_bwd_rows(const float* __restrict__ x, const float* __restrict__ dy, const float* __restrict__ gamma,
                            float* __restrict__ dx, float* __restrict__ mu_out, float* __restrict__ rstd_out,
                            int cols) {
    size_t off = (size_t)blockIdx.x * cols;
    const float* xr = x + off;
    const float* dyr = dy + off;
    float s = 0.0f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) s += xr[c];
    float mu = block_sum(s) / cols;
    float q = 0.0f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        float d = xr[c] - mu;
        q += d * d;
    }
    float rstd = rsqrtf(block_sum(q) / cols + 1e-5f);
    float sg = 0.0f, sgx = 0.0f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        float g = dyr[c] * gamma[c];
        sg += g;
        sgx += g * (xr[c] - mu) * rstd;
    }
    float mg = block_sum(sg) / cols;
    float mgx = block_sum(sgx) / cols;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        float xhat = (xr[c] - mu) * rstd;
        dx[off + c] = rstd * (dyr[c] * gamma[c] - mg - xhat * mgx);
    }
    if (threadIdx.x == 0) {
        mu_out[blockIdx.x] = mu;
        rstd_out[blockIdx.x] = rstd;
    }
}

#define ROW_CHUNK 64

// Phase 2: thread per column, block y selects a chunk of rows; partial sums are added atomically.
__global__ void ln_bwd_cols(const float* __restrict__ x, const float* __restrict__ dy, const float* __restrict__ mu,
                            const float* __restrict__ rstd, float* dgamma, float* dbeta, int rows, int cols) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= cols) return;
    int r0 = blockIdx.y * ROW_CHUNK, r1 = min(rows, r0 + ROW_CHUNK);
    float sgam = 0.0f, sbet = 0.0f;
    for (int r = r0; r < r1; ++r) {
        size_t i = (size_t)r * cols + c;
        sgam += dy[i] * (x[i] - mu[r]) * rstd[r];
        sbet += dy[i];
    }
    atomicAdd(&dgamma[c], sgam);
    atomicAdd(&dbeta[c], sbet);
}

extern "C" void solve(const float* x, const float* dy, const float* gamma, float* dx, float* dgamma, float* dbeta,
                      int rows, int cols) {
    float *mu, *rstd;
    cudaMalloc(&mu, sizeof(float) * (size_t)rows);
    cudaMalloc(&rstd, sizeof(float) * (size_t)rows);
    cudaMemset(dgamma, 0, sizeof(float) * (size_t)cols);
    cudaMemset(dbeta, 0, sizeof(float) * (size_t)cols);
    ln_bwd_rows<<<rows, cols >= 1024 ? 256 : 128>>>(x, dy, gamma, dx, mu, rstd, cols);
    dim3 grid((cols + 255) / 256, (rows + ROW_CHUNK - 1) / ROW_CHUNK);
    ln_bwd_cols<<<grid, 256>>>(x, dy, mu, rstd, dgamma, dbeta, rows, cols);
    cudaFree(mu);
    cudaFree(rstd);
}
