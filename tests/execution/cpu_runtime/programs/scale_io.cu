#include <cstdio>
#include <fstream>
#include <vector>
#include <iostream>
__global__ void scale(const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = 2.0f * x[i] + 1.0f;
}
static void read_bin(const char* path, float* p, size_t n) {
    std::ifstream f(path, std::ios::binary);
    f.read(reinterpret_cast<char*>(p), n * sizeof(float));
}
int main() {
    const int n = 1000;
    std::vector<float> x(n), y(n);
    read_bin("data/x.bin", x.data(), n);
    float *dx, *dy;
    cudaMalloc(&dx, n * sizeof(float));
    cudaMalloc(&dy, n * sizeof(float));
    cudaMemcpy(dx, x.data(), n * sizeof(float), cudaMemcpyHostToDevice);
    scale<<<(n + 255) / 256, 256>>>(dx, dy, n);
    cudaMemcpy(y.data(), dy, n * sizeof(float), cudaMemcpyDeviceToHost);
    FILE* out = fopen("data/y.bin", "wb");
    fwrite(y.data(), sizeof(float), n, out);
    fclose(out);
    std::cout << "done" << std::endl;
}
