// task: basics/vector_add   expect: line 5: `#include "\.\./\.\./\.\./task_suite/basics/vector_add/solution\.cu"` is not allowed
// Cheat 15: compiles the task's own solution under another name and calls it; the compile dir used to sit inside
// the project's cache, three levels below the suite.
#define solve solve_ref
#include "../../../task_suite/basics/vector_add/solution.cu"
#undef solve
extern "C" void solve(const float* a, const float* b, float* c, int n) { solve_ref(a, b, c, n); }
