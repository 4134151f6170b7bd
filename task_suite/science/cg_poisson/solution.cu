#include <cuda_runtime.h>

#define BLOCK 256

// s[0] = rr, s[1] = p.Ap, s[2] = rr_new
__device__ __forceinline__ float block_sum(float v) {
    __shared__ float ws[BLOCK / 32];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) ws[warp] = v;
    __syncthreads();
    v = 0.0f;
    if (warp == 0) {
        v = lane < BLOCK / 32 ? ws[lane] : 0.0f;
        for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    }
    __syncthreads();
    return v;  // valid in thread 0
}

__global__ void init_kernel(const float* __restrict__ b, float* __restrict__ x, float* __restrict__ r,
                            float* __restrict__ p, float* __restrict__ s, int n) {
    int i = blockIdx.x * BLOCK + threadIdx.x;
    float v = 0.0f;
    if (i < n) {
        v = b[i];
        x[i] = 0.0f;
        r[i] = v;
        p[i] = v;
    }
    float t = block_sum(v * v);
    if (threadIdx.x == 0) atomicAdd(&s[0], t);
}

__global__ void apply_kernel(const float* __restrict__ p, float* __restrict__ ap, float* __restrict__ s, float shift,
                             int ny, int nx) {
    int i = blockIdx.x * BLOCK + threadIdx.x;
    int n = ny * nx;
    float prod = 0.0f;
    if (i < n) {
        int row = i / nx, col = i - row * nx;
        float c = p[i];
        float v = (4.0f + shift) * c;
        if (row > 0) v -= p[i - nx];
        if (row < ny - 1) v -= p[i + nx];
        if (col > 0) v -= p[i - 1];
        if (col < nx - 1) v -= p[i + 1];
        ap[i] = v;
        prod = c * v;
    }
    float t = block_sum(prod);
    if (threadIdx.x == 0) atomicAdd(&s[1], t);
}

__global__ void update_kernel(float* __restrict__ x, float* __restrict__ r, const float* __restrict__ p,
                              const float* __restrict__ ap, float* __restrict__ s, int n) {
    float alpha = s[1] != 0.0f ? s[0] / s[1] : 0.0f;
    int i = blockIdx.x * BLOCK + threadIdx.x;
    float rv = 0.0f;
    if (i < n) {
        x[i] = fmaf(alpha, p[i], x[i]);
        rv = fmaf(-alpha, ap[i], r[i]);
        r[i] = rv;
    }
    float t = block_sum(rv * rv);
    if (threadIdx.x == 0) atomicAdd(&s[2], t);
}

__global__ void direction_kernel(const float* __restrict__ r, float* __restrict__ p, const float* __restrict__ s, int n) {
    float beta = s[0] != 0.0f ? s[2] / s[0] : 0.0f;
    int i = blockIdx.x * BLOCK + threadIdx.x;
    if (i < n) p[i] = fmaf(beta, p[i], r[i]);
}

__global__ void rotate_kernel(float* s) {
    s[0] = s[2];
    s[1] = 0.0f;
    s[2] = 0.0f;
}

extern "C" void solve(const float* b, float* x, float shift, int iters, int ny, int nx) {
    int n = ny * nx;
    float *r, *p, *ap, *s;
    cudaMalloc(&r, sizeof(float) * (size_t)n);
    cudaMalloc(&p, sizeof(float) * (size_t)n);
    cudaMalloc(&ap, sizeof(float) * (size_t)n);
    cudaMalloc(&s, sizeof(float) * 3);
    cudaMemset(s, 0, sizeof(float) * 3);
    int grid = (n + BLOCK - 1) / BLOCK;
    init_kernel<<<grid, BLOCK>>>(b, x, r, p, s, n);
    for (int k = 0; k < iters; ++k) {
        apply_kernel<<<grid, BLOCK>>>(p, ap, s, shift, ny, nx);
        update_kernel<<<grid, BLOCK>>>(x, r, p, ap, s, n);
        direction_kernel<<<grid, BLOCK>>>(r, p, s, n);
        rotate_kernel<<<1, 1>>>(s);
    }
    cudaFree(r);
    cudaFree(p);
    cudaFree(ap);
    cudaFree(s);
}
