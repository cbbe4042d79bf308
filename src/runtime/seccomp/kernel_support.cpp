#include "kernel_support.h"

#include <cerrno>
#include <sys/syscall.h>
#include <unistd.h>

namespace berth::runtime::seccomp {

long seccomp_syscall(unsigned int operation, unsigned int flags, void* args) {
    return ::syscall(SYS_seccomp, operation, flags, args);
}

// The kernel checks a filter's flags before it reads the program, so a call
// without a program answers EFAULT for flags it supports and EINVAL for the
// others, and loads nothing.
int kernel_refusal(unsigned int flags) {
    if (seccomp_syscall(SECCOMP_SET_MODE_FILTER, flags, nullptr) == 0) return 0;
    return errno == EFAULT ? 0 : errno;
}

} // namespace berth::runtime::seccomp
