#include "profile.h"

#include "berth/base/error.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cerrno>
#include <linux/seccomp.h>

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

namespace berth::runtime::seccomp {

namespace {

constexpr const char* root_field = "linux.seccomp";

// One JSON value and the path that names it in messages.
class Field {
  public:
    Field(const nlohmann::json& value, std::string path) : value_(value), path_(std::move(path)) {}

    const std::string& path() const { return path_; }

    [[noreturn]] void reject(const std::string& why) const { fail(path_ + ": " + why); }

    void expect_object() const {
        if (!value_.is_object()) reject("expected an object");
    }
    bool has(const char* key) const {
        auto found = value_.find(key);
        return found != value_.end() && !found->is_null();
    }
    Field at(const char* key) const {
        expect_object();
        auto found = value_.find(key);
        if (found == value_.end() || found->is_null()) fail(path_ + "." + key + ": required");
        return Field(*found, path_ + "." + key);
    }
    std::size_t array_size() const {
        if (!value_.is_array()) reject("expected an array");
        return value_.size();
    }
    Field item(std::size_t index) const {
        return Field(value_[index], path_ + "[" + std::to_string(index) + "]");
    }
    std::string text() const {
        if (!value_.is_string()) reject("expected a string");
        return value_.get<std::string>();
    }
    std::uint64_t number(std::uint64_t max) const {
        if (value_.is_number_unsigned() && value_.get<std::uint64_t>() <= max)
            return value_.get<std::uint64_t>();
        if (value_.is_number_integer() && value_.get<std::int64_t>() >= 0 &&
            static_cast<std::uint64_t>(value_.get<std::int64_t>()) <= max)
            return static_cast<std::uint64_t>(value_.get<std::int64_t>());
        reject("expected a whole number from 0 to " + std::to_string(max));
    }

  private:
    const nlohmann::json& value_;
    std::string path_;
};

struct ActionName {
    const char* name;
    std::uint32_t action;
    // ERRNO returns the errno; TRACE hands the value to the tracer as the
    // event message. No other action has anywhere to put one.
    std::uint32_t data_limit;
};

// The kernel caps SECCOMP_RET_ERRNO data at MAX_ERRNO (4095), so a larger
// errnoRet would silently become another; libseccomp refuses 4095 itself.
constexpr std::uint32_t max_errno = 4094;
constexpr std::uint32_t no_data = 0;

constexpr ActionName action_names[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, no_data},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, no_data},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, no_data},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, no_data},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), max_errno},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), 0xffff},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, no_data},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, no_data},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, no_data},
};

struct FlagName {
    const char* name;
    unsigned int flag;
};

constexpr FlagName flag_names[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

struct OperatorName {
    const char* name;
    scmp_compare op;
};

constexpr OperatorName operator_names[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

// The runtime spec's list, as of libseccomp 2.6.
constexpr const char* spec_architectures[] = {
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",     "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",    "SCMP_ARCH_SH",       "SCMP_ARCH_SHEB",
};

// libseccomp's name for an architecture is ours without the prefix, in lower
// case. 0 when the libseccomp linked in does not know it.
std::uint32_t architecture_token(std::string_view name) {
    constexpr std::string_view prefix = "SCMP_ARCH_";
    std::string libseccomp_name;
    for (char c : name.substr(prefix.size()))
        libseccomp_name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return seccomp_arch_resolve_name(libseccomp_name.c_str());
}

// Syscalls that may not notify. Between loading the filter and exec, the fd
// of the notify listener has to leave the container's process (over a socket
// to the runtime, or straight to the agent); if those very calls waited for
// the agent, which cannot have the fd yet, the container would hang forever.
// runc refuses `write` for the same reason.
constexpr const char* syscalls_needed_to_pass_the_listener[] = {"write", "sendmsg", "socket",
                                                                "connect"};

const ActionName& find_action(const Field& field) {
    std::string name = field.text();
    for (const auto& known : action_names)
        if (name == known.name) return known;
    field.reject("unknown action \"" + name + "\"");
}

// action + errnoRet (or defaultErrnoRet) → one SCMP_ACT_* value.
std::uint32_t read_action(const Field& owner, const char* action_key, const char* errno_key) {
    Field action_field = owner.at(action_key);
    const ActionName& action = find_action(action_field);
    if (!owner.has(errno_key))
        return action.data_limit == no_data ? action.action : action.action | EPERM;
    Field errno_field = owner.at(errno_key);
    if (action.data_limit == no_data)
        errno_field.reject(std::string(action.name) + " does not return an errno, so " + errno_key +
                           " cannot be set");
    return action.action | static_cast<std::uint32_t>(errno_field.number(action.data_limit));
}

std::uint32_t read_architecture(const Field& field) {
    std::string name = field.text();
    for (const char* known : spec_architectures)
        if (name == known) {
            std::uint32_t token = architecture_token(name);
            if (token == 0) {
                const scmp_version* version = seccomp_version();
                field.reject(name + " is not supported by the libseccomp this berth was built " +
                             "with (" + std::to_string(version->major) + "." +
                             std::to_string(version->minor) + "." + std::to_string(version->micro) +
                             ")");
            }
            return token;
        }
    field.reject("unknown architecture \"" + name + "\"");
}

unsigned int read_flag(const Field& field) {
    std::string name = field.text();
    for (const auto& known : flag_names)
        if (name == known.name) return known.flag;
    field.reject("unknown flag \"" + name + "\"");
}

ArgCondition read_arg(const Field& field) {
    field.expect_object();
    ArgCondition arg;
    // Six: no system call takes more arguments than the registers carry.
    arg.index = static_cast<unsigned int>(field.at("index").number(5));
    arg.value = field.at("value").number(UINT64_MAX);
    if (field.has("valueTwo")) arg.value_two = field.at("valueTwo").number(UINT64_MAX);
    Field op_field = field.at("op");
    std::string op = op_field.text();
    bool found = false;
    for (const auto& known : operator_names)
        if (op == known.name) {
            arg.op = known.op;
            found = true;
        }
    if (!found) op_field.reject("unknown operator \"" + op + "\"");
    return arg;
}

SyscallRule read_rule(const Field& field) {
    field.expect_object();
    SyscallRule rule;
    rule.field = field.path();
    Field names = field.at("names");
    if (names.array_size() == 0) names.reject("must name at least one system call");
    for (std::size_t i = 0; i < names.array_size(); ++i) {
        std::string name = names.item(i).text();
        if (name.empty()) names.item(i).reject("a system call name cannot be empty");
        rule.names.push_back(std::move(name));
    }
    rule.action = read_action(field, "action", "errnoRet");
    if (field.has("args")) {
        Field args = field.at("args");
        for (std::size_t i = 0; i < args.array_size(); ++i)
            rule.args.push_back(read_arg(args.item(i)));
    }
    if (rule.action == SCMP_ACT_NOTIFY)
        for (std::size_t i = 0; i < rule.names.size(); ++i)
            for (const char* needed : syscalls_needed_to_pass_the_listener)
                if (rule.names[i] == needed)
                    names.item(i).reject(
                        "SCMP_ACT_NOTIFY cannot be used for \"" + rule.names[i] +
                        "\": the runtime needs it to hand the notify fd to the agent after the "
                        "filter is loaded, and would wait forever");
    return rule;
}

} // namespace

KnownNames known_names() {
    KnownNames names;
    for (const auto& action : action_names)
        names.actions.push_back(action.name);
    for (const auto& op : operator_names)
        names.operators.push_back(op.name);
    for (const char* architecture : spec_architectures)
        if (architecture_token(architecture) != 0) names.architectures.push_back(architecture);
    for (const auto& flag : flag_names)
        names.flags.push_back({flag.name, flag.flag});
    return names;
}

bool lets_syscall_run(std::uint32_t action) {
    std::uint32_t kind = action & SECCOMP_RET_ACTION_FULL;
    return kind == SCMP_ACT_ALLOW || kind == SCMP_ACT_LOG || kind == SCMP_ACT_TRACE(0);
}

std::string action_name(std::uint32_t action) {
    std::uint32_t kind = action & SECCOMP_RET_ACTION_FULL;
    for (const auto& known : action_names)
        if (known.action == kind && std::string_view(known.name) != "SCMP_ACT_KILL") {
            if (known.data_limit == no_data) return known.name;
            return std::string(known.name) + "(" + std::to_string(action & SECCOMP_RET_DATA) + ")";
        }
    return "action " + std::to_string(action);
}

Profile parse_profile(const nlohmann::json& seccomp) {
    Field root(seccomp, root_field);
    root.expect_object();
    Profile profile;
    profile.default_action = read_action(root, "defaultAction", "defaultErrnoRet");
    if (profile.default_action == SCMP_ACT_NOTIFY)
        root.at("defaultAction")
            .reject("SCMP_ACT_NOTIFY cannot be the default action: the runtime's own system "
                    "calls after the filter is loaded would wait for an agent that does not "
                    "have the notify fd yet");

    if (root.has("architectures")) {
        Field architectures = root.at("architectures");
        for (std::size_t i = 0; i < architectures.array_size(); ++i) {
            profile.architectures.push_back(read_architecture(architectures.item(i)));
            profile.architecture_names.push_back(architectures.item(i).text());
        }
    }
    if (root.has("flags")) {
        Field flags = root.at("flags");
        for (std::size_t i = 0; i < flags.array_size(); ++i)
            profile.flags |= read_flag(flags.item(i));
    }
    if (root.has("listenerPath")) {
        profile.listener_path = root.at("listenerPath").text();
        if (profile.listener_path.empty())
            root.at("listenerPath").reject("cannot be empty; leave it out instead");
    }
    if (root.has("listenerMetadata")) {
        profile.listener_metadata = root.at("listenerMetadata").text();
        if (profile.listener_path.empty())
            root.at("listenerMetadata").reject("cannot be set without listenerPath");
    }
    if (root.has("syscalls")) {
        Field syscalls = root.at("syscalls");
        for (std::size_t i = 0; i < syscalls.array_size(); ++i) {
            profile.syscalls.push_back(read_rule(syscalls.item(i)));
            if (profile.syscalls.back().action == SCMP_ACT_NOTIFY) profile.uses_notify = true;
        }
    }
    if (profile.uses_notify && profile.listener_path.empty())
        fail(std::string(root_field) +
             ".listenerPath: required when a rule uses SCMP_ACT_NOTIFY, to reach the agent "
             "that answers the notifications");
    return profile;
}

} // namespace berth::runtime::seccomp
