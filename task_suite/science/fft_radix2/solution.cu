#include <cuda_runtime.h>

#define SH_LOG 11           // 2048 complex values per block in shared memory
#define SH_N (1 << SH_LOG)
#define THREADS 256

// Loads a bit-reversed chunk of a row into shared memory, runs the butterfly stages whose span fits in the chunk,
// and writes the chunk back to out. chunk_log = min(logn, SH_LOG); the chunk holds positions
// [chunk * 2^chunk_log, (chunk + 1) * 2^chunk_log) of the bit-reversed row.
__global__ void fft_local(const float2* __restrict__ x, float2* __restrict__ out, int logn, int chunk_log) {
    __shared__ float2 s[SH_N];
    size_t n = (size_t)1 << logn;
    int m = 1 << chunk_log;
    size_t row = blockIdx.y;
    size_t base = (size_t)blockIdx.x * m;
    const float2* src = x + row * n;
    for (int t = threadIdx.x; t < m; t += THREADS) {
        size_t pos = base + t;
        size_t rev = __brevll((unsigned long long)pos) >> (64 - logn);
        s[t] = src[rev];
    }
    __syncthreads();
    for (int half = 1; half < m; half <<= 1) {
        for (int b = threadIdx.x; b < m / 2; b += THREADS) {
            int k = b & (half - 1);
            int i = ((b - k) << 1) + k;
            float sn, cs;
            sincospif(-(float)k / (float)half, &sn, &cs);
            float2 u = s[i], v = s[i + half];
            float2 t = make_float2(v.x * cs - v.y * sn, v.x * sn + v.y * cs);
            s[i] = make_float2(u.x + t.x, u.y + t.y);
            s[i + half] = make_float2(u.x - t.x, u.y - t.y);
        }
        __syncthreads();
    }
    float2* dst = out + row * n + base;
    for (int t = threadIdx.x; t < m; t += THREADS) dst[t] = s[t];
}

// One global butterfly stage with the given half span, one thread per butterfly.
__global__ void fft_stage(float2* __restrict__ out, int logn, size_t half) {
    size_t n = (size_t)1 << logn;
    size_t row = blockIdx.y;
    size_t b = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= n / 2) return;
    size_t k = b & (half - 1);
    size_t i = ((b - k) << 1) + k;
    float2* r = out + row * n;
    float sn, cs;
    // angle = -pi * k / half; k / half < 1 is exact in float for half <= 2^24
    sincospif(-(float)k / (float)half, &sn, &cs);
    float2 u = r[i], v = r[i + half];
    float2 t = make_float2(v.x * cs - v.y * sn, v.x * sn + v.y * cs);
    r[i] = make_float2(u.x + t.x, u.y + t.y);
    r[i + half] = make_float2(u.x - t.x, u.y - t.y);
}

extern "C" void solve(const float* x, float* out, int B, int logn) {
    int chunk_log = logn < SH_LOG ? logn : SH_LOG;
    size_t n = (size_t)1 << logn;
    dim3 grid((unsigned)(n >> chunk_log), B);
    fft_local<<<grid, THREADS>>>((const float2*)x, (float2*)out, logn, chunk_log);
    for (int s = chunk_log; s < logn; ++s) {
        size_t half = (size_t)1 << s;
        dim3 g((unsigned)((n / 2 + 255) / 256), B);
        fft_stage<<<g, 256>>>((float2*)out, logn, half);
    }
}
