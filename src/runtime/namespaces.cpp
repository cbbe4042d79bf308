#include "namespaces.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#include <vector>

namespace berth::runtime {

namespace {

struct NamespaceKind {
    const char* type;
    int flag;
};

constexpr NamespaceKind kinds[] = {
    {"user", CLONE_NEWUSER},     {"pid", CLONE_NEWPID},   {"network", CLONE_NEWNET},
    {"mount", CLONE_NEWNS},      {"ipc", CLONE_NEWIPC},   {"uts", CLONE_NEWUTS},
    {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

std::string format_mappings(const std::vector<oci::IdMapping>& mappings) {
    std::string text;
    for (const auto& m : mappings)
        text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " +
                std::to_string(m.size) + "\n";
    return text;
}

} // namespace

int namespace_clone_flag(const std::string& type) {
    for (const auto& kind : kinds)
        if (type == kind.type) return kind.flag;
    return 0;
}

std::uint64_t new_namespace_flags(const oci::Spec& spec) {
    std::uint64_t flags = 0;
    for (const auto& ns : spec.linux.namespaces)
        if (ns.path.empty()) flags |= static_cast<std::uint64_t>(namespace_clone_flag(ns.type));
    return flags;
}

bool joins_any_namespace(const oci::Spec& spec) {
    for (const auto& ns : spec.linux.namespaces)
        if (!ns.path.empty()) return true;
    return false;
}

void join_namespaces(const oci::Spec& spec) {
    // Open them all first: entering a mount namespace changes what paths mean.
    std::vector<std::pair<UniqueFd, const oci::Namespace*>> targets;
    for (const auto& kind : kinds) {
        const oci::Namespace* ns = spec.linux.find_namespace(kind.type);
        if (!ns || ns->path.empty()) continue;
        targets.emplace_back(open_fd(ns->path, O_RDONLY), ns);
    }
    for (const auto& [fd, ns] : targets)
        if (::setns(fd.get(), namespace_clone_flag(ns->type)) < 0)
            throw_errno("joining the " + ns->type + " namespace " + ns->path);
}

void write_id_mappings(pid_t pid, const oci::Spec& spec) {
    std::string proc = "/proc/" + std::to_string(pid);
    if (::geteuid() != 0) write_existing_file(proc + "/setgroups", "deny");
    with_context("writing the user namespace's uid map", [&] {
        write_existing_file(proc + "/uid_map", format_mappings(spec.linux.uid_mappings));
    });
    with_context("writing the user namespace's gid map", [&] {
        write_existing_file(proc + "/gid_map", format_mappings(spec.linux.gid_mappings));
    });
}

void write_time_offsets(const oci::Spec& spec) {
    std::string text;
    for (const auto& [clock, offset] : spec.linux.time_offsets)
        text += clock + " " + std::to_string(offset.secs) + " " + std::to_string(offset.nanosecs) +
                "\n";
    if (!text.empty())
        with_context("writing the time namespace's offsets",
                     [&] { write_existing_file("/proc/self/timens_offsets", text); });
}

} // namespace berth::runtime
