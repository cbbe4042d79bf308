// Stages that do not depend on each other build at the same time, each in a
// worker process of its own. Processes, not threads: the engine forks a
// container's monitor from the process that starts it, and a fork must not
// copy an SQLite connection or a lock another thread holds. So the builder
// closes berth.db before it forks a worker; the worker opens its own (and
// an engine of its own), builds its stage, commits it, and reports the
// image's digest on a pipe. A stage alone (nothing else ready, nothing
// running) builds in this process, as before: a build with no parallel
// stages forks nothing.
#include "berth/base/error.h"
#include "berth/base/syscalls.h"
#include "builder_internal.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <iostream>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace berth::build::detail {

namespace {

// What the pipe holds now. Its end of file cannot be waited for: a daemon
// the worker forked (a network's resolver) may hold the write end for long.
void drain(Worker& worker) {
    char buffer[4096];
    for (;;) {
        ssize_t got = ::read(worker.report.get(), buffer, sizeof buffer);
        if (got > 0) {
            worker.text.append(buffer, static_cast<std::size_t>(got));
            continue;
        }
        if (got < 0 && errno == EINTR) continue;
        return;
    }
}

void write_report(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t written = ::write(fd, text.data() + done, text.size() - done);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return;
        done += static_cast<std::size_t>(written);
    }
}

} // namespace

void Builder::stage_worker(int index, int fd) {
    nlohmann::json report;
    int status = 0;
    try {
        // This process's own engine and store: nothing of the parent's
        // connections is used here (they may be mid-transaction there).
        worker_engine_ = std::make_unique<engine::Engine>(engine_->options());
        engine_ = worker_engine_.get();
        const Stage& stage = stages_[index];
        say_prefix_ = "[" + (stage.name.empty() ? std::to_string(index) : stage.name) + "] ";
        StageState state = build_stage(stage);
        image::Image image = commit(state);
        report["manifest"] = image.manifest_digest.str();
        report["cache_key"] = state.cache_key.str();
        report["consumed"] = consumed_args_;
    } catch (const RunStepFailed& error) {
        report = {{"error", error.what()}, {"exit_code", error.exit_code()}};
    } catch (const Error& error) {
        report = {{"error", error.what()}, {"errno", error.errno_value()}};
    } catch (const std::exception& error) {
        report = {{"error", error.what()}};
    }
    store_access().close();
    write_report(fd, report.dump());
    std::cout.flush();
    std::fflush(nullptr);
    ::_exit(status);
}

StageState Builder::adopt_worker_result(const std::string& text, int index) {
    nlohmann::json report = nlohmann::json::parse(text, nullptr, false);
    std::string stage = stages_[index].name.empty() ? std::to_string(index) : stages_[index].name;
    if (report.is_discarded() || !report.is_object())
        fail("the worker building stage " + stage + " ended without a result");
    if (report.contains("error")) {
        std::string message = report["error"].get<std::string>();
        if (report.contains("exit_code"))
            throw RunStepFailed(message, report["exit_code"].get<int>());
        throw Error(message, report.value("errno", 0));
    }
    for (const auto& name : report["consumed"])
        consumed_args_.insert(name.get<std::string>());
    auto image = store().find(report["manifest"].get<std::string>());
    if (!image) fail("stage " + stage + ": its image is not in the store");
    StageState state;
    adopt(state, *image);
    state.cache_key = oci::Digest::parse(report["cache_key"].get<std::string>());
    return state;
}

void Builder::start_worker(int index, std::map<pid_t, Worker>& running) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) throw_errno("creating a pipe for a stage worker");
    UniqueFd read_end(fds[0]), write_end(fds[1]);
    // Nothing buffered or open crosses the fork.
    store_access().close();
    std::cout.flush();
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) throw_errno("forking a stage worker");
    if (pid == 0) {
        read_end.reset();
        for (auto& [other, worker] : running) {
            worker.report.reset();
            worker.pidfd.reset();
        }
        stage_worker(index, write_end.get());
    }
    ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
    UniqueFd pidfd(pidfd_open(pid));
    if (!pidfd) {
        int saved = errno;
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
        errno = saved;
        throw_errno("opening a pidfd for a stage worker");
    }
    running.emplace(pid, Worker{index, std::move(read_end), std::move(pidfd), {}});
}

void Builder::build_stages(const std::set<int>& needed) {
    std::map<int, std::set<int>> uses;
    for (int index : needed)
        uses[index] = dependencies(index);
    std::set<int> pending = needed;
    std::map<pid_t, Worker> running;
    std::optional<std::exception_ptr> failure;
    auto ready = [&] {
        std::vector<int> found;
        for (int index : pending)
            if (std::all_of(uses[index].begin(), uses[index].end(),
                            [&](int used) { return built_.contains(used); }))
                found.push_back(index);
        return found;
    };
    while (!pending.empty() || !running.empty()) {
        std::vector<int> now = failure ? std::vector<int>{} : ready();
        if (now.size() == 1 && running.empty()) {
            pending.erase(now[0]);
            built_[now[0]] = build_stage(stages_[now[0]]);
            continue;
        }
        for (int index : now) {
            // A worker that cannot be started fails the build, once those
            // already running are done.
            try {
                start_worker(index, running);
            } catch (...) {
                failure = std::current_exception();
                break;
            }
            pending.erase(index);
        }
        if (running.empty()) {
            if (failure) break;
            fail("stages depend on each other in a cycle"); // cannot happen: FROM looks back only
        }
        // Reports are read as they come (a pipe can fill); a worker is done
        // when its pidfd says it has exited.
        std::vector<pollfd> polled;
        for (auto& [pid, worker] : running) {
            polled.push_back({worker.report.get(), POLLIN, 0});
            polled.push_back({worker.pidfd.get(), POLLIN, 0});
        }
        if (::poll(polled.data(), polled.size(), -1) < 0 && errno != EINTR)
            throw_errno("waiting for the stage workers");
        for (auto it = running.begin(); it != running.end();) {
            Worker& worker = it->second;
            drain(worker);
            pollfd exited{worker.pidfd.get(), POLLIN, 0};
            if (::poll(&exited, 1, 0) <= 0) {
                ++it;
                continue;
            }
            int status = 0;
            while (::waitpid(it->first, &status, 0) < 0 && errno == EINTR) {
            }
            drain(worker);
            try {
                if (!failure) built_[worker.stage] = adopt_worker_result(worker.text, worker.stage);
            } catch (...) {
                failure = std::current_exception();
            }
            it = running.erase(it);
        }
    }
    if (failure) std::rethrow_exception(*failure);
}

} // namespace berth::build::detail
