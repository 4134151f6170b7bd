// task: basics/vector_add   expect: line 5: `#embed` \(embeds a file\) is not allowed
// Cheat 15: C23/C++26 #embed puts a file's bytes into an array.
__global__ void copy(const unsigned char* s, float* c, int n) { int i = threadIdx.x; if (i < n) c[i] = s[i]; }
static const unsigned char leaked[] = {
#embed "/etc/passwd" limit(64)
};
extern "C" void solve(const float* a, const float* b, float* c, int n) {
    unsigned char* d;
    cudaMalloc(&d, 64);
    cudaMemcpy(d, leaked, 64, cudaMemcpyHostToDevice);
    copy<<<1, 64>>>(d, c, n);
}
