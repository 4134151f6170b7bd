// cuda_shim/half.h -- half and bfloat16 functions that the toolkit headers only define for device code.
// A part of the CPU runtime: only cuda_shim.h includes it, after the parts before it, which it uses.
#pragma once
#ifndef CUDABENCH_CUDA_SHIM_H
#error "include cuda_shim.h, not its parts"
#endif

#define CB_HALF_FUNCS(H, H2, TOF, FROMF)                                                                             \
    static inline H __hfma(H a, H b, H c) { return FROMF(fmaf(TOF(a), TOF(b), TOF(c))); }                            \
    static inline H __hfma_sat(H a, H b, H c) { return FROMF(__saturatef(fmaf(TOF(a), TOF(b), TOF(c)))); }           \
    static inline H __hfma_relu(H a, H b, H c) { float r = fmaf(TOF(a), TOF(b), TOF(c)); return FROMF(r > 0.f ? r : 0.f); } \
    static inline H2 __hfma2(H2 a, H2 b, H2 c) { H2 r; r.x = __hfma(a.x, b.x, c.x); r.y = __hfma(a.y, b.y, c.y); return r; } \
    static inline H hexp(H a) { return FROMF(expf(TOF(a))); }                                                        \
    static inline H hexp2(H a) { return FROMF(exp2f(TOF(a))); }                                                      \
    static inline H hexp10(H a) { return FROMF(exp10f(TOF(a))); }                                                    \
    static inline H hlog(H a) { return FROMF(logf(TOF(a))); }                                                        \
    static inline H hlog2(H a) { return FROMF(log2f(TOF(a))); }                                                      \
    static inline H hlog10(H a) { return FROMF(log10f(TOF(a))); }                                                    \
    static inline H hsqrt(H a) { return FROMF(sqrtf(TOF(a))); }                                                      \
    static inline H hrsqrt(H a) { return FROMF(1.0f / sqrtf(TOF(a))); }                                              \
    static inline H hrcp(H a) { return FROMF(1.0f / TOF(a)); }                                                       \
    static inline H hsin(H a) { return FROMF(sinf(TOF(a))); }                                                        \
    static inline H hcos(H a) { return FROMF(cosf(TOF(a))); }                                                        \
    static inline H htanh(H a) { return FROMF(tanhf(TOF(a))); }                                                      \
    static inline H htanh_approx(H a) { return FROMF(tanhf(TOF(a))); }                                               \
    static inline H hceil(H a) { return FROMF(ceilf(TOF(a))); }                                                      \
    static inline H hfloor(H a) { return FROMF(floorf(TOF(a))); }                                                    \
    static inline H htrunc(H a) { return FROMF(truncf(TOF(a))); }                                                    \
    static inline H hrint(H a) { return FROMF(rintf(TOF(a))); }                                                      \
    static inline H2 h2exp(H2 a) { H2 r; r.x = hexp(a.x); r.y = hexp(a.y); return r; }                              \
    static inline H2 h2exp2(H2 a) { H2 r; r.x = hexp2(a.x); r.y = hexp2(a.y); return r; }                           \
    static inline H2 h2log(H2 a) { H2 r; r.x = hlog(a.x); r.y = hlog(a.y); return r; }                              \
    static inline H2 h2sqrt(H2 a) { H2 r; r.x = hsqrt(a.x); r.y = hsqrt(a.y); return r; }                           \
    static inline H2 h2rsqrt(H2 a) { H2 r; r.x = hrsqrt(a.x); r.y = hrsqrt(a.y); return r; }                        \
    static inline H2 h2rcp(H2 a) { H2 r; r.x = hrcp(a.x); r.y = hrcp(a.y); return r; }                              \
    static inline H2 h2sin(H2 a) { H2 r; r.x = hsin(a.x); r.y = hsin(a.y); return r; }                              \
    static inline H2 h2cos(H2 a) { H2 r; r.x = hcos(a.x); r.y = hcos(a.y); return r; }                              \
    static inline H2 h2tanh(H2 a) { H2 r; r.x = htanh(a.x); r.y = htanh(a.y); return r; }                           \
    static inline H2 h2floor(H2 a) { H2 r; r.x = hfloor(a.x); r.y = hfloor(a.y); return r; }                        \
    static inline H2 h2ceil(H2 a) { H2 r; r.x = hceil(a.x); r.y = hceil(a.y); return r; }
static inline float cb_h2f(__half h) { return __half2float(h); }
static inline __half cb_f2h(float f) { return __float2half(f); }
static inline float cb_b2f(__nv_bfloat16 h) { return __bfloat162float(h); }
static inline __nv_bfloat16 cb_f2b(float f) { return __float2bfloat16(f); }
CB_HALF_FUNCS(__half, __half2, cb_h2f, cb_f2h)
CB_HALF_FUNCS(__nv_bfloat16, __nv_bfloat162, cb_b2f, cb_f2b)
#undef CB_HALF_FUNCS
static inline int __half2int_rn(__half h) { return (int)nearbyintf(__half2float(h)); }
static inline int __half2int_rd(__half h) { return (int)floorf(__half2float(h)); }
static inline int __half2int_ru(__half h) { return (int)ceilf(__half2float(h)); }
static inline int __bfloat162int_rn(__nv_bfloat16 h) { return (int)nearbyintf(__bfloat162float(h)); }
