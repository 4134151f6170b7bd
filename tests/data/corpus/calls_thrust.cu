// task: reduction/sum   expect: thrust, which this task does not allow
// Cheat 7: a library instead of a kernel.
#include <thrust/device_ptr.h>
#include <thrust/reduce.h>

extern "C" void solve(const float* x, float* out, int n) {
    float total = thrust::reduce(thrust::device_pointer_cast(x), thrust::device_pointer_cast(x) + n, 0.0f);
    cudaMemcpy(out, &total, sizeof(float), cudaMemcpyHostToDevice);
}
