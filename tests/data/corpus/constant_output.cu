// task: basics/vector_add   expect: wrong result
extern "C" void solve(const float* a, const float* b, float* c, int n) {
    cudaMemset(c, 0, sizeof(float) * n);
}
