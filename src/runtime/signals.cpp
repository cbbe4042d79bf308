#include "berth/base/error.h"
#include "berth/runtime/runtime.h"

#include <csignal>
#include <cstring>

namespace berth::runtime {

namespace {

struct SignalName {
    const char* name;
    int number;
};

constexpr SignalName signal_names[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"POLL", SIGPOLL},     {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

} // namespace

int parse_signal(const std::string& text) {
    if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0]))) {
        std::size_t used = 0;
        int number = -1;
        try {
            number = std::stoi(text, &used);
        } catch (...) {
        }
        if (used == text.size() && number > 0 && number <= SIGRTMAX) return number;
        fail("invalid signal \"" + text + "\"");
    }
    std::string name = text;
    for (char& c : name)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (name.rfind("SIG", 0) == 0) name = name.substr(3);
    for (const auto& entry : signal_names)
        if (name == entry.name) return entry.number;
    if (name.rfind("RTMIN", 0) == 0 || name.rfind("RTMAX", 0) == 0) {
        int base = name[2] == 'M' && name[3] == 'I' ? SIGRTMIN : SIGRTMAX;
        if (name.size() == 5) return base;
        try {
            int offset = std::stoi(name.substr(5));
            int number = base + offset;
            if (number >= SIGRTMIN && number <= SIGRTMAX) return number;
        } catch (...) {
        }
    }
    fail("unknown signal \"" + text + "\"");
}

} // namespace berth::runtime
