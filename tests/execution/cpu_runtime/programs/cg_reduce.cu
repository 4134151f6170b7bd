// Cooperative groups: a block sum through tiled_partition<32> + cg::reduce, block.sync(), shuffles, ballot, any/all,
// tiled_partition<16>, a run-time tiled_partition(block, 16), and a grid-stride loop with this_grid().
#include <cooperative_groups.h>
#include <cooperative_groups/reduce.h>
#include <cstdio>
#include <vector>
namespace cg = cooperative_groups;

__global__ void block_sums(const float* x, float* sums, float* maxes, unsigned* votes, int n) {
    cg::thread_block block = cg::this_thread_block();
    cg::thread_block_tile<32> warp = cg::tiled_partition<32>(block);
    __shared__ float partial[32];
    __shared__ float partial_max[32];
    float v = 0.0f, m = -1e30f;
    for (unsigned long long i = cg::this_grid().thread_rank(); i < (unsigned long long)n; i += cg::this_grid().size()) {
        v += x[i];
        m = fmaxf(m, x[i]);
    }
    float s = cg::reduce(warp, v, cg::plus<float>());
    float mx = cg::reduce(warp, m, cg::greater<float>());
    if (warp.thread_rank() == 0) { partial[warp.meta_group_rank()] = s; partial_max[warp.meta_group_rank()] = mx; }
    unsigned ballot = warp.ballot(v > 0.0f);
    int any = warp.any(v > 100.0f), all = warp.all(v > -1e30f);
    float down = warp.shfl_down(v, 1);
    float first = warp.shfl(v, 0);
    (void)down;
    block.sync();
    if (block.thread_rank() == 0) {
        float t = 0.0f, tm = -1e30f;
        for (unsigned w = 0; w < (block.size() + 31) / 32; w++) { t += partial[w]; tm = fmaxf(tm, partial_max[w]); }
        sums[blockIdx.x] = t;
        maxes[blockIdx.x] = tm;
        votes[blockIdx.x] = ballot;
        votes[gridDim.x + blockIdx.x] = (unsigned)any + 2u * (unsigned)all + (first == v ? 4u : 0u);
    }
    // a 16-thread tile: its ballot is relative to its first lane, its shuffles stay inside it
    cg::thread_block_tile<16> t16 = cg::tiled_partition<16>(block);
    unsigned ballot16 = t16.ballot(v > 0.0f);
    float sum16 = cg::reduce(t16, v, cg::plus<float>());
    if (block.thread_rank() == 16) {
        votes[2 * gridDim.x + blockIdx.x] = ballot16;
        votes[3 * gridDim.x + blockIdx.x] = (unsigned)(int)sum16;
    }
    cg::thread_group half = cg::tiled_partition(block, 16);
    half.sync();
    cg::sync(block);
}

int main() {
    const int n = 5000, blocks = 4, threads = 128;
    std::vector<float> x(n);
    for (int i = 0; i < n; i++) x[i] = (float)((i * 37) % 101) - 50.0f;
    float *dx, *ds, *dm;
    unsigned* dv;
    cudaMalloc(&dx, n * sizeof(float));
    cudaMalloc(&ds, blocks * sizeof(float));
    cudaMalloc(&dm, blocks * sizeof(float));
    cudaMalloc(&dv, 4 * blocks * sizeof(unsigned));
    cudaMemcpy(dx, x.data(), n * sizeof(float), cudaMemcpyHostToDevice);
    block_sums<<<blocks, threads>>>(dx, ds, dm, dv, n);
    if (cudaDeviceSynchronize() != cudaSuccess) return 1;
    float s[blocks], m[blocks];
    unsigned v[4 * blocks];
    cudaMemcpy(s, ds, sizeof s, cudaMemcpyDeviceToHost);
    cudaMemcpy(m, dm, sizeof m, cudaMemcpyDeviceToHost);
    cudaMemcpy(v, dv, sizeof v, cudaMemcpyDeviceToHost);
    double total = 0, expect = 0;
    float mx = -1e30f;
    for (int b = 0; b < blocks; b++) { total += s[b]; mx = m[b] > mx ? m[b] : mx; }
    for (int i = 0; i < n; i++) expect += x[i];
    printf("sum %.1f expect %.1f max %.1f\n", total, expect, mx);
    for (int b = 0; b < 4 * blocks; b++) printf("%u\n", v[b]);
    return 0;
}
