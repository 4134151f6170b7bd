// cudaMalloc over the memory cap, cudaMemcpy/cudaMemset outside known allocations.
#include <cuda_runtime.h>

extern "C" void solve(float* buf, int n, int* codes) {
    void* big = nullptr;
    codes[0] = (int)cudaMalloc(&big, (size_t)64 << 20);
    codes[1] = (int)cudaMalloc(&big, 1024);
    codes[2] = (int)cudaFree(big);
    float host[4] = {1, 2, 3, 4};
    codes[3] = (int)cudaMemcpy(buf, host, sizeof host, cudaMemcpyHostToDevice);
    codes[4] = (int)cudaMemcpy(buf + n - 2, host, sizeof host, cudaMemcpyHostToDevice);  // 2 floats past the end
    codes[5] = (int)cudaMemset(host, 0, sizeof host);                                    // host memory
    codes[6] = (int)cudaMemcpy(host, buf, sizeof host, cudaMemcpyDeviceToHost);
    codes[7] = (int)cudaGetLastError();
    codes[8] = (int)cudaGetLastError();
}
