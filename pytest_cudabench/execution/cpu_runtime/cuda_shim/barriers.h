// cuda_shim/barriers.h -- barriers and warp operations; the fill of function-scope __shared__ variables.
// A part of the CPU runtime: only cuda_shim.h includes it, after the parts before it, which it uses.
#pragma once
#ifndef CUDABENCH_CUDA_SHIM_H
#error "include cuda_shim.h, not its parts"
#endif

namespace cudabench {

static CB_RT int sync_block(int site, int pred) {
    Worker* w = tl_worker;
    if (!w || !w->cur) return pred != 0;
    Fiber* f = w->cur;
    if (w->bar_arrived == 0) {
        w->bar_site = site;
        w->bar_mixed = false;
        w->bar_count = 0;
    } else if (site != w->bar_site) {
        w->bar_mixed = true;
    }
    w->bar_count += pred != 0;
    w->bar_arrived++;
    f->state = ST_BAR;
    f->site = site;
    if (bar_complete(w)) {
        if (w->bar_mixed) bar_fault(w);
        release_bar(w, f);
        return (int)f->result;
    }
    switch_away(w, false);
    return (int)f->result;
}

static CB_RT void release_warp(Worker* w, int wi, unsigned arr, Fiber* self) {
    WarpState& ws = w->warps[wi];
    Fiber* base = w->fibers + wi * 32;
    for (unsigned m = arr; m; m &= m - 1) {
        int l = __builtin_ctz(m);
        Fiber& t = base[l];
        int width = t.wwidth;
        if (width <= 0 || width > 32 || (width & (width - 1))) width = 32;
        int seg = l & ~(width - 1), s = l;
        unsigned long long r = 0;
        unsigned members = arr & (t.wmask | (1u << l));
        switch (t.wop) {
        case W_SYNC: break;
        case W_SHFL: s = seg + (t.warg & (width - 1)); break;
        case W_UP: s = (l - seg) - t.warg >= 0 ? l - t.warg : l; break;
        case W_DOWN: s = (l - seg) + t.warg < width ? l + t.warg : l; break;
        case W_XOR: s = l ^ (t.warg & 31); if (s >= seg + width) s = l; break;
        case W_BALLOT: case W_ANY: case W_ALL:
            for (unsigned g = members; g; g &= g - 1) {
                int k = __builtin_ctz(g);
                if (base[k].wval) r |= 1ull << k;
            }
            if (t.wop == W_ANY) r = r != 0;
            else if (t.wop == W_ALL) r = r == members;
            break;
        case W_MATCH_ANY: case W_MATCH_ALL:
            for (unsigned g = members; g; g &= g - 1) {
                int k = __builtin_ctz(g);
                if (base[k].wval == t.wval) r |= 1ull << k;
            }
            if (t.wop == W_MATCH_ALL) r = (r == members) ? r : 0;
            break;
        default: {
            unsigned long long acc = t.wval;
            for (unsigned g = members; g; g &= g - 1) {
                unsigned long long v = base[__builtin_ctz(g)].wval;
                switch (t.wop) {
                case W_RADD: acc = (g == members) ? v : (unsigned)(acc + v); break;
                case W_RMIN: acc = (unsigned)v < (unsigned)acc ? v : acc; break;
                case W_RMAX: acc = (unsigned)v > (unsigned)acc ? v : acc; break;
                case W_RMINS: acc = (int)v < (int)acc ? v : acc; break;
                case W_RMAXS: acc = (int)v > (int)acc ? v : acc; break;
                case W_RAND: acc &= v; break;
                case W_ROR: acc |= v; break;
                case W_RXOR: acc = (g == members) ? v : acc ^ v; break;
                }
            }
            r = acc;
        }
        }
        if (t.wop >= W_SHFL && t.wop <= W_XOR) r = (arr >> s) & 1u ? base[s].wval : t.wval;
        t.result = r;
    }
    int ready = 0;
    for (unsigned m = arr; m; m &= m - 1) {
        int l = __builtin_ctz(m);
        base[l].state = ST_READY;
        if (&base[l] != self) w->order[ready++] = wi * 32 + l;
    }
    queue_ready(w, ready, true);
    ws.syncs++;
    ws.arrived &= ~arr;
    if (ws.mixed) {
        unsigned rest = ws.arrived;  // still mixed only if the lanes left wait at different operations
        ws.mixed = rest && warp_group(w, wi, __builtin_ctz(rest)) != rest;
    }
}

static CB_RT unsigned long long warp_op(int op, unsigned mask, unsigned long long val, int arg, int width) {
    Worker* w = tl_worker;
    if (!w || !w->cur) {  // called from host code: a warp of one thread
        switch (op) {
        case W_BALLOT: return val ? 1 : 0;
        case W_ANY: case W_ALL: return val != 0;
        case W_MATCH_ANY: case W_MATCH_ALL: return 1;
        default: return val;
        }
    }
    Fiber* f = w->cur;
    int idx = (int)(f - w->fibers);
    unsigned bit = 1u << (idx & 31);
    WarpState& ws = w->warps[idx >> 5];
    f->wop = op;
    f->wmask = mask;
    f->wval = val;
    f->warg = arg;
    f->wwidth = width;
    f->state = ST_WARP;
    if (ws.arrived && !ws.mixed) {
        Fiber& first = w->fibers[(idx & ~31) + __builtin_ctz(ws.arrived)];
        if (first.wop != op || first.wmask != mask) ws.mixed = true;
    }
    ws.arrived |= bit;
    unsigned g = warp_group(w, idx >> 5, idx & 31);
    if (group_complete(w, idx >> 5, idx & 31, g)) {
        release_warp(w, idx >> 5, g, f);
        return f->result;
    }
    switch_away(w, false);
    return f->result;
}

// Called (by the rewritten source) after each function-scope __shared__ declaration: the first thread of a block to
// reach it fills the variable with junk, as a GPU leaves shared memory uninitialised; otherwise the worker's
// thread_local storage would still hold what the previous block or launch left there (a result a racing answer
// could read).
static CB_RT void fresh_shared(void* p, size_t n) {
    Worker* w = tl_worker;
    if (!w || !w->cur) return;
    for (int k = 0; k < w->nfresh; k++)
        if (w->fresh[k] == p) return;
    if (w->nfresh == 64) return;  // never refill a variable the block may be using
    w->fresh[w->nfresh] = p;
    w->fresh_size[w->nfresh] = n;
    w->fresh_shadow[w->nfresh++] = w->nshadow;
    w->nshadow += (unsigned)((n + 3) / 4);
    memset(p, 0xFF, n);
    w->static_smem += n;
    if (w->static_smem + w->job->smem > w->job->smem_limit) {  // a GPU refuses such a launch
        Job* j = const_cast<Job*>(w->job);
        if (!j->refused) {
            j->refused = 1;
            set_error(cudaErrorInvalidValue, false,
                      "kernel %s uses %zu bytes of __shared__ variables and requests %zu bytes of dynamic shared "
                      "memory: more than the %zu bytes a block gets on sm_%d%s (a GPU refuses the launch)",
                      j->name, w->static_smem, j->smem, j->smem_limit, CUDABENCH_SM,
                      j->smem_limit == kDefaultSmem ? " without cudaFuncAttributeMaxDynamicSharedMemorySize" : "");
        }
        abandon_fiber(w);
    }
}

static CB_RT void yield_fiber() {  // let the other threads of the block run (spin loops, failed CAS)
    Worker* w = tl_worker;
    if (!w || !w->cur || !w->qcount) return;
    Fiber* f = w->cur;
    q_push(w, (int)(f - w->fibers));
    switch_away(w, false);
}

[[noreturn]] static CB_RT void kernel_fault(int code, const char* what) {
    Worker* w = tl_worker;
    if (w && w->cur) {
        set_error(code, true, "%s in kernel %s, block (%u,%u,%u), thread (%u,%u,%u)", what, w->job->name,
                  blockIdx.x, blockIdx.y, blockIdx.z, threadIdx.x, threadIdx.y, threadIdx.z);
        abandon_fiber(w);
    }
    fprintf(stderr, "cudabench: %s in host code\n", what);
    abort();
}

template <class T> static inline unsigned long long to_bits(T v) {
    static_assert(sizeof(T) <= 8, "warp operations support types of at most 8 bytes");
    unsigned long long r = 0;
    memcpy(&r, &v, sizeof(T));
    return r;
}
template <class T> static inline T from_bits(unsigned long long v) {
    T r;
    memcpy((void*)&r, &v, sizeof(T));
    return r;
}

}  // namespace cudabench
