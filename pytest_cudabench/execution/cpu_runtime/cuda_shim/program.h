// cuda_shim/program.h -- whole programs built as a library (build_cpu_program(as_library=True)).
// A part of the CPU runtime: only cuda_shim.h includes it, after the parts before it, which it uses.
#pragma once
#ifndef CUDABENCH_CUDA_SHIM_H
#error "include cuda_shim.h, not its parts"
#endif

// The rewrite renames the program's main to cudabench_user_main_ and exports cudabench_program_main, which calls it
// with whichever of the standard signatures it has.
extern "C" char** environ;
namespace cudabench {
static inline int call_program_main(int (*m)(), int, char**) { return m(); }
static inline int call_program_main(int (*m)(int, char**), int argc, char** argv) { return m(argc, argv); }
static inline int call_program_main(int (*m)(int, const char**), int argc, char** argv) { return m(argc, (const char**)argv); }
static inline int call_program_main(int (*m)(int, char**, char**), int argc, char** argv) { return m(argc, argv, environ); }
}  // namespace cudabench
