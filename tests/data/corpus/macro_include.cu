// task: basics/vector_add   expect: line 5: `#include SECRET_FILE` is not allowed
// Cheat 15: the include's operand is a macro, so no quoted path appears on the #include line.
#define STR(x) #x
#define SECRET_FILE STR(/etc/passwd)
#include SECRET_FILE
__global__ void add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}
extern "C" void solve(const float* a, const float* b, float* c, int n) { add<<<(n + 255) / 256, 256>>>(a, b, c, n); }
