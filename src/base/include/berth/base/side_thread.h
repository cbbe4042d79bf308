// One short job on a thread of its own, beside a process that is otherwise
// single-threaded (the cgroup-move warm-up, runtime/cgroups).
//
// clone3_fork() joins it first. Unlike fork(), a raw clone does not take
// libc's locks around the copy, so a child cloned while the thread held one
// (malloc's, in the thread's exit, say) would wait for it forever. fork()
// children do not inherit the thread, nor the need to join it.
#pragma once

namespace berth {

// Runs `job(argument)` on a new thread; any earlier job is joined first.
// Returns false (and runs nothing) if no thread could be made.
bool run_on_side_thread(void (*job)(void*), void* argument);

// Asks the job to end (a job that loops checks side_thread_asked_to_stop),
// then waits for it; then the process is single-threaded again.
void join_side_thread();

// Asks without waiting: the job ends by itself soon after.
void ask_side_thread_to_stop();
bool side_thread_asked_to_stop();

} // namespace berth
