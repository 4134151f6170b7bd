#include <cuda_runtime.h>

#define THREADS 128
#define MAXN 1024
#define PER ((MAXN + 1 + THREADS - 1) / THREADS)

__global__ void binomial_put(const float* __restrict__ spot, const float* __restrict__ strike,
                             const float* __restrict__ years, float* __restrict__ price, float r, float sigma, int N) {
    __shared__ float V[MAXN + 1];
    int opt = blockIdx.x;
    float S = spot[opt], K = strike[opt], T = years[opt];
    float dt = T / (float)N;
    float vol = sigma * sqrtf(dt);
    float u = expf(vol), d = 1.0f / u;
    float p = (expf(r * dt) - d) / (u - d);
    float disc = expf(-r * dt);
    float pu = disc * p, pd = disc * (1.0f - p);
    for (int j = threadIdx.x; j <= N; j += THREADS) V[j] = fmaxf(K - S * expf((float)(2 * j - N) * vol), 0.0f);
    __syncthreads();
    for (int k = N - 1; k >= 0; --k) {
        float nv[PER];
        int c = 0;
        for (int j = threadIdx.x; j <= k; j += THREADS, ++c) {
            float cont = pu * V[j + 1] + pd * V[j];
            nv[c] = fmaxf(cont, K - S * expf((float)(2 * j - k) * vol));
        }
        __syncthreads();
        c = 0;
        for (int j = threadIdx.x; j <= k; j += THREADS, ++c) V[j] = nv[c];
        __syncthreads();
    }
    if (threadIdx.x == 0) price[opt] = V[0];
}

extern "C" void solve(const float* spot, const float* strike, const float* years, float* price, float r, float sigma,
                      int n_opt, int N) {
    binomial_put<<<n_opt, THREADS>>>(spot, strike, years, price, r, sigma, N);
}
