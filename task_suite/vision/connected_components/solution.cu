#include <cuda_runtime.h>
#include <stdint.h>

__device__ int find_root(const int* parent, int a) {
    int p = parent[a];
    while (p != a) {
        a = p;
        p = parent[a];
    }
    return a;
}

__device__ void unite(int* parent, int a, int b) {
    while (true) {
        a = find_root(parent, a);
        b = find_root(parent, b);
        if (a == b) return;
        if (a < b) { int t = a; a = b; b = t; }  // link the larger root under the smaller one
        int old = atomicCAS(&parent[a], a, b);
        if (old == a) return;
        a = old;  // a was re-linked meanwhile: retry from its new parent
    }
}

__global__ void init_kernel(int* parent, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) parent[i] = i;
}

__global__ void merge_kernel(const uint8_t* __restrict__ img, int* parent, int height, int width) {
    int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y;
    if (x >= width) return;
    int i = y * width + x;
    if (!img[i]) return;
    if (x > 0 && img[i - 1]) unite(parent, i, i - 1);
    if (y > 0 && img[i - width]) unite(parent, i, i - width);
}

__global__ void label_kernel(const uint8_t* __restrict__ img, int* parent, int* __restrict__ labels, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    if (!img[i]) { labels[i] = 0; return; }
    int r = find_root(parent, i);
    labels[i] = r + 1;
}

extern "C" void solve(const uint8_t* img, int* labels, int height, int width) {
    int n = height * width;
    int* parent;
    cudaMalloc(&parent, sizeof(int) * (size_t)n);
    init_kernel<<<(n + 255) / 256, 256>>>(parent, n);
    merge_kernel<<<dim3((width + 127) / 128, height), 128>>>(img, parent, height, width);
    label_kernel<<<(n + 255) / 256, 256>>>(img, parent, labels, n);
    cudaFree(parent);
}
