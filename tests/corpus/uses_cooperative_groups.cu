// task: reduction/sum   expect: SKIP cannot run on the CPU runtime
#include <cooperative_groups.h>
namespace cg = cooperative_groups;
__global__ void sum(const float* x, float* out, int n) {
    cg::thread_block block = cg::this_thread_block();
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) atomicAdd(out, x[i]);
    block.sync();
}
extern "C" void solve(const float* x, float* out, int n) {
    cudaMemset(out, 0, sizeof(float));
    sum<<<(n + 255) / 256, 256>>>(x, out, n);
}
