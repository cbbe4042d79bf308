#include "berth/base/side_thread.h"

#include <atomic>
#include <mutex>
#include <pthread.h>

namespace berth {

namespace {

struct SideThread {
    pthread_t thread{};
    bool running = false;
    std::atomic<bool> stop{false};
};

SideThread& side_thread() {
    static SideThread state;
    return state;
}

struct Job {
    void (*run)(void*);
    void* argument;
};

void* run_job(void* job) {
    Job copy = *static_cast<Job*>(job);
    delete static_cast<Job*>(job);
    copy.run(copy.argument);
    return nullptr;
}

} // namespace

bool run_on_side_thread(void (*job)(void*), void* argument) {
    static std::once_flag registered;
    // A fork() child has no such thread: nothing for it to join.
    std::call_once(registered, [] {
        ::pthread_atfork(nullptr, nullptr, [] { side_thread().running = false; });
    });
    join_side_thread();
    side_thread().stop = false;
    auto* task = new Job{job, argument};
    if (::pthread_create(&side_thread().thread, nullptr, run_job, task) != 0) {
        delete task;
        return false;
    }
    side_thread().running = true;
    return true;
}

void join_side_thread() {
    SideThread& state = side_thread();
    if (!state.running) return;
    state.stop = true;
    ::pthread_join(state.thread, nullptr);
    state.running = false;
}

void ask_side_thread_to_stop() {
    side_thread().stop = true;
}

bool side_thread_asked_to_stop() {
    return side_thread().stop;
}

} // namespace berth
