// task: basics/vector_add   expect: SIGSEGV in .*: host code accessed device memory \(byte 0 of a \d+-byte device buffer given to the answer\) outside any kernel
// The work done by host code on the device pointers solve receives: on a GPU that is a segmentation fault; the CPU
// runtime must not pass it (device memory is inaccessible to host code there too).
extern "C" void solve(const float* a, const float* b, float* c, int n) {
    for (int i = 0; i < n; i++) c[i] = a[i] + b[i];
}
