// What the running kernel accepts, asked without loading anything.
#pragma once

#include <linux/seccomp.h>

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

namespace berth::runtime::seccomp {

long seccomp_syscall(unsigned int operation, unsigned int flags, void* args);

// 0 when this kernel would load a filter with `flags`, else the errno it gives.
int kernel_refusal(unsigned int flags);

} // namespace berth::runtime::seccomp
