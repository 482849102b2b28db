#include "ptft/nn/skip_init.h"

namespace ptft::nn {
namespace {
thread_local bool g_skip_init = false;
}  // namespace

SkipInit::SkipInit() : previous_(g_skip_init) { g_skip_init = true; }
SkipInit::~SkipInit() { g_skip_init = previous_; }
bool SkipInit::active() { return g_skip_init; }

}  // namespace ptft::nn
