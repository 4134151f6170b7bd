// In-kernel printf.
#include <cstdio>

__global__ void hello(int tag) {
    if (threadIdx.x == 0) printf("hello from block %d tag %d\n", blockIdx.x, tag);
}

extern "C" void solve(int tag) {
    hello<<<3, 32>>>(tag);
    cudaDeviceSynchronize();
}
