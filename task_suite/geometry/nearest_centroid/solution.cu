#include <cuda_runtime.h>
#include <cfloat>

__global__ void assign_kernel(const float* __restrict__ points, const float* __restrict__ centroids,
                              int* __restrict__ labels, int n, int k, int dim) {
    __shared__ float sc[64 * 16];
    for (int t = threadIdx.x; t < k * dim; t += blockDim.x) sc[t] = centroids[t];
    __syncthreads();
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        float p[16];
        for (int j = 0; j < dim; ++j) p[j] = points[(size_t)i * dim + j];
        float best = FLT_MAX;
        int label = 0;
        for (int c = 0; c < k; ++c) {
            float s = 0.0f;
            for (int j = 0; j < dim; ++j) {
                float t = p[j] - sc[c * dim + j];
                s = fmaf(t, t, s);
            }
            if (s < best) { best = s; label = c; }
        }
        labels[i] = label;
    }
}

extern "C" void solve(const float* points, const float* centroids, int* labels, int n, int k, int dim) {
    const int block = 256;
    int grid = (n + block - 1) / block;
    if (grid > 65535) grid = 65535;
    assign_kernel<<<grid, block>>>(points, centroids, labels, n, k, dim);
}
