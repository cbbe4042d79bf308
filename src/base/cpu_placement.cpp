#include "berth/base/cpu_placement.h"

#include <sched.h>

namespace berth {

void start_on_another_cpu(pid_t child) {
    cpu_set_t allowed;
    if (::sched_getaffinity(child, sizeof allowed, &allowed) != 0) return;
    int here = ::sched_getcpu();
    if (here < 0 || here >= CPU_SETSIZE) return;
    cpu_set_t elsewhere = allowed;
    CPU_CLR(here, &elsewhere);
    if (CPU_COUNT(&elsewhere) == 0) return;
    // Narrowing the set moves a queued task at once (and wakes the CPU it
    // goes to); widening it again leaves it where it now is. Both calls are
    // ours, so nothing the child does can come between them.
    if (::sched_setaffinity(child, sizeof elsewhere, &elsewhere) != 0) return;
    ::sched_setaffinity(child, sizeof allowed, &allowed);
}

} // namespace berth
