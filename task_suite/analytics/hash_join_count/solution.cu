#include <cuda_runtime.h>

#define OCCUPIED (1ull << 32)

__device__ __forceinline__ unsigned hash32(unsigned k) {
    k ^= k >> 16; k *= 0x85ebca6bu;
    k ^= k >> 13; k *= 0xc2b2ae35u;
    k ^= k >> 16;
    return k;
}

__global__ void clear_table(unsigned long long* entries, int* slot_counts, unsigned capacity) {
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < capacity; i += gridDim.x * blockDim.x) {
        entries[i] = 0ull;
        slot_counts[i] = 0;
    }
}

__global__ void build_table(const int* __restrict__ build, int nb, unsigned long long* entries, int* slot_counts,
                            unsigned mask) {
    for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < nb; j += gridDim.x * blockDim.x) {
        unsigned key = (unsigned)build[j];
        unsigned long long entry = OCCUPIED | key;
        for (unsigned s = hash32(key) & mask;; s = (s + 1) & mask) {
            unsigned long long cur = entries[s];
            if (cur == 0ull) cur = atomicCAS(&entries[s], 0ull, entry);
            if (cur == 0ull || cur == entry) {
                atomicAdd(&slot_counts[s], 1);
                break;
            }
        }
    }
}

__global__ void probe_table(const int* __restrict__ probe, int nq, const unsigned long long* __restrict__ entries,
                            const int* __restrict__ slot_counts, int* counts, unsigned mask) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < nq; i += gridDim.x * blockDim.x) {
        unsigned key = (unsigned)probe[i];
        unsigned long long entry = OCCUPIED | key;
        int c = 0;
        for (unsigned s = hash32(key) & mask;; s = (s + 1) & mask) {
            unsigned long long cur = entries[s];
            if (cur == entry) { c = slot_counts[s]; break; }
            if (cur == 0ull) break;
        }
        counts[i] = c;
    }
}

extern "C" void solve(const int* build, const int* probe, int* counts, int num_build, int num_probe) {
    unsigned capacity = 1;
    while (capacity < 2u * (unsigned)num_build) capacity <<= 1;
    unsigned long long* entries;
    int* slot_counts;
    cudaMalloc(&entries, sizeof(unsigned long long) * capacity);
    cudaMalloc(&slot_counts, sizeof(int) * capacity);
    const int block = 256;
    unsigned tgrid = (capacity + block - 1) / block;
    if (tgrid > 65535) tgrid = 65535;
    clear_table<<<tgrid, block>>>(entries, slot_counts, capacity);
    int bgrid = (num_build + block - 1) / block;
    if (bgrid > 65535) bgrid = 65535;
    build_table<<<bgrid, block>>>(build, num_build, entries, slot_counts, capacity - 1);
    int pgrid = (num_probe + block - 1) / block;
    if (pgrid > 65535) pgrid = 65535;
    probe_table<<<pgrid, block>>>(probe, num_probe, entries, slot_counts, counts, capacity - 1);
    cudaFree(entries);
    cudaFree(slot_counts);
}
