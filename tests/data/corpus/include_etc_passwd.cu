// task: basics/vector_add   expect: line 4: `#include "/etc/passwd"` is not allowed
// Cheat 15: a quoted include of a system file; nvcc would echo its lines in its errors, and they would reach the
// reports and the repair prompt.
#include "/etc/passwd"
__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}
extern "C" void solve(const float* a, const float* b, float* c, int n) { add<<<(n + 255) / 256, 256>>>(a, b, c, n); }
