// Texture objects: a 2D cudaArray of float read with tex2D (point filtering, clamp addressing, so reads outside the
// image repeat its edge), the same array with linear filtering, a uchar4 array read as normalized floats, and
// tex1Dfetch from linear memory. Reads data/img.bin (H x W float32), writes data/point.bin, data/linear.bin,
// data/rgba.bin, data/fetch.bin.
#include <cstdio>
#include <vector>

__global__ void sample(cudaTextureObject_t point, cudaTextureObject_t linear, cudaTextureObject_t rgba,
                       cudaTextureObject_t lin1d, float* out_point, float* out_linear, float4* out_rgba,
                       float* out_fetch, int w, int h) {
    int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
    int ow = w + 4;  // one column of texels beyond each side, two to the right
    if (x >= ow || y >= h) return;
    float u = (float)(x - 1), v = (float)y;
    out_point[y * ow + x] = tex2D<float>(point, u + 0.5f, v + 0.5f);
    out_linear[y * ow + x] = tex2D<float>(linear, u + 0.25f, v + 0.75f);
    out_rgba[y * ow + x] = tex2D<float4>(rgba, u + 0.5f, v + 0.5f);
    out_fetch[y * ow + x] = tex1Dfetch<float>(lin1d, y * w + x - 1);
}

static cudaTextureObject_t make_tex(cudaArray_t arr, cudaTextureFilterMode filter, cudaTextureReadMode read) {
    cudaResourceDesc res = {};
    res.resType = cudaResourceTypeArray;
    res.res.array.array = arr;
    cudaTextureDesc td = {};
    td.addressMode[0] = cudaAddressModeClamp;
    td.addressMode[1] = cudaAddressModeClamp;
    td.filterMode = filter;
    td.readMode = read;
    td.normalizedCoords = 0;
    cudaTextureObject_t t = 0;
    cudaCreateTextureObject(&t, &res, &td, nullptr);
    return t;
}

static void write(const char* path, const void* p, size_t n) {
    FILE* f = fopen(path, "wb");
    fwrite(p, 1, n, f);
    fclose(f);
}

int main() {
    const int w = 13, h = 7, ow = w + 4;
    std::vector<float> img(w * h);
    FILE* f = fopen("data/img.bin", "rb");
    if (!f || fread(img.data(), sizeof(float), img.size(), f) != img.size()) return 2;
    fclose(f);
    std::vector<uchar4> px(w * h);
    for (int i = 0; i < w * h; i++) px[i] = make_uchar4(i % 256, (3 * i) % 256, 255, 0);

    cudaChannelFormatDesc fdesc = cudaCreateChannelDesc<float>();
    cudaArray_t farr;
    cudaMallocArray(&farr, &fdesc, w, h);
    cudaMemcpy2DToArray(farr, 0, 0, img.data(), w * sizeof(float), w * sizeof(float), h, cudaMemcpyHostToDevice);
    cudaChannelFormatDesc cdesc = cudaCreateChannelDesc(8, 8, 8, 8, cudaChannelFormatKindUnsigned);
    cudaArray_t carr;
    cudaMallocArray(&carr, &cdesc, w, h);
    cudaMemcpy2DToArray(carr, 0, 0, px.data(), w * sizeof(uchar4), w * sizeof(uchar4), h, cudaMemcpyHostToDevice);
    float* dimg;
    cudaMalloc(&dimg, img.size() * sizeof(float));
    cudaMemcpy(dimg, img.data(), img.size() * sizeof(float), cudaMemcpyHostToDevice);
    cudaResourceDesc lres = {};
    lres.resType = cudaResourceTypeLinear;
    lres.res.linear.devPtr = dimg;
    lres.res.linear.desc = fdesc;
    lres.res.linear.sizeInBytes = img.size() * sizeof(float);
    cudaTextureDesc ltd = {};
    ltd.readMode = cudaReadModeElementType;
    cudaTextureObject_t lin1d;
    cudaCreateTextureObject(&lin1d, &lres, &ltd, nullptr);

    cudaTextureObject_t point = make_tex(farr, cudaFilterModePoint, cudaReadModeElementType);
    cudaTextureObject_t linear = make_tex(farr, cudaFilterModeLinear, cudaReadModeElementType);
    cudaTextureObject_t rgba = make_tex(carr, cudaFilterModePoint, cudaReadModeNormalizedFloat);
    float *dp, *dl, *df;
    float4* dr;
    cudaMalloc(&dp, ow * h * sizeof(float));
    cudaMalloc(&dl, ow * h * sizeof(float));
    cudaMalloc(&df, ow * h * sizeof(float));
    cudaMalloc(&dr, ow * h * sizeof(float4));
    dim3 block(8, 4), grid((ow + 7) / 8, (h + 3) / 4);
    sample<<<grid, block>>>(point, linear, rgba, lin1d, dp, dl, dr, df, w, h);
    if (cudaDeviceSynchronize() != cudaSuccess) return 1;
    std::vector<float> outp(ow * h), outl(ow * h), outf(ow * h);
    std::vector<float4> outr(ow * h);
    cudaMemcpy(outp.data(), dp, outp.size() * sizeof(float), cudaMemcpyDeviceToHost);
    cudaMemcpy(outl.data(), dl, outl.size() * sizeof(float), cudaMemcpyDeviceToHost);
    cudaMemcpy(outf.data(), df, outf.size() * sizeof(float), cudaMemcpyDeviceToHost);
    cudaMemcpy(outr.data(), dr, outr.size() * sizeof(float4), cudaMemcpyDeviceToHost);
    write("data/point.bin", outp.data(), outp.size() * sizeof(float));
    write("data/linear.bin", outl.data(), outl.size() * sizeof(float));
    write("data/fetch.bin", outf.data(), outf.size() * sizeof(float));
    write("data/rgba.bin", outr.data(), outr.size() * sizeof(float4));
    cudaDestroyTextureObject(point);
    cudaDestroyTextureObject(linear);
    cudaDestroyTextureObject(rgba);
    cudaDestroyTextureObject(lin1d);
    cudaFreeArray(farr);
    cudaFreeArray(carr);
    return 0;
}
