// task: basics/vector_add   expect: did not finish within
__global__ void spin(float* c) { while (true) { c[0] = c[0] + 1.0f; } }
extern "C" void solve(const float* a, const float* b, float* c, int n) {
    spin<<<1, 1>>>(c);
    cudaDeviceSynchronize();
}
