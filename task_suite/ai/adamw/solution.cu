#include <cuda_runtime.h>
#include <math.h>

__global__ void adamw_kernel(float* __restrict__ param, const float* __restrict__ grad, float* __restrict__ m,
                             float* __restrict__ v, float lr, float beta1, float beta2, float eps, float decay,
                             float inv_bc1, float inv_bc2, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        float g = grad[i];
        float p = param[i] * decay;
        float mi = beta1 * m[i] + (1.0f - beta1) * g;
        float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] = p - lr * (mi * inv_bc1) / (sqrtf(vi * inv_bc2) + eps);
    }
}

extern "C" void solve(float* param, const float* grad, float* m, float* v, float lr, float beta1, float beta2,
                      float eps, float weight_decay, int step, int n) {
    // bias corrections in double on the host: 1 - beta2^t loses digits in float for small t
    double bc1 = 1.0 - pow((double)beta1, step), bc2 = 1.0 - pow((double)beta2, step);
    int grid = (n + 255) / 256;
    if (grid > 8192) grid = 8192;
    adamw_kernel<<<grid, 256>>>(param, grad, m, v, lr, beta1, beta2, eps, 1.0f - lr * weight_decay,
                                (float)(1.0 / bc1), (float)(1.0 / bc2), n);
}
