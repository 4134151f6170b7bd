// cuda_shim/cooperative_groups.h -- cooperative groups (the basic forms).
// A part of the CPU runtime: only cuda_shim.h includes it, after the parts before it, which it uses.
#pragma once
#ifndef CUDABENCH_CUDA_SHIM_H
#error "include cuda_shim.h, not its parts"
#endif

// thread_block, thread_block_tile<N> (N a power of two up to 32) and tiled_partition, thread_group (tiled_partition
// with a run-time size), grid_group without sync (grid-wide barriers need a cooperative launch, which the CPU
// runtime refuses), cg::sync, cg::reduce / inclusive_scan / exclusive_scan with the cg:: function objects. A tile's
// operations are the warp operations over the tile's lanes, so they keep the runtime's barrier checks.
namespace cooperative_groups {
namespace details {
static inline unsigned block_rank_of_thread() {
    return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
}
static inline unsigned block_threads() { return blockDim.x * blockDim.y * blockDim.z; }
static inline unsigned tile_mask(unsigned n) {
    unsigned lane = block_rank_of_thread() & 31u;
    unsigned base = n >= 32 ? 0u : (1u << n) - 1u;
    return n >= 32 ? 0xffffffffu : base << (lane & ~(n - 1));
}
}  // namespace details

class thread_block {
public:
    static void sync(int line = __builtin_LINE()) { ::cudabench::sync_block(line, 1); }
    static unsigned thread_rank() { return details::block_rank_of_thread(); }
    static unsigned size() { return details::block_threads(); }
    static unsigned num_threads() { return details::block_threads(); }
    static dim3 group_index() { return dim3(blockIdx.x, blockIdx.y, blockIdx.z); }
    static dim3 thread_index() { return dim3(threadIdx.x, threadIdx.y, threadIdx.z); }
    static dim3 group_dim() { return blockDim; }
    static dim3 dim_threads() { return blockDim; }
    static bool is_valid() { return true; }
    static void barrier_wait(int line = __builtin_LINE()) { sync(line); }
};
static inline thread_block this_thread_block() { return thread_block(); }

class grid_group {
public:
    static void sync(int = 0) {
        ::cudabench::kernel_fault(cudaErrorNotSupported,
                                  "grid-wide synchronisation (cooperative_groups::grid_group::sync, which needs a "
                                  "cooperative launch) cannot run on the CPU runtime");
    }
    static unsigned long long thread_rank() {
        unsigned long long b = blockIdx.x + (unsigned long long)gridDim.x * (blockIdx.y + (unsigned long long)gridDim.y * blockIdx.z);
        return b * details::block_threads() + details::block_rank_of_thread();
    }
    static unsigned long long size() { return (unsigned long long)gridDim.x * gridDim.y * gridDim.z * details::block_threads(); }
    static unsigned long long num_threads() { return size(); }
    static unsigned long long num_blocks() { return (unsigned long long)gridDim.x * gridDim.y * gridDim.z; }
    static unsigned long long block_rank() {
        return blockIdx.x + (unsigned long long)gridDim.x * (blockIdx.y + (unsigned long long)gridDim.y * blockIdx.z);
    }
    static dim3 group_dim() { return gridDim; }
    static dim3 dim_blocks() { return gridDim; }
    static dim3 block_index() { return dim3(blockIdx.x, blockIdx.y, blockIdx.z); }
    static bool is_valid() { return true; }
};
static inline grid_group this_grid() { return grid_group(); }

// A group of a run-time size: the whole block or a tile of at most 32 threads (a power of two).
class thread_group {
protected:
    unsigned n_;  // 0: the whole block
public:
    explicit thread_group(unsigned n = 0) : n_(n) {}
    thread_group(const thread_block&) : n_(0) {}
    void sync(int line = __builtin_LINE()) const {
        if (n_ == 0) ::cudabench::sync_block(line, 1);
        else __syncwarp(details::tile_mask(n_));
    }
    unsigned thread_rank() const { return n_ ? details::block_rank_of_thread() & (n_ - 1) : details::block_rank_of_thread(); }
    unsigned size() const { return n_ ? n_ : details::block_threads(); }
    unsigned num_threads() const { return size(); }
    unsigned meta_group_rank() const { return n_ ? details::block_rank_of_thread() / n_ : 0; }
    unsigned meta_group_size() const { return n_ ? (details::block_threads() + n_ - 1) / n_ : 1; }
    bool is_valid() const { return true; }
};

template <unsigned N, class Parent = void> class thread_block_tile : public thread_group {
    static_assert(N >= 1 && N <= 32 && (N & (N - 1)) == 0,
                  "the CPU runtime supports cooperative_groups tiles of 1, 2, 4, 8, 16 or 32 threads");
public:
    thread_block_tile() : thread_group(N) {}
    template <class P> thread_block_tile(const thread_block_tile<N, P>&) : thread_group(N) {}
    static constexpr unsigned num_threads() { return N; }
    static constexpr unsigned size() { return N; }
    unsigned mask() const { return details::tile_mask(N); }
    void sync(int = 0) const { __syncwarp(mask()); }
    template <class T> T shfl(T v, int src) const { return __shfl_sync(mask(), v, src, N); }
    template <class T> T shfl_down(T v, unsigned d) const { return __shfl_down_sync(mask(), v, d, N); }
    template <class T> T shfl_up(T v, unsigned d) const { return __shfl_up_sync(mask(), v, d, N); }
    template <class T> T shfl_xor(T v, int m) const { return __shfl_xor_sync(mask(), v, m, N); }
    int any(int p) const { return __any_sync(mask(), p); }
    int all(int p) const { return __all_sync(mask(), p); }
    // bits relative to the tile's first lane, as on the GPU
    unsigned ballot(int p) const {
        unsigned lane0 = (details::block_rank_of_thread() & 31u) & ~(N - 1);
        return __ballot_sync(mask(), p) >> lane0;
    }
    template <class T> unsigned match_any(T v) const {
        unsigned lane0 = (details::block_rank_of_thread() & 31u) & ~(N - 1);
        return __match_any_sync(mask(), v) >> lane0;
    }
    template <class T> unsigned match_all(T v, int& pred) const {
        unsigned lane0 = (details::block_rank_of_thread() & 31u) & ~(N - 1);
        return __match_all_sync(mask(), v, &pred) >> lane0;
    }
};

template <unsigned N, class P> static inline thread_block_tile<N, P> tiled_partition(const P&) {
    return thread_block_tile<N, P>();
}
static inline thread_group tiled_partition(const thread_group& parent, unsigned n) {
    if (n == 0 || n > 32 || (n & (n - 1)))
        ::cudabench::kernel_fault(cudaErrorNotSupported,
                                  "cooperative_groups::tiled_partition with a size other than 1, 2, 4, 8, 16 or 32 "
                                  "cannot run on the CPU runtime");
    (void)parent;
    return thread_group(n);
}
static inline thread_group tiled_partition(const thread_block& parent, unsigned n) {
    return tiled_partition(thread_group(parent), n);
}
template <class G> static inline void sync(const G& g, int line = __builtin_LINE()) { g.sync(line); }
template <class G> static inline unsigned long long thread_rank(const G& g) { return g.thread_rank(); }
template <class G> static inline unsigned long long group_size(const G& g) { return g.size(); }

template <class T = void> struct plus { T operator()(const T& a, const T& b) const { return a + b; } };
template <class T = void> struct less { T operator()(const T& a, const T& b) const { return b < a ? b : a; } };
template <class T = void> struct greater { T operator()(const T& a, const T& b) const { return a < b ? b : a; } };
template <class T = void> struct bit_and { T operator()(const T& a, const T& b) const { return a & b; } };
template <class T = void> struct bit_or { T operator()(const T& a, const T& b) const { return a | b; } };
template <class T = void> struct bit_xor { T operator()(const T& a, const T& b) const { return a ^ b; } };
template <> struct plus<void> { template <class T> T operator()(const T& a, const T& b) const { return a + b; } };
template <> struct less<void> { template <class T> T operator()(const T& a, const T& b) const { return b < a ? b : a; } };
template <> struct greater<void> { template <class T> T operator()(const T& a, const T& b) const { return a < b ? b : a; } };

// Every lane gets op over the tile's values, combined in a butterfly (as the GPU's reduce also does for non-integer
// types, the order of a floating-point sum is not that of a sequential loop).
template <unsigned N, class P, class T, class Op> static inline T reduce(const thread_block_tile<N, P>& g, T v, Op op) {
    for (unsigned o = N / 2; o > 0; o /= 2) v = op(v, g.shfl_xor(v, (int)o));
    return v;
}
template <unsigned N, class P, class T, class Op>
static inline T inclusive_scan(const thread_block_tile<N, P>& g, T v, Op op) {
    unsigned r = g.thread_rank();
    for (unsigned o = 1; o < N; o *= 2) {
        T u = g.shfl_up(v, o);
        if (r >= o) v = op(u, v);
    }
    return v;
}
template <unsigned N, class P, class T> static inline T inclusive_scan(const thread_block_tile<N, P>& g, T v) {
    return inclusive_scan(g, v, plus<T>());
}
template <unsigned N, class P, class T, class Op>
static inline T exclusive_scan(const thread_block_tile<N, P>& g, T v, Op op) {
    T inc = inclusive_scan(g, v, op);
    T prev = g.shfl_up(inc, 1);
    return g.thread_rank() == 0 ? T() : prev;
}
template <unsigned N, class P, class T> static inline T exclusive_scan(const thread_block_tile<N, P>& g, T v) {
    return exclusive_scan(g, v, plus<T>());
}
}  // namespace cooperative_groups
