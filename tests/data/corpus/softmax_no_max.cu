// task: ai/softmax   expect: wrong result
// Naive softmax without subtracting the row maximum: exp overflows on large logits.
__global__ void softmax(const float* x, float* y, int rows, int cols) {
    int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    float s = 0.0f;
    for (int c = 0; c < cols; ++c) s += expf(x[r * cols + c]);
    for (int c = 0; c < cols; ++c) y[r * cols + c] = expf(x[r * cols + c]) / s;
}
extern "C" void solve(const float* x, float* y, int rows, int cols) {
    softmax<<<(rows + 127) / 128, 128>>>(x, y, rows, cols);
}
