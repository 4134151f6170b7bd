// task: basics/vector_add   expect: call to `exit`
#include <cstdlib>
extern "C" void solve(const float* a, const float* b, float* c, int n) {
    exit(0);
}
