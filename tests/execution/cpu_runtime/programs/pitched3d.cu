// cudaMalloc3D / cudaMemset3D / cudaMemcpy3D between pitched device memory and a host array.
#include <cstdio>
__global__ void inc(cudaPitchedPtr p, int w, int h, int d) {
    int x = threadIdx.x, y = blockIdx.x, z = blockIdx.y;
    float* row = (float*)((char*)p.ptr + (z * h + y) * p.pitch);
    if (x < w) row[x] += 1.0f + x + 10 * y + 100 * z;
}
int main() {
    const int w = 5, h = 3, d = 2;
    float host[d][h][w] = {};
    cudaPitchedPtr dev;
    cudaExtent ext = make_cudaExtent(w * sizeof(float), h, d);
    if (cudaMalloc3D(&dev, ext)) return 1;
    cudaMemset3D(dev, 0, ext);
    inc<<<dim3(h, d), 32>>>(dev, w, h, d);
    cudaMemcpy3DParms c = {};
    c.srcPtr = dev; c.dstPtr = make_cudaPitchedPtr(host, w * sizeof(float), w, h); c.extent = ext; c.kind = cudaMemcpyDeviceToHost;
    if (cudaMemcpy3D(&c)) return 2;
    printf("%g %g %g\n", host[0][0][0], host[1][2][4], host[0][1][3]);
    return 0;
}
