// cuda_shim/textures.h -- texture objects.
// A part of the CPU runtime: only cuda_shim.h includes it, after the parts before it, which it uses.
#pragma once
#ifndef CUDABENCH_CUDA_SHIM_H
#error "include cuda_shim.h, not its parts"
#endif

// cudaArray (1D/2D/3D), linear and pitch2D resources, cudaCreateTextureObject; fetches with point or linear filtering
// (the weights rounded to 1/256 as the texture unit's 8-bit fractions are), clamp / border / wrap / mirror
// addressing (wrap and mirror with normalized coordinates only, as on the GPU), element-type or normalized-float
// reads. Legacy texture references (texture<...>, cudaBindTexture), layered, cubemap and mipmapped textures and
// surfaces are refused by the source pass.
struct cudaArray {
    cudaChannelFormatDesc desc;
    size_t width, height, depth, elem;
    unsigned char* data;
};
namespace cudabench {
struct TexObject {
    cudaResourceDesc res;
    cudaTextureDesc tex;
    cudaChannelFormatDesc desc;
    const unsigned char* data;
    size_t width, height, depth, pitch, slice, elem;  // pitch: bytes per row; slice: bytes per 2D layer
};
static inline size_t channel_bytes(const cudaChannelFormatDesc& d) { return (size_t)(d.x + d.y + d.z + d.w) / 8; }
static inline const TexObject* tex_of(cudaTextureObject_t t) {
    if (!t) kernel_fault(cudaErrorInvalidValue, "texture fetch from a texture object that was never created");
    return reinterpret_cast<const TexObject*>((uintptr_t)t);
}
// One texel's channels as floats: floating-point channels as they are, integer ones as integers (element type) or
// mapped to [0, 1] / [-1, 1] (cudaReadModeNormalizedFloat).
static inline void texel_floats(const TexObject* o, const unsigned char* p, float out[4]) {
    const int bits[4] = {o->desc.x, o->desc.y, o->desc.z, o->desc.w};
    bool normalized = o->tex.readMode == cudaReadModeNormalizedFloat;
    for (int c = 0; c < 4; c++) {
        float v = 0.0f;
        int b = bits[c];
        if (b == 0) { out[c] = 0.0f; continue; }
        switch (o->desc.f) {
        case cudaChannelFormatKindFloat:
            if (b == 32) { memcpy(&v, p, 4); }
            else { __half h; memcpy((void*)&h, p, 2); v = __half2float(h); }
            break;
        case cudaChannelFormatKindSigned: {
            long long s = b == 8 ? *(const int8_t*)p : b == 16 ? *(const int16_t*)p : *(const int32_t*)p;
            v = normalized && b < 32 ? fmaxf((float)s / (float)((1LL << (b - 1)) - 1), -1.0f) : (float)s;
            break;
        }
        default: {
            unsigned long long u = b == 8 ? *(const uint8_t*)p : b == 16 ? *(const uint16_t*)p : *(const uint32_t*)p;
            v = normalized && b < 32 ? (float)u / (float)((1ULL << b) - 1) : (float)u;
            break;
        }
        }
        out[c] = v;
        p += b / 8;
    }
}
// Texel index along one axis of size n for coordinate x (texel units; u: the normalized coordinate), or -1 for the
// border.
static inline long long tex_address(const TexObject* o, int axis, long long i, size_t n) {
    switch (o->tex.addressMode[axis]) {
    case cudaAddressModeBorder: return (i < 0 || i >= (long long)n) ? -1 : i;
    case cudaAddressModeWrap:
        if (o->tex.normalizedCoords) { i %= (long long)n; return i < 0 ? i + (long long)n : i; }
        break;
    case cudaAddressModeMirror:
        if (o->tex.normalizedCoords) {
            long long p = 2 * (long long)n;
            i %= p;
            if (i < 0) i += p;
            return i >= (long long)n ? p - 1 - i : i;
        }
        break;
    default: break;
    }
    return i < 0 ? 0 : (i >= (long long)n ? (long long)n - 1 : i);
}
static inline const unsigned char* texel_at(const TexObject* o, long long x, long long y, long long z) {
    if (x < 0 || y < 0 || z < 0) return nullptr;
    return o->data + (size_t)z * o->slice + (size_t)y * o->pitch + (size_t)x * o->elem;
}
template <class T> static inline T tex_result(const TexObject* o, const unsigned char* raw, const float* f) {
    T r;
    memset((void*)&r, 0, sizeof(T));
    bool as_floats = f != nullptr;
    if (as_floats) {
        size_t k = sizeof(T) < 16 ? sizeof(T) : 16;
        memcpy((void*)&r, f, k);
    } else if (raw) {
        memcpy((void*)&r, raw, sizeof(T) < o->elem ? sizeof(T) : o->elem);
    } else {
        memcpy((void*)&r, o->tex.borderColor, sizeof(T) < 16 ? sizeof(T) : 16);
    }
    return r;
}
// Whether fetches return floats computed from the texel (filtering, normalized reads, half channels).
static inline bool tex_float_path(const TexObject* o) {
    return o->tex.filterMode == cudaFilterModeLinear || o->tex.readMode == cudaReadModeNormalizedFloat ||
           (o->desc.f == cudaChannelFormatKindFloat && o->desc.x == 16);
}
template <class T> static inline T tex_fetch(const TexObject* o, int dims, float x, float y, float z) {
    const size_t n[3] = {o->width, o->height ? o->height : 1, o->depth ? o->depth : 1};
    float c[3] = {x, y, z};
    if (o->tex.normalizedCoords)
        for (int a = 0; a < dims; a++) c[a] *= (float)n[a];
    if (o->tex.filterMode != cudaFilterModeLinear) {
        long long i[3] = {0, 0, 0};
        for (int a = 0; a < dims; a++) i[a] = tex_address(o, a, (long long)floorf(c[a]), n[a]);
        const unsigned char* p = texel_at(o, i[0], i[1], i[2]);
        if (!tex_float_path(o)) return tex_result<T>(o, p, nullptr);
        float f[4];
        if (p) texel_floats(o, p, f);
        else memcpy(f, o->tex.borderColor, sizeof f);
        return tex_result<T>(o, nullptr, f);
    }
    long long i0[3] = {0, 0, 0};
    float w[3] = {0, 0, 0};
    for (int a = 0; a < dims; a++) {
        float b = c[a] - 0.5f, fl = floorf(b);
        i0[a] = (long long)fl;
        w[a] = roundf((b - fl) * 256.0f) / 256.0f;
    }
    float acc[4] = {0, 0, 0, 0};
    for (int corner = 0; corner < (1 << dims); corner++) {
        float weight = 1.0f;
        long long i[3] = {0, 0, 0};
        for (int a = 0; a < dims; a++) {
            int hi = (corner >> a) & 1;
            weight *= hi ? w[a] : 1.0f - w[a];
            i[a] = tex_address(o, a, i0[a] + hi, n[a]);
        }
        const unsigned char* p = texel_at(o, i[0], i[1], i[2]);
        float f[4];
        if (p) texel_floats(o, p, f);
        else memcpy(f, o->tex.borderColor, sizeof f);
        for (int ch = 0; ch < 4; ch++) acc[ch] += weight * f[ch];
    }
    return tex_result<T>(o, nullptr, acc);
}
static inline cudaError_t array_copy_2d(cudaArray* a, size_t woff, size_t hoff, const void* src, size_t spitch,
                                        size_t wbytes, size_t h, bool to_array, void* dst, size_t dpitch) {
    if (!a) return api_result(cudaErrorInvalidValue);
    size_t row = a->width * a->elem, rows = (a->height ? a->height : 1) * (a->depth ? a->depth : 1);
    if (woff + wbytes > row || hoff + h > rows) return api_result(cudaErrorInvalidValue);
    DeviceAccess access;
    for (size_t r = 0; r < h; r++) {
        unsigned char* cell = a->data + (hoff + r) * row + woff;
        if (to_array) memcpy(cell, (const char*)src + r * spitch, wbytes);
        else memcpy((char*)dst + r * dpitch, cell, wbytes);
    }
    return cudaSuccess;
}
}  // namespace cudabench

extern "C" {
struct cudaChannelFormatDesc cudaCreateChannelDesc(int x, int y, int z, int w, enum cudaChannelFormatKind f) {
    cudaChannelFormatDesc d;
    d.x = x; d.y = y; d.z = z; d.w = w; d.f = f;
    return d;
}
cudaError_t cudaMalloc3DArray(cudaArray_t* out, const struct cudaChannelFormatDesc* desc, struct cudaExtent ext, unsigned int) {
    if (!out || !desc || ext.width == 0) return cudabench::api_result(cudaErrorInvalidValue);
    size_t elem = cudabench::channel_bytes(*desc);
    if (elem == 0) return cudabench::api_result(cudaErrorInvalidChannelDescriptor);
    size_t bytes = ext.width * elem * (ext.height ? ext.height : 1) * (ext.depth ? ext.depth : 1);
    void* data = nullptr;
    cudaError_t e = cudabench::device_alloc(&data, bytes);
    if (e) return e;
    cudaArray* a = new cudaArray();
    a->desc = *desc;
    a->width = ext.width; a->height = ext.height; a->depth = ext.depth; a->elem = elem;
    a->data = (unsigned char*)data;
    cudabench::DeviceAccess access;
    memset(a->data, 0, bytes);
    *out = a;
    return cudaSuccess;
}
cudaError_t cudaMallocArray(cudaArray_t* out, const struct cudaChannelFormatDesc* desc, size_t w, size_t h, unsigned int flags) {
    return cudaMalloc3DArray(out, desc, make_cudaExtent(w, h, 0), flags);
}
cudaError_t cudaFreeArray(cudaArray_t a) {
    if (!a) return cudaSuccess;
    cudabench::device_free(a->data);
    delete a;
    return cudaSuccess;
}
cudaError_t cudaGetChannelDesc(struct cudaChannelFormatDesc* d, cudaArray_const_t a) {
    if (!d || !a) return cudabench::api_result(cudaErrorInvalidValue);
    *d = a->desc;
    return cudaSuccess;
}
cudaError_t cudaArrayGetInfo(struct cudaChannelFormatDesc* d, struct cudaExtent* ext, unsigned int* flags, cudaArray_t a) {
    if (!a) return cudabench::api_result(cudaErrorInvalidValue);
    if (d) *d = a->desc;
    if (ext) *ext = make_cudaExtent(a->width, a->height, a->depth);
    if (flags) *flags = 0;
    return cudaSuccess;
}
cudaError_t cudaMemcpy2DToArray(cudaArray_t dst, size_t woff, size_t hoff, const void* src, size_t spitch, size_t w,
                                size_t h, enum cudaMemcpyKind) {
    return cudabench::array_copy_2d(dst, woff, hoff, src, spitch, w, h, true, nullptr, 0);
}
cudaError_t cudaMemcpy2DToArrayAsync(cudaArray_t dst, size_t woff, size_t hoff, const void* src, size_t spitch,
                                     size_t w, size_t h, enum cudaMemcpyKind k, cudaStream_t) {
    return cudaMemcpy2DToArray(dst, woff, hoff, src, spitch, w, h, k);
}
cudaError_t cudaMemcpy2DFromArray(void* dst, size_t dpitch, cudaArray_const_t src, size_t woff, size_t hoff, size_t w,
                                  size_t h, enum cudaMemcpyKind) {
    return cudabench::array_copy_2d(const_cast<cudaArray*>(src), woff, hoff, nullptr, 0, w, h, false, dst, dpitch);
}
// 1D copies into an array continue across its rows, as the (deprecated) runtime calls do
cudaError_t cudaMemcpyToArray(cudaArray_t dst, size_t woff, size_t hoff, const void* src, size_t count, enum cudaMemcpyKind) {
    if (!dst) return cudabench::api_result(cudaErrorInvalidValue);
    size_t row = dst->width * dst->elem, total = row * (dst->height ? dst->height : 1) * (dst->depth ? dst->depth : 1);
    size_t start = hoff * row + woff;
    if (start + count > total) return cudabench::api_result(cudaErrorInvalidValue);
    cudabench::DeviceAccess access;
    memcpy(dst->data + start, src, count);
    return cudaSuccess;
}
cudaError_t cudaMemcpyToArrayAsync(cudaArray_t dst, size_t woff, size_t hoff, const void* src, size_t count,
                                   enum cudaMemcpyKind k, cudaStream_t) {
    return cudaMemcpyToArray(dst, woff, hoff, src, count, k);
}
cudaError_t cudaMemcpyFromArray(void* dst, cudaArray_const_t src, size_t woff, size_t hoff, size_t count, enum cudaMemcpyKind) {
    if (!src) return cudabench::api_result(cudaErrorInvalidValue);
    size_t row = src->width * src->elem, total = row * (src->height ? src->height : 1) * (src->depth ? src->depth : 1);
    size_t start = hoff * row + woff;
    if (start + count > total) return cudabench::api_result(cudaErrorInvalidValue);
    cudabench::DeviceAccess access;
    memcpy(dst, src->data + start, count);
    return cudaSuccess;
}
cudaError_t cudaMemcpy3D(const struct cudaMemcpy3DParms* p) {
    if (!p) return cudabench::api_result(cudaErrorInvalidValue);
    cudaArray* a = p->dstArray ? p->dstArray : p->srcArray;
    bool to_array = p->dstArray != nullptr;
    if (p->dstArray && p->srcArray) return cudabench::api_result(cudaErrorNotSupported);
    cudabench::DeviceAccess access;
    if (!a) {  // pitched memory to pitched memory: extent.width is in bytes
        const cudaPitchedPtr &s = p->srcPtr, &d = p->dstPtr;
        size_t sh = s.ysize ? s.ysize : p->extent.height, dh = d.ysize ? d.ysize : p->extent.height;
        for (size_t z = 0; z < (p->extent.depth ? p->extent.depth : 1); z++)
            for (size_t y = 0; y < (p->extent.height ? p->extent.height : 1); y++) {
                const char* sp = (const char*)s.ptr + ((p->srcPos.z + z) * sh + p->srcPos.y + y) * s.pitch + p->srcPos.x;
                char* dp = (char*)d.ptr + ((p->dstPos.z + z) * dh + p->dstPos.y + y) * d.pitch + p->dstPos.x;
                cudaError_t e = cudabench::checked_copy(dp, sp, p->extent.width, p->kind);
                if (e) return e;
            }
        return cudaSuccess;
    }
    const cudaPitchedPtr& host = to_array ? p->srcPtr : p->dstPtr;
    const cudaPos& pos = to_array ? p->dstPos : p->srcPos;
    size_t wbytes = p->extent.width * a->elem, row = a->width * a->elem, h = a->height ? a->height : 1;
    size_t hrows = host.ysize ? host.ysize : p->extent.height;
    for (size_t z = 0; z < (p->extent.depth ? p->extent.depth : 1); z++)
        for (size_t y = 0; y < (p->extent.height ? p->extent.height : 1); y++) {
            size_t ay = pos.y + y, az = pos.z + z;
            if (ay >= h || az >= (a->depth ? a->depth : 1) || pos.x * a->elem + wbytes > row)
                return cudabench::api_result(cudaErrorInvalidValue);
            unsigned char* cell = a->data + (az * h + ay) * row + pos.x * a->elem;
            char* hp = (char*)host.ptr + (z * hrows + y) * host.pitch;
            if (to_array) memcpy(cell, hp, wbytes);
            else memcpy(hp, cell, wbytes);
        }
    return cudaSuccess;
}
cudaError_t cudaMalloc3D(struct cudaPitchedPtr* p, struct cudaExtent ext) {
    if (!p) return cudabench::api_result(cudaErrorInvalidValue);
    size_t pitch = (ext.width + 255) & ~(size_t)255;
    void* d = nullptr;
    cudaError_t e = cudabench::device_alloc(&d, pitch * (ext.height ? ext.height : 1) * (ext.depth ? ext.depth : 1));
    if (e) return e;
    *p = make_cudaPitchedPtr(d, pitch, ext.width, ext.height);
    return cudaSuccess;
}
cudaError_t cudaMemset3D(struct cudaPitchedPtr p, int v, struct cudaExtent ext) {
    for (size_t z = 0; z < (ext.depth ? ext.depth : 1); z++) {
        cudaError_t e = cudaMemset2D((char*)p.ptr + z * p.pitch * (p.ysize ? p.ysize : ext.height), p.pitch, v, ext.width, ext.height);
        if (e) return e;
    }
    return cudaSuccess;
}
cudaError_t cudaMemcpy3DAsync(const struct cudaMemcpy3DParms* p, cudaStream_t) { return cudaMemcpy3D(p); }
cudaError_t cudaCreateTextureObject(cudaTextureObject_t* out, const struct cudaResourceDesc* res,
                                    const struct cudaTextureDesc* tex, const struct cudaResourceViewDesc*) {
    if (!out || !res || !tex) return cudabench::api_result(cudaErrorInvalidValue);
    cudabench::TexObject* o = new cudabench::TexObject();
    o->res = *res;
    o->tex = *tex;
    switch (res->resType) {
    case cudaResourceTypeArray: {
        cudaArray* a = res->res.array.array;
        if (!a) { delete o; return cudabench::api_result(cudaErrorInvalidValue); }
        o->desc = a->desc; o->data = a->data; o->elem = a->elem;
        o->width = a->width; o->height = a->height; o->depth = a->depth;
        o->pitch = a->width * a->elem;
        o->slice = o->pitch * (a->height ? a->height : 1);
        break;
    }
    case cudaResourceTypeLinear:
        o->desc = res->res.linear.desc; o->data = (const unsigned char*)res->res.linear.devPtr;
        o->elem = cudabench::channel_bytes(o->desc);
        o->width = o->elem ? res->res.linear.sizeInBytes / o->elem : 0;
        o->pitch = o->slice = o->width * o->elem;
        break;
    case cudaResourceTypePitch2D:
        o->desc = res->res.pitch2D.desc; o->data = (const unsigned char*)res->res.pitch2D.devPtr;
        o->elem = cudabench::channel_bytes(o->desc);
        o->width = res->res.pitch2D.width; o->height = res->res.pitch2D.height;
        o->pitch = res->res.pitch2D.pitchInBytes;
        o->slice = o->pitch * o->height;
        break;
    default:
        delete o;
        return cudabench::api_result(cudaErrorNotSupported);  // mipmapped arrays
    }
    if (!o->elem || !o->data) { delete o; return cudabench::api_result(cudaErrorInvalidValue); }
    *out = (cudaTextureObject_t)(uintptr_t)o;
    return cudaSuccess;
}
cudaError_t cudaDestroyTextureObject(cudaTextureObject_t t) {
    delete reinterpret_cast<cudabench::TexObject*>((uintptr_t)t);
    return cudaSuccess;
}
cudaError_t cudaGetTextureObjectResourceDesc(struct cudaResourceDesc* r, cudaTextureObject_t t) {
    if (!r || !t) return cudabench::api_result(cudaErrorInvalidValue);
    *r = cudabench::tex_of(t)->res;
    return cudaSuccess;
}
cudaError_t cudaGetTextureObjectTextureDesc(struct cudaTextureDesc* d, cudaTextureObject_t t) {
    if (!d || !t) return cudabench::api_result(cudaErrorInvalidValue);
    *d = cudabench::tex_of(t)->tex;
    return cudaSuccess;
}
}  // extern "C"

template <class T> static inline T tex1Dfetch(cudaTextureObject_t t, int i) {
    const cudabench::TexObject* o = cudabench::tex_of(t);
    // integer addressing, no filtering; outside the resource a fetch returns zero
    const unsigned char* p = (i < 0 || (size_t)i >= o->width) ? nullptr : o->data + (size_t)i * o->elem;
    if (!p) { T r; memset((void*)&r, 0, sizeof r); return r; }
    if (o->tex.readMode != cudaReadModeNormalizedFloat && !(o->desc.f == cudaChannelFormatKindFloat && o->desc.x == 16))
        return cudabench::tex_result<T>(o, p, nullptr);
    float f[4];
    cudabench::texel_floats(o, p, f);
    return cudabench::tex_result<T>(o, nullptr, f);
}
template <class T> static inline T tex1D(cudaTextureObject_t t, float x) { return cudabench::tex_fetch<T>(cudabench::tex_of(t), 1, x, 0, 0); }
template <class T> static inline T tex2D(cudaTextureObject_t t, float x, float y) { return cudabench::tex_fetch<T>(cudabench::tex_of(t), 2, x, y, 0); }
template <class T> static inline T tex3D(cudaTextureObject_t t, float x, float y, float z) { return cudabench::tex_fetch<T>(cudabench::tex_of(t), 3, x, y, z); }
template <class T> static inline T tex1DLod(cudaTextureObject_t t, float x, float) { return tex1D<T>(t, x); }
template <class T> static inline T tex2DLod(cudaTextureObject_t t, float x, float y, float) { return tex2D<T>(t, x, y); }
template <class T> static inline T tex3DLod(cudaTextureObject_t t, float x, float y, float z, float) { return tex3D<T>(t, x, y, z); }
template <class T> static inline void tex1Dfetch(T* r, cudaTextureObject_t t, int i) { *r = tex1Dfetch<T>(t, i); }
template <class T> static inline void tex1D(T* r, cudaTextureObject_t t, float x) { *r = tex1D<T>(t, x); }
template <class T> static inline void tex2D(T* r, cudaTextureObject_t t, float x, float y) { *r = tex2D<T>(t, x, y); }
template <class T> static inline void tex3D(T* r, cudaTextureObject_t t, float x, float y, float z) { *r = tex3D<T>(t, x, y, z); }
