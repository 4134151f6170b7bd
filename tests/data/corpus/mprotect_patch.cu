// task: basics/vector_add   expect: line 13: call to `mprotect` \(changes memory protection, as code patching does
// Cheat 22: makes the harness's code writable to patch its timer in place (GOT entry or function prologue).
#include <sys/mman.h>
#include <stdint.h>

__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}

extern "C" void solve(const float* a, const float* b, float* c, int n) {
    uintptr_t page = (uintptr_t)(void*)&solve & ~(uintptr_t)4095;
    mprotect((void*)page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
    add<<<(n + 255) / 256, 256>>>(a, b, c, n);
}
