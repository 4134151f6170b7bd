"""Source pass of the CPU runtime: turns CUDA C++ into C++ that g++ compiles against ``cuda_shim.h``.

The package's one C++ lexer (source.lexer: comments, string/char/raw-string literals, preprocessor lines) finds what
needs rewriting, so text inside comments and strings is never touched, and launches written inside macro bodies are
rewritten too:

* ``kernel<<<grid, block, smem, stream>>>(args)`` becomes
  ``::cudabench::Launcher("kernel", grid, block, smem, stream)([&](auto&&... cb_a_) { kernel(cb_a_...); }, args)``
  (the generic lambda lets template arguments be deduced as nvcc would);
* ``extern __shared__ T name[];`` becomes a pointer to the worker's dynamic shared memory;
* a function-scope ``__shared__`` declaration is followed by ``cudabench::fresh_shared(&name, sizeof(name))``,
  which fills the variable with junk once per block (it lives in the worker's thread_local storage, which would
  otherwise still hold what the previous block left there).

Line numbers are preserved (replacements keep the original's newlines) and the output starts with a ``#line``
directive, so compiler messages point at the original source. The same token stream answers
``unsupported_features`` (grid-wide synchronisation, inline PTX, tensor cores, legacy textures, CUB, Thrust, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...source.lexer import Token, tokenize

__all__ = ["Token", "tokenize", "rewrite_source", "defines_main", "unsupported_features", "uses_shared_memory",
           "SOURCE_NAME"]

SOURCE_NAME = "solution.cu"

# ---------------------------------------------------------------------------------------------------------------
# Structure: which braces open functions (host or device), namespaces, classes.


@dataclass
class _Launch:
    open_idx: int  # index of "<<<"
    device_context: bool


@dataclass
class _Analysis:
    toks: list[Token]
    launches: list[_Launch] = field(default_factory=list)
    extern_shared: list[tuple[int, bool]] = field(default_factory=list)  # (index of "extern", at function scope)
    local_shared: list[int] = field(default_factory=list)  # index of "__shared__" in a function-scope declaration


def _skip_template_params(head: list[Token]) -> list[Token]:
    out = list(head)
    while out and out[0].text == "template":
        if len(out) > 1 and out[1].text == "<":
            depth, k = 0, 1
            while k < len(out):
                t = out[k].text
                if t == "<":
                    depth += 1
                elif t in (">", ">>", ">>>"):
                    depth -= len(t)
                    if depth <= 0:
                        break
                k += 1
            out = out[k + 1:]
        else:
            out = out[1:]
    return out


def _classify(head: list[Token], outer: tuple[str, bool]) -> tuple[str, bool]:
    kind, device = outer
    if kind in ("func", "block"):
        return "block", device
    texts = [t.text for t in head]
    if "namespace" in texts:
        return "ns", False
    if len(head) >= 2 and head[0].text == "extern" and head[1].kind == "str":
        return "ns", False
    rest = [t.text for t in _skip_template_params(head)]
    for t in rest:
        if t in ("struct", "class", "union", "enum"):
            return "class", False
        if t == "(":
            break
    if "(" in rest:
        return "func", ("__global__" in rest or "__device__" in rest)
    return "block", False


def _analyse(src: str) -> _Analysis:
    toks = tokenize(src)
    an = _Analysis(toks)
    stack: list[tuple[str, bool]] = [("ns", False)]
    head: list[Token] = []
    for idx, t in enumerate(toks):
        if t.pp:
            if t.text == "<<<":
                an.launches.append(_Launch(idx, False))
            continue
        if t.text == "{":
            stack.append(_classify(head, stack[-1]))
            head = []
        elif t.text == "}":
            if len(stack) > 1:
                stack.pop()
            head = []
        elif t.text == ";":
            head = []
        else:
            head.append(t)
            if t.text == "<<<":
                an.launches.append(_Launch(idx, stack[-1][1]))
            elif t.text == "extern":
                an.extern_shared.append((idx, stack[-1][0] in ("func", "block")))
            elif t.text == "__shared__" and stack[-1][0] in ("func", "block") and \
                    not any(h.text == "extern" for h in head):
                an.local_shared.append(idx)
    return an


# ---------------------------------------------------------------------------------------------------------------
# Unsupported features

_HEADER_RULES: tuple[tuple[str, str], ...] = (
    ("cooperative_groups/memcpy_async", "asynchronous copies (memcpy_async/cuda_pipeline)"),
    ("mma.h", "tensor cores (wmma/mma)"),
    ("cub/", "CUB"),
    ("thrust/", "Thrust"),
    ("cuda/", "libcu++ (cuda:: namespace)"),
    ("cublas", "cuBLAS"),
    ("cudnn", "cuDNN"),
    ("cufft", "cuFFT"),
    ("curand", "cuRAND"),
    ("cusparse", "cuSPARSE"),
    ("cusolver", "cuSOLVER"),
    ("cutlass/", "CUTLASS"),
    ("cute/", "CUTLASS"),
    ("nccl", "NCCL"),
    ("cuda_pipeline", "asynchronous copies (memcpy_async/cuda_pipeline)"),
    ("cuda_awbarrier", "asynchronous copies (memcpy_async/cuda_pipeline)"),
    ("cuda_fp8", "FP8 types (cuda_fp8.h)"),
    ("cuda_fp6", "FP6/FP4 types"),
    ("cuda_fp4", "FP6/FP4 types"),
    ("texture_fetch_functions", "legacy texture references (texture<...>)"),
    ("surface_functions", "textures"),
    ("surface_indirect_functions", "textures"),
)

_IDENT_RULES: dict[str, str] = {
    "cudaLaunchCooperativeKernel": "cooperative launches (grid-wide synchronisation)",
    "cudaLaunchCooperativeKernelMultiDevice": "cooperative launches (grid-wide synchronisation)",
    "coalesced_threads": "cooperative groups coalesced_group",
    "coalesced_group": "cooperative groups coalesced_group",
    "this_multi_grid": "cooperative groups multi_grid_group",
    "multi_grid_group": "cooperative groups multi_grid_group",
    "labeled_partition": "cooperative groups labeled_partition/binary_partition",
    "binary_partition": "cooperative groups labeled_partition/binary_partition",
    "reduce_update_async": "cooperative groups asynchronous reductions",
    "reduce_store_async": "cooperative groups asynchronous reductions",
    "this_cluster": "thread block clusters",
    "cluster_group": "thread block clusters",
    "asm": "inline PTX (asm)",
    "__asm__": "inline PTX (asm)",
    "__asm": "inline PTX (asm)",
    "wmma": "tensor cores (wmma/mma)",
    "nvcuda": "tensor cores (wmma/mma)",
    "tex1DLayered": "layered textures",
    "tex2DLayered": "layered textures",
    "tex1DLayeredLod": "layered textures",
    "tex2DLayeredLod": "layered textures",
    "texCubemap": "cubemap textures",
    "texCubemapLayered": "cubemap textures",
    "tex2Dgather": "texture gathers (tex2Dgather)",
    "tex1DGrad": "texture gradients (tex*Grad)",
    "tex2DGrad": "texture gradients (tex*Grad)",
    "tex3DGrad": "texture gradients (tex*Grad)",
    "cudaMallocMipmappedArray": "mipmapped textures",
    "cudaBindTexture": "legacy texture references (texture<...>)",
    "cudaBindTexture2D": "legacy texture references (texture<...>)",
    "cudaBindTextureToArray": "legacy texture references (texture<...>)",
    "cudaSurfaceObject_t": "surfaces",
    "cudaCreateSurfaceObject": "surfaces",
    "surf1Dread": "surfaces",
    "surf1Dwrite": "surfaces",
    "surf2Dread": "surfaces",
    "surf2Dwrite": "surfaces",
    "surf3Dread": "surfaces",
    "surf3Dwrite": "surfaces",
    "__pipeline_memcpy_async": "asynchronous copies (memcpy_async/cuda_pipeline)",
    "__pipeline_commit": "asynchronous copies (memcpy_async/cuda_pipeline)",
    "memcpy_async": "asynchronous copies (memcpy_async/cuda_pipeline)",
    "__cluster_dims__": "thread block clusters",
    "cudaLaunchKernelEx": "thread block clusters",
    "cudaLaunchKernel": "cudaLaunchKernel (untyped launches)",
    "__nv_fp8_e4m3": "FP8 types (cuda_fp8.h)",
    "__nv_fp8_e5m2": "FP8 types (cuda_fp8.h)",
}

_NAMESPACE_RULES: dict[str, str] = {
    "cub": "CUB",
    "thrust": "Thrust",
    "cuda": "libcu++ (cuda:: namespace)",
    "cutlass": "CUTLASS",
    "cute": "CUTLASS",
}

_IDENT_PREFIX_RULES: tuple[tuple[str, str], ...] = (
    ("cublas", "cuBLAS"),
    ("cudnn", "cuDNN"),
    ("cufft", "cuFFT"),
    ("curand", "cuRAND"),
    ("cusparse", "cuSPARSE"),
    ("cusolver", "cuSOLVER"),
    ("cudaGraph", "CUDA graphs"),
    ("cudaStreamBeginCapture", "CUDA graphs"),
)


def uses_shared_memory(source: str) -> bool:
    """Whether ``source`` declares ``__shared__`` memory (also inside a macro), outside comments and strings."""
    return any(t.kind == "id" and t.text == "__shared__" for t in tokenize(source))


def unsupported_features(source: str) -> list[str]:
    """Features of ``source`` the CPU runtime cannot run, in order of first appearance; [] if none.

    Works on tokens, so mentions inside comments and string literals do not count."""
    an = _analyse(source)
    toks = an.toks
    found: list[str] = []

    def add(feature: str) -> None:
        if feature not in found:
            found.append(feature)

    launch_at = {la.open_idx: la for la in an.launches}
    for idx, t in enumerate(toks):
        if t.kind == "include":
            name = t.text.strip()
            for prefix, feature in _HEADER_RULES:
                if name.startswith(prefix):
                    add(feature)
                    break
        elif t.kind == "id":
            ident_feature = _IDENT_RULES.get(t.text)
            if ident_feature:
                add(ident_feature)
                continue
            nxt = toks[idx + 1].text if idx + 1 < len(toks) else ""
            if t.text in _NAMESPACE_RULES and nxt == "::":
                add(_NAMESPACE_RULES[t.text])
                continue
            if t.text == "texture" and nxt == "<":
                add("legacy texture references (texture<...>)")
                continue
            for prefix, feature in _IDENT_PREFIX_RULES:
                if t.text.startswith(prefix):
                    add(feature)
                    break
        elif t.text == "<<<" and idx in launch_at and launch_at[idx].device_context:
            add("dynamic parallelism")
    if _syncs_the_grid(toks):
        add("grid-wide synchronisation (cooperative_groups::grid_group::sync)")
    return found


def _syncs_the_grid(toks: list[Token]) -> bool:
    """``this_grid().sync()``, or ``g.sync()`` / ``cg::sync(g)`` on a ``g`` initialised from ``this_grid()``."""
    grids: set[str] = set()
    texts = [t.text for t in toks]
    for k, t in enumerate(texts):
        if t != "this_grid":
            continue
        if texts[k + 1:k + 5] == ["(", ")", ".", "sync"]:
            return True
        j = k - 1  # back over "cg ::" or "cooperative_groups ::" to "NAME =" or "NAME ("/"NAME {"
        while j >= 1 and texts[j] == "::":
            j -= 2
        if j >= 1 and texts[j] in ("=", "(", "{") and toks[j - 1].kind == "id":
            grids.add(texts[j - 1])
    for k, t in enumerate(texts):
        if t in grids and texts[k + 1:k + 3] == [".", "sync"]:
            return True
        if t == "sync" and k + 2 < len(texts) and texts[k + 1] == "(" and texts[k + 2] in grids:
            return True
    return False


# ---------------------------------------------------------------------------------------------------------------
# Rewriting

_CLOSERS = {")": "(", "]": "[", "}": "{"}
_OPENERS = {"(": ")", "[": "]", "{": "}"}


def _match_forward(toks: list[Token], i: int) -> int:
    """Index of the bracket closing the one at ``i`` or -1."""
    depth = 0
    for k in range(i, len(toks)):
        t = toks[k].text
        if t in _OPENERS:
            depth += 1
        elif t in _CLOSERS:
            depth -= 1
            if depth == 0:
                return k
    return -1


def _match_backward(toks: list[Token], i: int) -> int:
    """Index of the bracket opening the one at ``i`` (``)``, ``]`` or a template ``>``) or -1."""
    closing = toks[i].text
    if closing in _CLOSERS:
        depth = 0
        for k in range(i, -1, -1):
            t = toks[k].text
            if t in _CLOSERS:
                depth += 1
            elif t in _OPENERS:
                depth -= 1
                if depth == 0:
                    return k
        return -1
    depth = 0
    for k in range(i, -1, -1):
        t = toks[k].text
        if t in (">", ">>", ">>>"):
            depth += len(t)
        elif t in ("<", "<<"):
            depth -= len(t)
            if depth <= 0:
                return k
        elif t in (";", "{", "}"):
            return -1
    return -1


def _kernel_start(toks: list[Token], i: int) -> int:
    """First token of the kernel expression that ends just before index ``i``; -1 if there is none."""
    k = i - 1
    start = -1
    while k >= 0:
        t = toks[k]
        if t.text in (">", ">>", ">>>"):
            o = _match_backward(toks, k)
            if o <= 0 or toks[o - 1].kind != "id":
                return start
            k = o - 1
            start = k
        elif t.text in (")", "]"):
            o = _match_backward(toks, k)
            if o < 0:
                return start
            if t.text == "]" and o > 0 and (toks[o - 1].kind == "id" or toks[o - 1].text in (")", "]")):
                k = o - 1
                continue
            start = o
            k = o - 1
            if t.text == ")":
                break
            continue
        elif t.kind == "id":
            start = k
            k -= 1
        else:
            return start
        if k >= 0 and toks[k].text in ("::", ".", "->"):
            if toks[k].text == "::" and (k == 0 or (toks[k - 1].kind != "id" and toks[k - 1].text not in (">", ">>"))):
                return k
            k -= 1
            continue
        break
    return start


def rewrite_source(source: str, source_name: str = SOURCE_NAME, *, program_main: bool = False) -> str:
    """``source`` rewritten for g++ and cuda_shim.h, with a leading ``#line 1 "<source_name>"``.

    ``program_main``: the source is a whole program whose ``main`` is renamed and exported as
    ``extern "C" int cudabench_program_main(int, char**)`` (for a shared library)."""
    an = _analyse(source)
    toks = an.toks
    edits: list[tuple[int, int, str]] = []
    tail = ""
    if program_main:
        edits += _program_main_edits(toks)
        tail = ('\nextern "C" int cudabench_program_main(int argc, char** argv) '
                "{ int r = ::cudabench::call_program_main(cudabench_user_main_, argc, argv); fflush(nullptr); return r; }\n")

    for la in an.launches:
        i = la.open_idx
        ks = _kernel_start(toks, i)
        if ks < 0:
            continue
        depth, j = 0, i + 1
        while j < len(toks):
            t = toks[j].text
            if t in _OPENERS:
                depth += 1
            elif t in _CLOSERS:
                depth -= 1
            elif t == ">>>" and depth == 0:
                break
            j += 1
        if j >= len(toks) or j + 1 >= len(toks) or toks[j + 1].text != "(":
            continue
        close = _match_forward(toks, j + 1)
        if close < 0:
            continue
        kernel = " ".join(t.text for t in toks[ks:i])
        name = kernel.replace("\\", "\\\\").replace('"', '\\"')
        config = source[toks[i].end:toks[j].start]
        args = source[toks[j + 1].end:toks[close].start]
        text = (f'::cudabench::Launcher("{name}", {config})([&](auto&&... cb_a_) {{ {kernel}(cb_a_...); }}'
                f'{", " + args if args.strip() else ""})')
        start, end = toks[ks].start, toks[close].end
        if not toks[i].pp:
            text += "\n" * max(0, source.count("\n", start, end) - text.count("\n"))
        edits.append((start, end, text))

    for idx, at_function_scope in an.extern_shared:
        edit = _extern_shared_edit(source, toks, idx, at_function_scope)
        if edit:
            edits.append(edit)

    for idx in an.local_shared:
        edit = _fresh_shared_edit(toks, idx)
        if edit:
            edits.append(edit)

    edits.sort(key=lambda e: e[0])
    out: list[str] = []
    pos = 0
    for start, end, text in edits:
        if start < pos:  # overlapping edits: keep the first
            continue
        out.append(source[pos:start])
        out.append(text)
        pos = end
    out.append(source[pos:])
    return f'#line 1 "{source_name}"\n' + "".join(out) + tail


def _program_main_edits(toks: list[Token]) -> list[tuple[int, int, str]]:
    """Rename the namespace-scope definition of ``main`` to ``cudabench_user_main_`` and end its body with
    ``return 0;`` (falling off the end of main means 0; of any other function it is undefined behaviour)."""
    depth = 0
    for idx, t in enumerate(toks):
        if t.pp:
            continue
        if t.text == "{":
            depth += 1
        elif t.text == "}":
            depth -= 1
        elif depth == 0 and t.kind == "id" and t.text == "main" and idx + 1 < len(toks) and toks[idx + 1].text == "(":
            close = _match_forward(toks, idx + 1)
            body = close + 1
            while 0 < body < len(toks) and toks[body].text != "{" and toks[body].text not in (";", "("):
                body += 1  # noexcept, attributes, ...
            if close < 0 or body >= len(toks) or toks[body].text != "{":
                continue  # a declaration, not the definition
            end = _match_forward(toks, body)
            if end < 0:
                continue
            return [(t.start, t.end, "cudabench_user_main_"), (toks[end].start, toks[end].start, " return 0; ")]
    return []


def defines_main(source: str) -> bool:
    """Whether ``source`` defines ``main`` at namespace scope (outside comments, strings and macros)."""
    return bool(_program_main_edits(tokenize(source)))


def _extern_shared_edit(source: str, toks: list[Token], idx: int, at_function_scope: bool):
    k = idx + 1
    decl: list[Token] = []
    while k < len(toks) and toks[k].text != ";":
        if toks[k].text in ("{", "}", "(") and toks[k].text != "(":
            return None
        decl.append(toks[k])
        k += 1
    if k >= len(toks) or not any(t.text == "__shared__" for t in decl):
        return None
    # drop __shared__ and alignment specifiers
    kept: list[Token] = []
    m = 0
    while m < len(decl):
        t = decl[m]
        if t.text == "__shared__":
            m += 1
            continue
        if t.text in ("__align__", "alignas", "__attribute__") and m + 1 < len(decl) and decl[m + 1].text == "(":
            close = _match_forward(decl, m + 1)
            m = (close if close >= 0 else m) + 1
            continue
        kept.append(t)
        m += 1
    # declarator: NAME [ ] (an optional size inside the brackets is ignored)
    if len(kept) < 4 or kept[-1].text != "]":
        return None
    o = len(kept) - 2
    while o >= 0 and kept[o].text != "[":
        o -= 1
    if o < 2 or kept[o - 1].kind != "id":
        return None
    name = kept[o - 1].text
    type_text = " ".join(t.text for t in kept[:o - 1])
    start, end = toks[idx].start, toks[k].end
    newlines = "\n" * source.count("\n", start, end)
    ptr = f"reinterpret_cast<{type_text}*>(::cudabench::tl_dsmem)"
    if at_function_scope:
        text = f"{type_text}* const {name} = {ptr};"
    else:
        text = f"static thread_local {type_text}* const {name} = {ptr};"
    return start, end, text + newlines


def _fresh_shared_edit(toks: list[Token], idx: int):
    """After a function-scope ``__shared__`` declaration, a call that fills its variables with junk once per block
    (cudabench::fresh_shared), on the same line."""
    k, depth = idx + 1, 0
    pieces: list[list[Token]] = [[]]
    while k < len(toks):
        t = toks[k]
        if t.pp or t.text in ("{", "}"):
            return None
        if t.text in ("(", "["):
            depth += 1
        elif t.text in (")", "]"):
            depth -= 1
        elif depth == 0 and t.text == ";":
            break
        if depth == 0 and t.text == ",":
            pieces.append([])
        else:
            pieces[-1].append(t)
        k += 1
    if k >= len(toks):
        return None
    names = []
    for piece in pieces:
        name = None
        depth = 0
        for t in piece:
            if depth == 0 and t.text == "[" and name is not None:  # NAME[...]: the array's extents follow
                break
            if t.text in ("(", "["):
                depth += 1
                continue
            if t.text in (")", "]"):
                depth -= 1
                continue
            if depth == 0 and t.text == "=":
                break
            if depth == 0 and t.kind == "id":
                name = t.text
        if name is None:
            return None
        names.append(name)
    text = "".join(f" ::cudabench::fresh_shared(&{n}, sizeof({n}));" for n in names)
    return toks[k].end, toks[k].end, text
