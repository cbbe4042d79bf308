// How long default.json takes on the container start path: compile() at
// create, load() in the init. Each load runs in a fresh child, since filters
// stack and cannot be removed. Prints medians in microseconds.
#include "berth/base/files.h"
#include "berth/runtime/seccomp.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

double microseconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
        .count();
}

// CPU time of this thread: the machine may be busy with other work.
double thread_cpu_microseconds() {
    timespec now;
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) * 1e6 + static_cast<double>(now.tv_nsec) / 1e3;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

} // namespace

int main(int argc, char** argv) try {
    const char* path = argc > 1 ? argv[1] : BERTH_SECCOMP_DEFAULT_PROFILE;
    int rounds = argc > 2 ? std::atoi(argv[2]) : 100;
    std::string text = berth::read_file(path);
    std::vector<double> parse_times, compile_times, compile_cpu_times, cached_times, load_times;
    char cache_template[] = "/tmp/berth-seccomp-timing-XXXXXX";
    std::string cache = std::string(::mkdtemp(cache_template)) + "/cache";
    std::size_t instructions = 0;
    for (int i = 0; i < rounds; ++i) {
        auto start = std::chrono::steady_clock::now();
        nlohmann::json seccomp = nlohmann::json::parse(text);
        parse_times.push_back(microseconds_since(start));
        start = std::chrono::steady_clock::now();
        double cpu_start = thread_cpu_microseconds();
        auto filter = berth::runtime::seccomp::Filter::compile(seccomp);
        compile_cpu_times.push_back(thread_cpu_microseconds() - cpu_start);
        compile_times.push_back(microseconds_since(start));
        instructions = filter.instruction_count();
        start = std::chrono::steady_clock::now();
        berth::runtime::seccomp::Filter::compile(seccomp, cache); // the first one fills it
        cached_times.push_back(microseconds_since(start));

        int pipe_fds[2];
        if (::pipe(pipe_fds) < 0) return 1;
        pid_t child = ::fork();
        if (child == 0) {
            ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            auto load_start = std::chrono::steady_clock::now();
            filter.load();
            double took = microseconds_since(load_start);
            ssize_t ignored = ::write(pipe_fds[1], &took, sizeof took);
            ::_exit(ignored == sizeof took ? 0 : 1);
        }
        double took = 0;
        if (::read(pipe_fds[0], &took, sizeof took) != sizeof took) return 1;
        ::close(pipe_fds[0]);
        ::close(pipe_fds[1]);
        ::waitpid(child, nullptr, 0);
        load_times.push_back(took);
    }
    std::vector<double> totals;
    totals.reserve(static_cast<std::size_t>(rounds));
    for (int i = 0; i < rounds; ++i)
        totals.push_back(compile_times[i] + load_times[i]);
    std::printf("%s: %zu BPF instructions, median of %d rounds (us): json parse %.0f, "
                "compile %.0f (cpu %.0f), load %.0f, compile+load %.0f, compile from cache %.0f\n",
                path, instructions, rounds, median(parse_times), median(compile_times),
                median(compile_cpu_times), median(load_times), median(totals),
                median(cached_times));
    berth::remove_tree(cache.substr(0, cache.size() - 6));
    return 0;
} catch (const std::exception& error) {
    std::fprintf(stderr, "seccomp_timing: %s\n", error.what());
    return 1;
}
