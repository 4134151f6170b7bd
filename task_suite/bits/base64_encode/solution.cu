#include <cuda_runtime.h>

__constant__ unsigned char kAlphabet[64] = {
    'A','B','C','D','E','F','G','H','I','J','K','L','M','N','O','P','Q','R','S','T','U','V','W','X','Y','Z',
    'a','b','c','d','e','f','g','h','i','j','k','l','m','n','o','p','q','r','s','t','u','v','w','x','y','z',
    '0','1','2','3','4','5','6','7','8','9','+','/'};

__global__ void base64_kernel(const unsigned char* __restrict__ data, unsigned char* __restrict__ out, int n) {
    long long groups = ((long long)n + 2) / 3;
    for (long long g = blockIdx.x * (long long)blockDim.x + threadIdx.x; g < groups;
         g += (long long)gridDim.x * blockDim.x) {
        long long i = 3 * g;
        int left = (int)(n - i);
        unsigned b0 = data[i];
        unsigned b1 = left > 1 ? data[i + 1] : 0;
        unsigned b2 = left > 2 ? data[i + 2] : 0;
        unsigned v = (b0 << 16) | (b1 << 8) | b2;
        uchar4 c;
        c.x = kAlphabet[(v >> 18) & 63];
        c.y = kAlphabet[(v >> 12) & 63];
        c.z = left > 1 ? kAlphabet[(v >> 6) & 63] : '=';
        c.w = left > 2 ? kAlphabet[v & 63] : '=';
        unsigned char* o = out + 4 * g;
        if ((size_t)o % 4 == 0) {
            *(uchar4*)o = c;
        } else {
            o[0] = c.x; o[1] = c.y; o[2] = c.z; o[3] = c.w;
        }
    }
}

extern "C" void solve(const unsigned char* data, unsigned char* out, int n) {
    const int block = 256;
    long long groups = ((long long)n + 2) / 3;
    long long grid = (groups + block - 1) / block;
    if (grid > 65535) grid = 65535;
    base64_kernel<<<(int)grid, block>>>(data, out, n);
}
