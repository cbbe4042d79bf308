#include "monitor_handoff.h"

#include "berth/base/error.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace berth::engine {

namespace {

long number_of(const std::string& word, const std::string& value) {
    char* end = nullptr;
    errno = 0;
    long number = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || errno != 0) fail("berth-monitor: bad number in " + word);
    return number;
}

// Bytes as hex digits, so that any of them pass through argv.
std::string to_hex(const std::string& bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(bytes.size() * 2);
    for (unsigned char byte : bytes) {
        hex += digits[byte >> 4];
        hex += digits[byte & 15];
    }
    return hex;
}

std::string from_hex(const std::string& word, const std::string& hex) {
    auto value = [&](char digit) {
        if (digit >= '0' && digit <= '9') return digit - '0';
        if (digit >= 'a' && digit <= 'f') return digit - 'a' + 10;
        fail("berth-monitor: bad hex digit in " + word);
    };
    if (hex.size() % 2) fail("berth-monitor: odd hex length in " + word);
    std::string bytes;
    bytes.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2)
        bytes += static_cast<char>(value(hex[i]) * 16 + value(hex[i + 1]));
    return bytes;
}

} // namespace

bool word_value(const std::string& word, const char* name, std::string& value) {
    std::size_t length = std::strlen(name);
    if (word.size() < length + 3 || word.compare(0, 2, "--") != 0 ||
        word.compare(2, length, name) != 0 || word[length + 2] != '=')
        return false;
    value = word.substr(length + 3);
    return true;
}

std::vector<std::string> encode_relay_plan(const RelayPlan& plan) {
    std::vector<std::string> words;
    auto add = [&](const char* name, const std::string& value) {
        words.push_back(std::string("--") + name + "=" + value);
    };
    add("init-pid", std::to_string(plan.init_pid));
    add("stdout", std::to_string(plan.stdout_read));
    add("stderr", std::to_string(plan.stderr_read));
    add("console", std::to_string(plan.console));
    add("stdin", std::to_string(plan.stdin_write));
    if (plan.console_input) words.push_back("--console-input");
    add("control", std::to_string(plan.control));
    add("attach-listener", std::to_string(plan.attach_listener));
    for (int fd : plan.held_fds)
        add("hold", std::to_string(fd));
    if (!plan.log_path.empty()) {
        add("log", plan.log_path);
        add("log-max-size", std::to_string(plan.log_rotation.max_size));
        add("log-max-files", std::to_string(plan.log_rotation.max_files));
    }
    if (plan.ran_before_ms) add("ran-before-ms", std::to_string(plan.ran_before_ms));
    if (!plan.unfinished_stdout.empty()) add("unfinished-stdout", to_hex(plan.unfinished_stdout));
    if (!plan.unfinished_stderr.empty()) add("unfinished-stderr", to_hex(plan.unfinished_stderr));
    if (!plan.periodic_command.empty()) {
        add("every-ms", std::to_string(plan.periodic_interval_ms));
        for (const auto& word : plan.periodic_command)
            add("periodic", word);
    }
    words.push_back("--");
    words.insert(words.end(), plan.exit_command.begin(), plan.exit_command.end());
    return words;
}

RelayPlan decode_relay_plan(const std::vector<std::string>& args) {
    RelayPlan plan;
    std::size_t i = 0;
    for (; i < args.size() && args[i] != "--"; ++i) {
        const std::string& word = args[i];
        std::string value;
        auto fd = [&] { return static_cast<int>(number_of(word, value)); };
        if (word == "--console-input")
            plan.console_input = true;
        else if (word_value(word, "init-pid", value))
            plan.init_pid = static_cast<pid_t>(number_of(word, value));
        else if (word_value(word, "stdout", value))
            plan.stdout_read = fd();
        else if (word_value(word, "stderr", value))
            plan.stderr_read = fd();
        else if (word_value(word, "console", value))
            plan.console = fd();
        else if (word_value(word, "stdin", value))
            plan.stdin_write = fd();
        else if (word_value(word, "control", value))
            plan.control = fd();
        else if (word_value(word, "attach-listener", value))
            plan.attach_listener = fd();
        else if (word_value(word, "hold", value))
            plan.held_fds.push_back(fd());
        else if (word_value(word, "log", value))
            plan.log_path = value;
        else if (word_value(word, "log-max-size", value))
            plan.log_rotation.max_size = static_cast<std::uint64_t>(number_of(word, value));
        else if (word_value(word, "log-max-files", value))
            plan.log_rotation.max_files = static_cast<unsigned>(number_of(word, value));
        else if (word_value(word, "ran-before-ms", value))
            plan.ran_before_ms = number_of(word, value);
        else if (word_value(word, "unfinished-stdout", value))
            plan.unfinished_stdout = from_hex(word, value);
        else if (word_value(word, "unfinished-stderr", value))
            plan.unfinished_stderr = from_hex(word, value);
        else if (word_value(word, "every-ms", value))
            plan.periodic_interval_ms = static_cast<int>(number_of(word, value));
        else if (word_value(word, "periodic", value))
            plan.periodic_command.push_back(value);
        else
            fail("berth-monitor: unknown argument " + word);
    }
    if (i < args.size())
        plan.exit_command.assign(args.begin() + static_cast<long>(i) + 1, args.end());
    if (plan.init_pid <= 0) fail("berth-monitor: no --init-pid");
    if (plan.exit_command.empty()) fail("berth-monitor: no exit command after --");
    if (!plan.periodic_command.empty() && plan.periodic_interval_ms <= 0)
        fail("berth-monitor: --periodic needs --every-ms");
    return plan;
}

RelayOutcome take_relay_outcome(std::vector<std::string>& args) {
    RelayOutcome outcome;
    std::vector<std::string> rest;
    for (const auto& word : args) {
        std::string value;
        if (word_value(word, "status", value))
            outcome.wait_status = static_cast<int>(number_of(word, value));
        else if (word_value(word, "ran-ms", value))
            outcome.ran_ms = number_of(word, value);
        else if (word_value(word, "control", value))
            outcome.control = static_cast<int>(number_of(word, value));
        else
            rest.push_back(word);
    }
    args = std::move(rest);
    return outcome;
}

void exec_words(const std::vector<std::string>& words) {
    std::vector<char*> argv;
    for (const auto& word : words)
        argv.push_back(const_cast<char*>(word.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
}

void keep_across_exec(int fd) {
    if (fd < 0) return;
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
}

} // namespace berth::engine
