#include <cuda_runtime.h>
#include <stdint.h>

// One thread per site of the given colour: thread t of row i handles column j = 2 t + ((i + color) & 1).
__global__ void ising_half(int8_t* __restrict__ s, const float* __restrict__ rand, float p4, float p8, int color,
                           int ny, int nx) {
    int half = nx >> 1;
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    int i = blockIdx.y;
    if (t >= half) return;
    int j = 2 * t + ((i + color) & 1);
    int up = i == 0 ? ny - 1 : i - 1, down = i == ny - 1 ? 0 : i + 1;
    int left = j == 0 ? nx - 1 : j - 1, right = j == nx - 1 ? 0 : j + 1;
    size_t c = (size_t)i * nx + j;
    int spin = s[c];
    int sum = s[(size_t)up * nx + j] + s[(size_t)down * nx + j] + s[(size_t)i * nx + left] + s[(size_t)i * nx + right];
    int de = 2 * spin * sum;
    float r = rand[c];
    bool flip = de <= 0 || (de == 4 && r < p4) || (de == 8 && r < p8);
    if (flip) s[c] = (int8_t)(-spin);
}

extern "C" void solve(int8_t* spins, const float* rand, float beta, int sweeps, int ny, int nx) {
    float p4 = expf(-4.0f * beta), p8 = expf(-8.0f * beta);
    int half = nx / 2;
    dim3 block(128);
    dim3 grid((half + 127) / 128, ny);
    for (int k = 0; k < sweeps; ++k) {
        const float* r = rand + (size_t)k * ny * nx;
        ising_half<<<grid, block>>>(spins, r, p4, p8, 0, ny, nx);
        ising_half<<<grid, block>>>(spins, r, p4, p8, 1, ny, nx);
    }
}
