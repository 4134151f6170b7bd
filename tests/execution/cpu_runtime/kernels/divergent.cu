// Early return before __syncthreads (exited threads count as arrived), partial warps (blocks of 100),
// warp operations over partial masks, __syncthreads_count.
#include <cuda_runtime.h>

__global__ void reverse_in_block(const int* x, int* out, int* counts, int n) {
    __shared__ int s[100];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    s[threadIdx.x] = x[i];
    int valid = min(n - (int)(blockIdx.x * blockDim.x), (int)blockDim.x);
    int evens = __syncthreads_count(x[i] % 2 == 0);
    out[i] = s[valid - 1 - threadIdx.x];
    if (threadIdx.x == 0) counts[blockIdx.x] = evens;
}

__global__ void warp_ops(const int* x, int* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    int lane = threadIdx.x & 31;
    if (i >= n) return;
    int v = x[i];
    unsigned active = __activemask();
    int r = 0;
    if (lane < 16) {
        r = __shfl_xor_sync(0x0000ffffu, v, 1);           // pairs within the lower half-warp
    } else {
        r = __shfl_up_sync(0xffff0000u, v, 2, 8);          // segments of 8 lanes
    }
    unsigned ballot = __ballot_sync(active, v > 50);
    int total = __popc(ballot);
    out[3 * i] = r;
    out[3 * i + 1] = total;
    out[3 * i + 2] = __shfl_sync(active, v, 0);
}

extern "C" void solve(const int* x, int* out, int* counts, int* wout, int n) {
    reverse_in_block<<<(n + 99) / 100, 100>>>(x, out, counts, n);
    warp_ops<<<(n + 99) / 100, 100>>>(x, wout, n);
    cudaDeviceSynchronize();
}
