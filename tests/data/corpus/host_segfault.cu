// task: basics/vector_add   expect: SIGSEGV
extern "C" void solve(const float* a, const float* b, float* c, int n) {
    volatile int* p = nullptr;
    *p = n;
}
