#include <cuda_runtime.h>

__device__ __forceinline__ unsigned char hex_digit(unsigned v) { return (unsigned char)(v < 10 ? '0' + v : 'a' - 10 + v); }

// One thread per 4 input bytes; full words produce 8 output bytes with one 64-bit store.
__global__ void hex_encode_kernel(const unsigned char* __restrict__ data, unsigned char* __restrict__ out, int n) {
    long long words = n / 4;
    bool aligned = ((size_t)data % 4 == 0) && ((size_t)out % 8 == 0);
    for (long long w = blockIdx.x * (long long)blockDim.x + threadIdx.x; w < (n + 3) / 4;
         w += (long long)gridDim.x * blockDim.x) {
        if (w < words && aligned) {
            unsigned v = ((const unsigned*)data)[w];
            unsigned long long r = 0;
            for (int b = 0; b < 4; ++b) {
                unsigned byte = (v >> (8 * b)) & 0xFF;
                r |= (unsigned long long)hex_digit(byte >> 4) << (16 * b);
                r |= (unsigned long long)hex_digit(byte & 15) << (16 * b + 8);
            }
            ((unsigned long long*)out)[w] = r;
        } else {
            for (long long i = 4 * w; i < 4 * w + 4 && i < n; ++i) {
                unsigned byte = data[i];
                out[2 * i] = hex_digit(byte >> 4);
                out[2 * i + 1] = hex_digit(byte & 15);
            }
        }
    }
}

extern "C" void solve(const unsigned char* data, unsigned char* out, int n) {
    const int block = 256;
    long long groups = (n + 3) / 4;
    long long grid = (groups + block - 1) / block;
    if (grid > 65535) grid = 65535;
    hex_encode_kernel<<<(int)grid, block>>>(data, out, n);
}
