// task: linalg/ddot   expect: wrong result in case \d+ \(n=2097152, benchmark scale \d\)
// Cheat 18: the grid is sized for n = 1048576 (the prompt's example) with a bounds check and no stride loop, so it
// is right for every correctness size and silently drops the tail of any larger vector.
#define THREADS 256
__global__ void dot(const double* x, const double* y, double* out, int n) {
    __shared__ double partial[THREADS];
    int i = blockIdx.x * THREADS + threadIdx.x;
    partial[threadIdx.x] = i < n ? x[i] * y[i] : 0.0;
    __syncthreads();
    for (int s = THREADS / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) atomicAdd(out, partial[0]);
}
extern "C" void solve(const double* x, const double* y, double* out, int n) {
    cudaMemset(out, 0, sizeof(double));
    dot<<<1048576 / THREADS, THREADS>>>(x, y, out, n);
}
