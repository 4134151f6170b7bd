// task: basics/vector_add   expect: line 5: an assembler file directive \(\.incbin/\.include\)
// Cheat 15: the assembler pastes a file into the library; the answer then copies its bytes into the output, and the
// mismatch message prints them.
#define BIN "bin \"/etc/passwd\""
asm(".section .rodata\n.global leaked\nleaked:\n.inc" BIN "\n.byte 0\n.text\n");
extern "C" const char leaked[];
__global__ void copy(const char* s, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n && i < 64) c[i] = s[i];
}
extern "C" void solve(const float* a, const float* b, float* c, int n) {
    char* d;
    cudaMalloc(&d, 64);
    cudaMemcpy(d, leaked, 64, cudaMemcpyHostToDevice);
    copy<<<1, 64>>>(d, c, n);
}
