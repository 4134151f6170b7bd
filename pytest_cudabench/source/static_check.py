"""Static checks of an answer: libraries the task does not allow, and calls a kernel answer has no business making.

Two layers: the source's identifiers and includes (outside comments and strings) before compiling, and the symbols
the compiled library imports after compiling, which macros and token pasting cannot hide.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import StageFailure
from .lexer import (
    decode_escapes,
    directives,
    find_identifier,
    identifiers,
    includes,
    line_of,
    string_literals,
    strip_comments,
    strip_comments_and_strings,
)


@dataclass(frozen=True)
class Library:
    name: str
    header_prefixes: tuple[str, ...]
    identifier_prefixes: tuple[str, ...]
    link: tuple[str, ...]  # linker flags when allowed
    macro_prefixes: tuple[str, ...] = ()  # the library's own macros (CUB_NAMESPACE_BEGIN opens `cub` unnamed)


LIBRARIES = {
    lib.name: lib
    for lib in (
        Library("cublas", ("cublas",), ("cublas",), ("-lcublas", "-lcublasLt")),
        Library("cublaslt", ("cublasLt",), ("cublasLt",), ("-lcublasLt",)),
        Library("cudnn", ("cudnn",), ("cudnn",), ("-lcudnn",)),
        Library("cufft", ("cufft",), ("cufft",), ("-lcufft",)),
        Library("curand", ("curand",), ("curand",), ("-lcurand",)),
        Library("cusparse", ("cusparse",), ("cusparse",), ("-lcusparse",)),
        Library("cusolver", ("cusolver",), ("cusolver",), ("-lcusolver",)),
        Library("thrust", ("thrust/",), ("thrust",), (), ("THRUST_",)),
        Library("cub", ("cub/",), ("cub",), (), ("CUB_",)),
        Library("cutlass", ("cutlass/", "cute/"), ("cutlass", "cute"), (), ("CUTLASS_", "CUTE_")),
        Library("nccl", ("nccl",), ("nccl",), ("-lnccl",)),
    )
}
# Library use is judged by what the answer calls and links, not by what it includes: an unused
# `#include <cub/cub.cuh>` is harmless. In the source, any of a barred library's names or macros (outside the
# #include lines) is a use; in the build, an imported symbol of a linked library is. Header-only code leaves no
# symbol, so an answer that includes a barred library's header may not paste tokens (##), which could spell its names.

# Host functions the CUDA driver calls later on a helper thread of its own: code running outside solve, on a thread
# the GPU child's Landlock domain does not bind (seccomp does: it filters every thread). A kernel answer has no use
# for them; looking driver functions up by name would reach them without naming them.
HOST_CALLBACKS = {
    **{name: "runs host code on a CUDA driver thread" for name in (
        "cudaLaunchHostFunc", "cudaStreamAddCallback", "cuLaunchHostFunc", "cuStreamAddCallback",
        "cudaGraphAddHostNode", "cuGraphAddHostNode", "cudaGraphHostNodeSetParams", "cuGraphHostNodeSetParams",
        "cudaGraphExecHostNodeSetParams", "cuGraphExecHostNodeSetParams", "cudaUserObjectCreate",
        "cuUserObjectCreate")},
    **{name: "looks up CUDA driver functions at run time" for name in (
        "cudaGetDriverEntryPoint", "cudaGetDriverEntryPointByVersion", "cuGetProcAddress", "cuGetProcAddress_v2")},
}
# A graph node of host code made through the generic node API names its type.
HOST_NODE_TYPES = {"cudaGraphNodeTypeHost", "CU_GRAPH_NODE_TYPE_HOST"}

# Process control, files, network, dynamic loading, background threads: none belongs in a kernel answer.
FORBIDDEN_CALLS = {
    **HOST_CALLBACKS,
    "system": "runs a shell command", "popen": "runs a shell command", "fork": "creates a process",
    "vfork": "creates a process", "clone": "creates a process", "posix_spawn": "creates a process",
    "posix_spawnp": "creates a process", "execl": "replaces the process", "execlp": "replaces the process",
    "execle": "replaces the process", "execv": "replaces the process", "execvp": "replaces the process",
    "execvpe": "replaces the process", "execve": "replaces the process", "fexecve": "replaces the process",
    "exit": "ends the process", "_exit": "ends the process", "_Exit": "ends the process",
    "quick_exit": "ends the process", "atexit": "hooks process exit", "at_quick_exit": "hooks process exit",
    "kill": "signals a process", "ptrace": "traces a process", "syscall": "makes a raw system call",
    "fopen": "opens a file", "fopen64": "opens a file", "freopen": "opens a file", "open": "opens a file",
    "open64": "opens a file", "openat": "opens a file", "creat": "creates a file", "remove": "deletes a file",
    "unlink": "deletes a file", "rename": "renames a file", "mkdir": "creates a directory", "chdir": "changes directory",
    "opendir": "reads a directory", "socket": "opens a network socket", "connect": "opens a network connection",
    "bind": "listens on the network", "listen": "listens on the network", "accept": "accepts network connections",
    "getaddrinfo": "resolves network names", "dlopen": "loads a library at run time", "dlsym": "looks up symbols at run time",
    "pthread_create": "starts a background thread", "setenv": "changes the environment", "putenv": "changes the environment",
    "dlvsym": "looks up symbols at run time", "mprotect": "changes memory protection, as code patching does",
    "pkey_mprotect": "changes memory protection, as code patching does", "dup2": "redirects a file descriptor",
    "dup3": "redirects a file descriptor",
}
# Looked for in the compiled library only: as names in source they are too common (a kernel helper `write`), and
# the import is what matters. printf/fprintf/puts/fwrite on the standard streams stay allowed.
FORBIDDEN_IMPORTS = {
    "write": "writes to a raw file descriptor", "pwrite": "writes to a raw file descriptor",
    "pwrite64": "writes to a raw file descriptor", "writev": "writes to a raw file descriptor",
    "pwritev": "writes to a raw file descriptor", "pwritev2": "writes to a raw file descriptor",
    "fdopen": "opens a stream on a raw file descriptor", "dup": "duplicates a file descriptor",
    "process_vm_writev": "writes another process's memory", "dladdr": "inspects loaded libraries",
    "dlinfo": "inspects loaded libraries", "dl_iterate_phdr": "walks loaded libraries (code patching)",
}
# The harness's timer: CUDA events (runtime and driver API). An answer has no reason to call them, and defining
# one interposes the harness's clock.
TIMER_SYMBOLS = {name: "the harness's timer (CUDA events)" for name in (
    "cudaEventElapsedTime", "cudaEventElapsedTime_v2", "cudaEventRecord", "cudaEventRecordWithFlags",
    "cudaEventSynchronize", "cudaEventQuery", "cudaEventCreate", "cudaEventCreateWithFlags", "cudaEventDestroy",
    "cuEventElapsedTime", "cuEventElapsedTime_v2", "cuEventRecord", "cuEventRecordWithFlags",
    "cuEventSynchronize", "cuEventQuery", "cuEventCreate", "cuEventDestroy", "cuEventDestroy_v2",
)}
# Defining any of these (rather than calling them) replaces a clock or a call the harness's measurement relies on.
HARNESS_DEFINITIONS = {
    **TIMER_SYMBOLS,
    **{name: "a host clock the harness reads" for name in (
        "clock_gettime", "__clock_gettime", "gettimeofday", "time", "clock", "timespec_get", "ftime")},
    **{name: "a synchronization the harness's measurement relies on" for name in (
        "cudaDeviceSynchronize", "cudaStreamSynchronize", "cuCtxSynchronize", "cuStreamSynchronize",
        "cudaMemsetAsync", "cudaMemcpyAsync", "cudaGetLastError", "cudaPeekAtLastError")},
}
FORBIDDEN_HEADERS = {
    "fstream": "file streams", "filesystem": "file system access", "thread": "background threads",
    "future": "background threads", "sys/socket.h": "network sockets", "netinet/in.h": "network sockets",
    "arpa/inet.h": "network sockets", "netdb.h": "network name lookup", "dlfcn.h": "dynamic loading",
    "spawn.h": "process creation", "sys/ptrace.h": "process tracing", "sys/wait.h": "process control",
    "cuda/std/thread": "background threads",
}
FORBIDDEN_QUALIFIED = {"std::thread": "starts a background thread", "std::async": "starts a background task",
                       "std::ofstream": "writes a file", "std::ifstream": "reads a file",
                       "std::fstream": "opens a file", "std::filesystem": "accesses the file system",
                       "std::exit": "ends the process", "std::system": "runs a shell command"}


# Headers an answer may include, by name only: the C and C++ standard libraries, POSIX basics and the CUDA
# toolkit. Library *use* (cuBLAS, Thrust, ...) is judged afterwards by the library rules.
STANDARD_HEADERS = frozenset("""
    algorithm any array atomic barrier bit bitset cassert ccomplex cctype cerrno cfenv cfloat charconv chrono cinttypes
    ciso646 climits clocale cmath codecvt compare complex concepts condition_variable coroutine csetjmp csignal
    cstdalign cstdarg cstdbool cstddef cstdint cstdio cstdlib cstring ctgmath ctime cuchar cwchar cwctype deque
    exception execution expected filesystem format forward_list fstream functional future initializer_list iomanip
    ios iosfwd iostream istream iterator latch limits list locale map memory memory_resource mutex new numbers
    numeric optional ostream queue random ranges ratio regex scoped_allocator semaphore set shared_mutex source_location
    span sstream stack stdexcept stop_token streambuf string string_view strstream syncstream system_error thread
    tuple type_traits typeindex typeinfo unordered_map unordered_set utility valarray variant vector version
    assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h locale.h math.h setjmp.h signal.h
    stdalign.h stdarg.h stdatomic.h stdbool.h stddef.h stdint.h stdio.h stdlib.h string.h tgmath.h time.h uchar.h
    wchar.h wctype.h alloca.h malloc.h memory.h strings.h unistd.h pthread.h sched.h dlfcn.h spawn.h netdb.h
    sys/time.h sys/types.h sys/mman.h sys/socket.h sys/ptrace.h sys/wait.h sys/resource.h netinet/in.h arpa/inet.h
    bits/stdc++.h immintrin.h x86intrin.h xmmintrin.h emmintrin.h omp.h
    cuda.h cuda_runtime.h cuda_runtime_api.h cudaTypedefs.h builtin_types.h channel_descriptor.h driver_types.h
    driver_functions.h device_types.h device_launch_parameters.h device_functions.h device_atomic_functions.h
    device_double_functions.h host_defines.h host_config.h library_types.h math_constants.h math_functions.h
    surface_types.h surface_functions.h surface_indirect_functions.h texture_types.h texture_fetch_functions.h
    texture_indirect_functions.h vector_types.h vector_functions.h vector_functions.hpp cuda_fp16.h cuda_fp16.hpp
    cuda_bf16.h cuda_bf16.hpp cuda_fp8.h cuda_fp8.hpp cuda_fp6.h cuda_fp4.h cuda_occupancy.h cuda_pipeline.h
    cuda_pipeline_primitives.h cuda_awbarrier.h cuda_awbarrier_primitives.h cuda_texture_types.h
    cuda_surface_types.h cuda_device_runtime_api.h cuda_profiler_api.h cudaProfiler.h cuComplex.h
    cooperative_groups.h mma.h crt/mma.h nvfunctional nvtx3/nvToolsExt.h nvToolsExt.h nvrtc.h
    cublas.h cublas_v2.h cublas_api.h cublasLt.h cublasXt.h cudnn.h cufft.h cufftXt.h curand.h curand_kernel.h
    curand_philox4x32_x.h curand_mtgp32_kernel.h cusparse.h cusparse_v2.h cusolverDn.h cusolverSp.h cusolver_common.h
    nccl.h cutensor.h
""".split())
# Header families of the toolkit, any file below them (the name must still be a plain relative path).
HEADER_FAMILIES = ("cooperative_groups/", "cuda/", "cub/", "thrust/", "cutlass/", "cute/", "nv/")
_HEADER_SHAPE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_+.-]*(?:/[A-Za-z0-9_][A-Za-z0-9_+.-]*)*")
# Directives that read a file other than an allowed header, or change where headers are found.
_FILE_DIRECTIVES = {"include_next": "includes a file by search path", "import": "includes a file",
                    "embed": "embeds a file", "include_alias": "aliases an include path"}
_PRAGMA_FILE_WORDS = re.compile(r"\b(include\w*|dependency|push_macro|pop_macro|embed\w*)\b")
_HAS_INCLUDE = re.compile(r"\b__has_(?:include|include_next|embed)\b")
_ASSEMBLER_FILE = re.compile(r"\.\s*(incbin|include)\b|incbin", re.IGNORECASE)
# A literal ending in the start of such a directive is meant to be completed by the next one (".inc" BIN).
_DIRECTIVE_START = re.compile(r"\.(i|in|inc|incb|incbi|incl|inclu|includ)\s*$", re.IGNORECASE)


def header_allowed(name: str) -> bool:
    """True for a standard C/C++ or CUDA toolkit header name: no path, no `..`, on the allowlist or in a family."""
    if not _HEADER_SHAPE.fullmatch(name) or ".." in name:
        return False
    return name in STANDARD_HEADERS or name.startswith(HEADER_FAMILIES)


def check_file_access(source: str) -> None:
    """Rejects every way of reading a file at compile time: an #include that is not `<allowed header>` (quoted,
    a path, or built by a macro), #include_next/#import/#embed, __has_include of a path, include pragmas, and the
    assembler's .incbin/.include (also spelled inside string literals). Raises StageFailure('static-check'); the
    message names the line and the directive, never a file's content."""
    rule = ("an answer may include only standard C/C++ and CUDA toolkit headers, by name in angle brackets "
            "(e.g. #include <cuda_runtime.h>); remove it")
    for line, name, operand in directives(source):
        if name == "include":
            header = operand[1:-1].strip() if operand.startswith("<") and operand.endswith(">") else None
            if header is None or not header_allowed(header):
                raise StageFailure("static-check", f"line {line}: `#include {_shown(operand)}` is not allowed: "
                                   + rule)
        elif name in _FILE_DIRECTIVES:
            raise StageFailure("static-check", f"line {line}: `#{name}` ({_FILE_DIRECTIVES[name]}) is not allowed "
                               "in an answer; " + rule)
        elif name == "pragma" and _PRAGMA_FILE_WORDS.search(operand):
            raise StageFailure("static-check", f"line {line}: `#pragma {_shown(operand)}` is not allowed in an "
                               "answer (include paths and pushed macros are the harness's business)")
    code = strip_comments(source)
    for match in _HAS_INCLUDE.finditer(code):
        asked = re.match(r"\s*\(\s*<([^<>()\n]*)>\s*\)", code[match.end():])
        if match.group() != "__has_include" or asked is None or not header_allowed(asked.group(1).strip()):
            raise StageFailure("static-check", f"line {line_of(code, match.start())}: `{match.group()}` may only "
                               "ask for a standard or CUDA header by name in angle brackets: " + rule)
    literals = string_literals(source)
    # Split across literals or macros (".inc" B), the assembler still sees the joined text: look at all of it too.
    joined = re.sub(r"\s+", "", "".join(text for _, text in literals))
    hit = (re.search(r"incbin", code, re.IGNORECASE)
           or next(((ln, t) for ln, t in literals if _ASSEMBLER_FILE.search(t) or _DIRECTIVE_START.search(t)),
                   None)
           or (_ASSEMBLER_FILE.search(joined) and (1, joined)))
    if hit:
        line = line_of(code, hit.start()) if isinstance(hit, re.Match) else hit[0]
        raise StageFailure("static-check", f"line {line}: an assembler file directive (.incbin/.include), which "
                           "reads a file at compile time, is not allowed in an answer")
    for match in re.finditer(r"\b_Pragma\s*\(", code):
        pragma_text = string_literals(code[match.end():])
        if pragma_text and _PRAGMA_FILE_WORDS.search(pragma_text[0][1]):
            raise StageFailure("static-check", f"line {line_of(code, match.start())}: `_Pragma` with an include "
                               "or macro-stack pragma is not allowed in an answer")


def reads_files_when_assembled(preprocessed: str) -> bool:
    """True when preprocessed code (no comments, macros expanded) hands the assembler .incbin or .include, in a
    literal or split over adjacent literals."""
    code = "\n".join(line for line in preprocessed.splitlines() if not line.startswith("#"))
    joined = decode_escapes(re.sub(r'"\s*"', "", code))
    return bool(_ASSEMBLER_FILE.search(joined))


def _shown(operand: str) -> str:
    # The answer's own text (never a file's), cut short and printable.
    text = "".join(c if c.isprintable() else "?" for c in operand)
    return text if len(text) <= 60 else text[:57] + "..."


def check_source(source: str, allowed_libraries: tuple[str, ...] = ()) -> None:
    """Rejects file access at compile time, forbidden calls and disallowed libraries in the source text.
    Raises StageFailure('static-check')."""
    check_file_access(source)
    code = strip_comments_and_strings(source)
    barred_includes = []
    for header in includes(source):
        header_name = header.strip()
        if header_name in FORBIDDEN_HEADERS:
            raise StageFailure("static-check", f"#include <{header_name}> is not allowed in an answer "
                               f"({FORBIDDEN_HEADERS[header_name]})")
        lib = _library_of_header(header_name)
        if lib and lib.name not in allowed_libraries:
            barred_includes.append((lib.name, header_name))
    names = identifiers(code)
    library_code = _without_includes(code)  # `#include <cub/cub.cuh>` names no use of cub
    library_names = identifiers(library_code)
    for name in sorted(names & TIMER_SYMBOLS.keys()):
        line = find_identifier(code, name)
        raise StageFailure("static-check", f"line {line}: `{name}` is part of {TIMER_SYMBOLS[name]}; an answer "
                           "may not call, define or replace it (the harness times solve itself)")
    for name in sorted(names & HOST_NODE_TYPES):
        raise StageFailure("static-check", f"line {find_identifier(code, name)}: `{name}` makes a graph node of host "
                           "code, which the CUDA driver runs on a thread of its own; not allowed in an answer")
    for qualified, why in FORBIDDEN_QUALIFIED.items():
        match = re.search(r"\b" + qualified.replace("::", r"\s*::\s*") + r"\b", code)
        if match:
            line = code.count("\n", 0, match.start()) + 1
            raise StageFailure("static-check", f"line {line}: `{qualified}` {why}; not allowed in an answer")
    for name in sorted(names & FORBIDDEN_CALLS.keys()):
        # `name(` as a call or a declaration; a variable merely named `open` or `remove` is fine.
        match = re.search(rf"(?<![\w.>]){re.escape(name)}\s*\(", code)
        if match:
            line = code.count("\n", 0, match.start()) + 1
            raise StageFailure("static-check", f"line {line}: call to `{name}` ({FORBIDDEN_CALLS[name]}) is not "
                               "allowed in an answer")
    for lib in LIBRARIES.values():
        if lib.name in allowed_libraries:
            continue
        for prefix in lib.identifier_prefixes:
            hit = next((n for n in sorted(library_names) if n == prefix or (n.startswith(prefix) and
                                                                             _library_identifier(n, prefix))), None)
            hit = hit or next((n for n in sorted(library_names) if n.startswith(lib.macro_prefixes)), None) \
                if lib.macro_prefixes else hit
            if hit:
                line = find_identifier(library_code, hit)
                raise StageFailure("static-check", _library_message(lib.name, f"line {line}: `{hit}`",
                                                                     allowed_libraries))
    if barred_includes and "##" in code:
        lib_name, header_name = barred_includes[0]
        line = code.count("\n", 0, code.index("##")) + 1
        raise StageFailure("static-check", f"line {line}: token pasting (##) in an answer that includes "
                           f"<{header_name}>: pasted names could use {lib_name}, which this task does not allow; "
                           "drop the include or the ##")


# nvcc's host stubs of __device__ functions call exit(): the import alone proves nothing (the source check
# and the sandbox catch a real exit()).
_IMPORTS_EXEMPT = {"exit"}


def check_imports(library_path: Path, allowed_libraries: tuple[str, ...] | None = None) -> None:
    """Rejects a compiled answer that imports a forbidden function or defines one of the harness's clocks and
    timers, however the source spelled it (macros, token pasting), or (given `allowed_libraries`) that calls into a
    linked library the task does not allow. Reported as a compile-stage failure: the build is what gets rejected."""
    imported = imported_symbols(library_path)
    for symbol in imported:
        why = FORBIDDEN_CALLS.get(symbol) or FORBIDDEN_IMPORTS.get(symbol) or TIMER_SYMBOLS.get(symbol)
        if why and symbol not in _IMPORTS_EXEMPT:
            raise StageFailure("compile", f"the compiled answer imports `{symbol}` ({why}), which is not allowed "
                               "in an answer")
    allowed = tuple(allowed_libraries or ())
    for lib in LIBRARIES.values() if allowed_libraries is not None else ():
        if lib.name in allowed or not lib.link:
            continue
        hit = next((s for s in imported for p in lib.identifier_prefixes if s.startswith(p)
                    and _library_identifier(s, p)), None)
        if hit:
            raise StageFailure("compile", f"the compiled answer calls `{hit}` of {lib.name}, which this task does "
                               f"not allow (allowed libraries: {', '.join(allowed) or 'none'}); write the "
                               "kernel yourself")
    for symbol in defined_symbols(library_path):
        if symbol in HARNESS_DEFINITIONS:
            raise StageFailure("compile", f"the compiled answer defines `{symbol}` ({HARNESS_DEFINITIONS[symbol]}):"
                               " an answer may not replace it; remove the definition")


def defined_symbols(library_path: Path) -> list[str]:
    """Names the library exports (its dynamic symbol table): what it could interpose."""
    return _dynamic_symbols(library_path, "--defined-only")


# Setting an access-policy window (or the persisting-L2 carve-out) lets data survive the harness's L2 flush.
L2_PERSISTENCE_SYMBOLS = ("cudaStreamSetAttribute", "cuStreamSetAttribute", "cudaDeviceSetLimit",
                          "cuCtxSetLimit", "cudaLaunchKernelExC", "cuLaunchKernelEx", "cudaGraphKernelNodeSetAttribute")


def l2_persistence_imports(library_path: Path) -> list[str]:
    """The calls through which the answer could set an access-policy window; the time stage records them (it
    resets persisting lines before each sample either way)."""
    return sorted(set(imported_symbols(library_path)) & set(L2_PERSISTENCE_SYMBOLS))


def imported_symbols(library_path: Path) -> list[str]:
    return _dynamic_symbols(library_path, "--undefined-only")


def needed_libraries(library_path: Path | str) -> list[str]:
    """The shared libraries an ELF64 little-endian library names as dependencies (DT_NEEDED), read from its
    .dynamic section; [] for a file that is not one."""
    data = Path(library_path).read_bytes()
    if data[:6] != b"\x7fELF\x02\x01":
        return []
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)

    def section(index: int) -> tuple[int, int, int, int]:  # type, offset, size, link
        at = shoff + index * shentsize
        kind, = struct.unpack_from("<I", data, at + 4)
        offset, size = struct.unpack_from("<QQ", data, at + 0x18)
        link, = struct.unpack_from("<I", data, at + 0x28)
        return kind, offset, size, link

    needed = []
    for index in range(shnum):
        kind, offset, size, link = section(index)
        if kind != 6:  # SHT_DYNAMIC
            continue
        strings = section(link)[1]
        for at in range(offset, offset + size, 16):
            tag, value = struct.unpack_from("<qQ", data, at)
            if tag == 0:  # DT_NULL
                break
            if tag == 1:  # DT_NEEDED
                end = data.index(b"\0", strings + value)
                needed.append(data[strings + value:end].decode())
    return needed


def _dynamic_symbols(library_path: Path, which: str) -> list[str]:
    """`nm -D <which>`: symbol names without their version suffix."""
    nm = shutil.which("nm")
    if nm is None:
        return []
    out = subprocess.run([nm, "-D", which, str(library_path)], capture_output=True, text=True, timeout=30)
    return [line.split()[-1].split("@")[0] for line in out.stdout.splitlines() if line.strip()]


def exports_solve(library_path: Path) -> bool:
    if shutil.which("nm") is None:
        return True
    return "solve" in defined_symbols(library_path)


def link_flags(allowed_libraries: tuple[str, ...]) -> list[str]:
    return [flag for name in allowed_libraries if name in LIBRARIES for flag in LIBRARIES[name].link]


def without_unused_library_includes(source: str) -> str:
    """`source` with each `#include` of a library header (CUB, Thrust, cuBLAS, ...) blanked when nothing else in the
    answer names that library: such an include does nothing (the static check judges use, not includes), and a
    runtime that cannot build the library's headers (the CPU runtime) can still run the answer. Line numbers stay."""
    code = strip_comments_and_strings(source)
    names = identifiers(_without_includes(code))
    unused = set()
    for header in includes(source):
        lib = _library_of_header(header.strip())
        if lib is None:
            continue
        used = any(n == p or (n.startswith(p) and _library_identifier(n, p)) for n in names
                   for p in lib.identifier_prefixes) or any(n.startswith(lib.macro_prefixes) for n in names
                                                            if lib.macro_prefixes)
        if not used:
            unused.add(header.strip())
    if not unused:
        return source
    pattern = re.compile(r"^[ \t]*#[ \t]*include[ \t]*<\s*([^<>\n]+?)\s*>[^\n]*$", re.MULTILINE)
    return pattern.sub(lambda m: "" if m.group(1) in unused else m.group(0), source)


def _without_includes(code: str) -> str:
    return re.sub(r"^[ \t]*(?:#|%:)[ \t]*include\b[^\n]*", "", code, flags=re.MULTILINE)


def _library_of_header(header: str) -> Library | None:
    for lib in LIBRARIES.values():
        if any(header.startswith(p) for p in lib.header_prefixes):
            return lib
    return None


def _library_identifier(name: str, prefix: str) -> bool:
    # cublasSgemm, cudnnCreate, curand_init, thrust / cub namespaces; not `cube` or `cutoff`.
    rest = name[len(prefix):]
    return bool(rest) and (rest[0].isupper() or rest[0] == "_") and prefix not in ("cub", "cute")


def _library_message(lib: str, where: str, allowed: tuple[str, ...]) -> str:
    permitted = ", ".join(allowed) if allowed else "none"
    return f"{where} uses {lib}, which this task does not allow (allowed libraries: {permitted}); write the kernel yourself"
