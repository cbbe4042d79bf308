#include "oci_runtime_cli.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/base/unix_socket.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace berth::engine {

namespace {

using nlohmann::json;

struct Spawned {
    pid_t pid = -1;
    UniqueFd pidfd;
};

// Forks and execs `argv`; fds 0-2 are this process's unless replaced.
Spawned spawn(const std::vector<std::string>& argv, int stdout_fd = -1, int stderr_fd = -1,
              int stdin_fd = -1) {
    std::vector<char*> args;
    for (const auto& arg : argv)
        args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    std::fflush(nullptr);
    pid_t child = ::fork();
    if (child < 0) throw_errno("starting " + argv[0]);
    if (child == 0) {
        if (stdin_fd >= 0) ::dup2(stdin_fd, STDIN_FILENO);
        if (stdout_fd >= 0) ::dup2(stdout_fd, STDOUT_FILENO);
        if (stderr_fd >= 0) ::dup2(stderr_fd, STDERR_FILENO);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execvp(args[0], args.data());
        std::string message = "berth: running " + argv[0] + ": " + std::strerror(errno) + "\n";
        (void)!::write(STDERR_FILENO, message.data(), message.size());
        ::_exit(127);
    }
    Spawned spawned;
    spawned.pid = child;
    spawned.pidfd.reset(pidfd_open(child));
    return spawned;
}

int wait_for(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) throw_errno("waiting for the OCI runtime");
    return status;
}

std::string last_line(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    auto newline = text.rfind('\n');
    return newline == std::string::npos ? text : text.substr(newline + 1);
}

// runc logs `level=error msg="..."` in text form; the message alone reads better.
std::string plain_message(const std::string& line) {
    auto start = line.find("msg=\"");
    if (start == std::string::npos) return line;
    start += 5;
    auto end = line.rfind('"');
    return end > start ? line.substr(start, end - start) : line;
}

oci::Status parse_status(const std::string& name) {
    if (name == "created") return oci::Status::created;
    if (name == "running") return oci::Status::running;
    if (name == "paused") return oci::Status::paused;
    if (name == "stopped") return oci::Status::stopped;
    return oci::Status::creating;
}

} // namespace

OciRuntimeCli::OciRuntimeCli(std::string program, std::string state_root)
    : program_(std::move(program)), state_root_(std::move(state_root)) {}

std::vector<std::string> OciRuntimeCli::command(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{program_, "--root", state_root_};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

std::string OciRuntimeCli::run(const std::vector<std::string>& args, const std::string& what) {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) < 0 || ::pipe2(err, O_CLOEXEC) < 0)
        throw_errno("creating pipes for " + program_);
    UniqueFd out_read(out[0]), out_write(out[1]), err_read(err[0]), err_write(err[1]);
    UniqueFd devnull = open_fd("/dev/null", O_RDONLY);
    Spawned child = spawn(command(args), out_write.get(), err_write.get(), devnull.get());
    out_write.reset();
    err_write.reset();
    std::string output, errors;
    bool out_open = true, err_open = true;
    char buffer[4096];
    while (out_open || err_open) {
        pollfd fds[2] = {{out_open ? out_read.get() : -1, POLLIN, 0},
                         {err_open ? err_read.get() : -1, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            throw_errno("reading from " + program_);
        }
        for (int i = 0; i < 2; ++i) {
            if (!fds[i].revents) continue;
            ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) {
                (i == 0 ? out_open : err_open) = false;
                continue;
            }
            (i == 0 ? output : errors).append(buffer, static_cast<std::size_t>(got));
        }
    }
    int status = wait_for(child.pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return output;
    std::string message = plain_message(last_line(errors));
    if (message.empty()) message = program_ + " " + args.front() + " failed";
    fail(what + ": " + message);
}

std::string OciRuntimeCli::logged_error(const std::string& log_path,
                                        const std::string& fallback) const {
    std::string text;
    try {
        text = read_file(log_path);
    } catch (const Error&) {
        return fallback;
    }
    // One JSON object a line; the last error is the one that ended it.
    std::string message;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        json entry = json::parse(line, nullptr, false);
        if (entry.is_object() && entry.value("level", "") == "error")
            message = entry.value("msg", "");
    }
    return message.empty() ? fallback : message;
}

UniqueFd OciRuntimeCli::create(const std::string& id, const std::string& bundle, bool tty,
                               const CreateHelp& help) {
    make_directories(state_root_, 0700);
    // Its stdio is the container's, so its errors are read from a log.
    std::string log_path = state_root_ + "/" + id + ".create.log";
    ::unlink(log_path.c_str());
    std::vector<std::string> args{"--log",  log_path,   "--log-format", "json",
                                  "create", "--bundle", bundle};
    UniqueFd listener;
    // In the run root, not the runtime's (longer) root: a socket address
    // holds 108 bytes, and the runtime dials the path as given.
    std::string socket_path = std::filesystem::path(state_root_).parent_path().parent_path() /
                              ("tty-" + id.substr(0, 16));
    if (tty) {
        listener = listen_unix(socket_path, "listening for the container's terminal");
        args.push_back("--console-socket");
        args.push_back(socket_path);
    }
    args.push_back(id);
    std::vector<std::string> argv{program_, "--root", state_root_};
    argv.insert(argv.end(), args.begin(), args.end());
    Spawned child = spawn(argv);
    UniqueFd console;
    if (tty) {
        // Until the runtime hands the pty over, or exits without doing so.
        for (;;) {
            pollfd fds[2] = {{listener.get(), POLLIN, 0}, {child.pidfd.get(), POLLIN, 0}};
            if (::poll(fds, 2, -1) < 0) {
                if (errno == EINTR) continue;
                throw_errno("waiting for the container's terminal");
            }
            if (fds[0].revents) {
                UniqueFd connection(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
                // A runtime that fails connects and closes: its exit says why.
                try {
                    if (connection)
                        console =
                            receive_fd(connection.get(), "receiving the container's terminal");
                } catch (const Error&) {
                }
                break;
            }
            if (fds[1].revents) break;
        }
        listener.reset();
        ::unlink(socket_path.c_str());
    }
    int status = wait_for(child.pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::string message = logged_error(log_path, program_ + " create failed");
        ::unlink(log_path.c_str());
        fail(message);
    }
    ::unlink(log_path.c_str());
    if (tty && !console) fail(program_ + " create sent no terminal for the container");
    // The runtime is done with the init: the work that could have overlapped it follows.
    if (help.while_init_mounts) help.while_init_mounts(state(id).pid);
    return console;
}

void OciRuntimeCli::start(const std::string& id) {
    run({"start", id}, "starting container " + id);
}

oci::State OciRuntimeCli::state(const std::string& id) {
    json document = json::parse(run({"state", id}, "container " + id), nullptr, false);
    if (!document.is_object()) fail("container " + id + ": " + program_ + " state: not JSON");
    oci::State state;
    state.oci_version = document.value("ociVersion", "");
    state.id = document.value("id", id);
    state.status = parse_status(document.value("status", ""));
    state.pid = document.value("pid", 0);
    state.bundle = document.value("bundle", "");
    state.rootfs = document.value("rootfs", "");
    state.created = document.value("created", "");
    return state;
}

void OciRuntimeCli::kill(const std::string& id, int signal) {
    run({"kill", id, std::to_string(signal)}, "signalling container " + id);
}

void OciRuntimeCli::remove(const std::string& id, bool force) {
    // Both runc and crun keep a container's state in <root>/<id>: without
    // it there is nothing to delete, and no process to start for that.
    if (!path_exists(state_root_ + "/" + id)) return;
    std::vector<std::string> args{"delete"};
    if (force) args.push_back("--force");
    args.push_back(id);
    run(args, "deleting container " + id);
}

void OciRuntimeCli::pause(const std::string& id) {
    run({"pause", id}, "pausing container " + id);
}

void OciRuntimeCli::resume(const std::string& id) {
    run({"resume", id}, "resuming container " + id);
}

namespace {

// The container's process with `options` applied, for `exec --process`:
// runc's --additional-gids adds to the container's groups, and an engine's
// `exec -u` replaces them.
std::string whole_process(const runtime::ExecOptions& options, const std::string& bundle) {
    json config = json::parse(read_file(bundle + "/config.json"));
    json process = config.value("process", json::object());
    process["args"] = options.args;
    process["terminal"] = options.tty;
    process.erase("consoleSize");
    json env = process.value("env", json::array());
    for (const auto& entry : options.env) {
        std::string key = entry.substr(0, entry.find('='));
        auto same = std::find_if(env.begin(), env.end(), [&](const json& existing) {
            std::string text = existing.get<std::string>();
            return text.substr(0, text.find('=')) == key;
        });
        if (same != env.end())
            *same = entry;
        else
            env.push_back(entry);
    }
    process["env"] = env;
    if (options.cwd) process["cwd"] = *options.cwd;
    if (options.user) {
        const std::string& user = *options.user;
        auto colon = user.find(':');
        process["user"]["uid"] = std::stoul(user.substr(0, colon));
        process["user"]["gid"] =
            colon == std::string::npos ? 0 : std::stoul(user.substr(colon + 1));
    }
    process["user"]["additionalGids"] = options.additional_gids;
    return process.dump();
}

// Removes the --process file however exec ends.
struct RemovedAtExit {
    std::string path;
    ~RemovedAtExit() {
        if (!path.empty()) ::unlink(path.c_str());
    }
};

} // namespace

int OciRuntimeCli::exec(const runtime::ExecOptions& options) {
    std::vector<std::string> argv = command({"exec"});
    if (options.tty) argv.push_back("--tty");
    if (options.detach) argv.push_back("--detach");
    if (!options.console_socket.empty())
        argv.push_back("--console-socket=" + options.console_socket);
    RemovedAtExit process_file;
    if (options.replace_additional_gids) {
        process_file.path =
            state_root_ + "/" + options.id + ".exec-" + std::to_string(::getpid()) + ".json";
        write_file_atomic(process_file.path, whole_process(options, state(options.id).bundle),
                          0600);
        argv.push_back("--process=" + process_file.path);
        argv.push_back(options.id);
    } else {
        if (options.cwd) argv.push_back("--cwd=" + *options.cwd);
        for (const auto& variable : options.env)
            argv.push_back("--env=" + variable);
        if (options.user) argv.push_back("--user=" + *options.user);
        // runc's flag (crun has none: a clear error from it rather than a silent drop).
        for (unsigned gid : options.additional_gids)
            argv.push_back("--additional-gids=" + std::to_string(gid));
        argv.push_back(options.id);
        argv.insert(argv.end(), options.args.begin(), options.args.end());
    }
    // The process's stdio is ours; so are the runtime's messages. The
    // runtime forwards the terminal's signals to the process; this one
    // ignores them meanwhile (after the fork: the runtime must not).
    Spawned child = spawn(argv);
    struct sigaction ignore {
    }, saved[4];
    ignore.sa_handler = SIG_IGN;
    const int forwarded[4] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    for (int i = 0; i < 4; ++i)
        ::sigaction(forwarded[i], &ignore, &saved[i]);
    int status = wait_for(child.pid);
    for (int i = 0; i < 4; ++i)
        ::sigaction(forwarded[i], &saved[i], nullptr);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

std::vector<pid_t> OciRuntimeCli::processes(const std::string& id) {
    json pids =
        json::parse(run({"ps", "--format", "json", id}, "listing container " + id), nullptr, false);
    std::vector<pid_t> result;
    if (pids.is_array())
        for (const auto& pid : pids)
            if (pid.is_number_integer()) result.push_back(pid.get<pid_t>());
    return result;
}

std::string OciRuntimeCli::stats(const std::string& id) {
    return last_line(run({"events", "--stats", id}, "reading the statistics of container " + id));
}

} // namespace berth::engine
