// Where a container's cgroups are, and their life: create, join, list, remove.
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/runtime/cgroups.h"
#include "control_files.h"
#include "hierarchies.h"
#include "path.h"
#include "v2_controllers.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace berth::runtime::cgroups {

namespace {

constexpr const char* unified = "unified";

Placement place(const std::string& mount, const std::string& inner, const std::string& own_cgroups,
                const std::string& hierarchy) {
    bool relative = inner.front() != '/';
    std::string base = relative ? own_cgroup(own_cgroups, hierarchy) : "/";
    return {mount, join_below(mount, join_below(base, inner))};
}

std::string parent_of(const std::string& path) {
    return path.substr(0, path.find_last_of('/'));
}

// A v1 cpuset cgroup starts with no CPUs and no memory nodes, and the kernel
// refuses processes there (ENOSPC): each new level takes its parent's.
void inherit_if_empty(const std::string& directory, const char* file) {
    if (!has_control(directory, file) || !read_control_trimmed(directory, file).empty()) return;
    write_control(directory, file, read_control_trimmed(parent_of(directory), file));
}

void make_cpuset_directories(const Placement& placement) {
    std::string below = placement.directory.substr(placement.mount.size());
    for (auto slash = below.find('/', 1);; slash = below.find('/', slash + 1)) {
        std::string level = placement.mount + below.substr(0, slash);
        if (::mkdir(level.c_str(), 0755) < 0 && errno != EEXIST) throw_errno("creating " + level);
        inherit_if_empty(level, "cpuset.cpus");
        inherit_if_empty(level, "cpuset.mems");
        if (slash == std::string::npos) break;
    }
}

// Removes `directory` and the cgroups below it, deepest first. rmdir fails
// with EBUSY while killed processes are still leaving; they get a second.
void remove_cgroup_tree(const std::string& directory) {
    // Most have no child cgroups: the listing (of every control file) only
    // when the kernel refuses.
    if (::rmdir(directory.c_str()) == 0 || errno == ENOENT) return;
    for (const auto& child : child_cgroups(directory))
        remove_cgroup_tree(child);
    auto delay = std::chrono::milliseconds(1);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (::rmdir(directory.c_str()) < 0) {
        if (errno == ENOENT) return;
        if (errno != EBUSY || std::chrono::steady_clock::now() > deadline)
            throw_errno("removing cgroup " + directory);
        std::this_thread::sleep_for(delay);
        delay = std::min(delay * 2, std::chrono::milliseconds(100));
    }
}

void collect_pids(const std::string& directory, std::vector<pid_t>& pids) {
    std::string procs;
    try {
        procs = read_control(directory, "cgroup.procs");
    } catch (const Error& error) {
        if (error.errno_value() == ENOENT) return; // removed meanwhile
        throw;
    }
    for (const auto& word : split_words(procs))
        pids.push_back(std::stoi(word));
    for (const auto& child : child_cgroups(directory))
        collect_pids(child, pids);
}

} // namespace

Cgroup Cgroup::for_container(const std::string& cgroups_path, const std::string& id,
                             const std::string& cgroup_root) {
    return for_container(cgroups_path, id, Host::detect(cgroup_root));
}

Cgroup Cgroup::for_container(const std::string& cgroups_path, const std::string& id,
                             const Host& host) {
    std::string inner = container_path(cgroups_path, id);
    Cgroup cgroup;
    cgroup.mode_ = host.mode;
    if (host.mode == Mode::v2) {
        cgroup.placements_[unified] = place(host.cgroup_root, inner, host.own_cgroups, unified);
        return cgroup;
    }
    for (const auto& [hierarchy, mount] : v1_hierarchies(host.cgroup_root))
        cgroup.placements_[hierarchy] = place(mount, inner, host.own_cgroups, hierarchy);
    // Hybrid's cgroup2 tree holds no limits, but the container gets a
    // directory there too: its cgroup namespace and tools reading "0::" see it.
    if (host.mode == Mode::hybrid)
        cgroup.placements_[unified] =
            place(host.cgroup_root + "/" + unified, inner, host.own_cgroups, unified);
    return cgroup;
}

std::string Cgroup::to_json() const {
    nlohmann::json json;
    json["mode"] = std::string(mode_name(mode_));
    for (const auto& [hierarchy, placement] : placements_)
        json["placements"][hierarchy] = {{"mount", placement.mount},
                                         {"directory", placement.directory}};
    return json.dump();
}

Cgroup Cgroup::from_json(const std::string& saved) {
    return with_context("reading the saved cgroup placement", [&] {
        nlohmann::json json = nlohmann::json::parse(saved, nullptr, false);
        if (!json.is_object() || !json.contains("mode") || !json["mode"].is_string())
            fail("not the JSON Cgroup::to_json writes");
        Cgroup cgroup;
        std::string mode = json["mode"];
        if (mode == "v1")
            cgroup.mode_ = Mode::v1;
        else if (mode == "hybrid")
            cgroup.mode_ = Mode::hybrid;
        else if (mode == "v2")
            cgroup.mode_ = Mode::v2;
        else
            fail("unknown cgroup mode \"" + mode + "\"");
        if (json.contains("placements") && json["placements"].is_object()) {
            for (const auto& [hierarchy, entry] : json["placements"].items()) {
                if (!entry.is_object() || !entry.contains("mount") || !entry["mount"].is_string() ||
                    !entry.contains("directory") || !entry["directory"].is_string())
                    fail("placement of \"" + hierarchy + "\": expected mount and directory");
                Placement placement{entry["mount"], entry["directory"]};
                // The directory is removed and its processes killed later:
                // it must be a proper cgroup below its hierarchy's mount.
                if (placement.mount.empty() || placement.mount[0] != '/' ||
                    clean_path(placement.directory) != placement.directory ||
                    placement.directory.rfind(placement.mount + "/", 0) != 0)
                    fail("placement of \"" + hierarchy + "\": " + placement.directory +
                         " is not a cgroup below " + placement.mount);
                cgroup.placements_[hierarchy] = placement;
            }
        }
        if (cgroup.mode_ == Mode::v2 && !cgroup.placements_.count(unified))
            fail("a v2 placement needs its \"unified\" directory");
        return cgroup;
    });
}

std::string Cgroup::directory(const std::string& hierarchy) const {
    auto found = placements_.find(hierarchy);
    return found == placements_.end() ? "" : found->second.directory;
}

std::vector<Placement> Cgroup::distinct_placements() const {
    std::vector<Placement> distinct;
    std::set<std::string> seen;
    for (const auto& [hierarchy, placement] : placements_)
        if (seen.insert(placement.directory).second) distinct.push_back(placement);
    return distinct;
}

std::string Cgroup::process_directory() const {
    // In v1 any hierarchy lists the processes; these are the usual ones.
    for (const char* hierarchy :
         {"freezer", "pids", "memory", "cpu", "devices", "systemd", unified})
        if (placements_.count(hierarchy)) return placements_.at(hierarchy).directory;
    if (placements_.empty()) fail("the container's cgroup is in no hierarchy");
    return placements_.begin()->second.directory;
}

void Cgroup::create() {
    for (const auto& entry : placements_) {
        const Placement& placement = entry.second;
        with_context("creating cgroup " + placement.directory, [&] {
            if (entry.first == "cpuset") {
                make_cpuset_directories(placement);
                return;
            }
            make_directories(placement.directory);
            if (mode_ == Mode::v2)
                enable_available_controllers(placement.mount, placement.directory);
        });
    }
}

void Cgroup::add_process(pid_t pid) {
    for (const auto& placement : distinct_placements()) {
        try {
            write_control(placement.directory, "cgroup.procs", std::to_string(pid));
        } catch (const Error& error) {
            std::string hint = error.errno_value() == ENOSPC
                                   ? " (a cpuset cgroup without cpus or mems takes no process)"
                                   : "";
            throw Error("adding process " + std::to_string(pid) +
                            " to its cgroup: " + error.what() + hint,
                        error.errno_value());
        }
    }
}

UniqueFd Cgroup::v2_directory_fd() const {
    if (mode_ != Mode::v2) return {};
    return open_fd(directory(unified), O_RDONLY | O_DIRECTORY);
}

std::vector<pid_t> Cgroup::pids() const {
    std::vector<pid_t> pids;
    collect_pids(process_directory(), pids);
    std::sort(pids.begin(), pids.end());
    pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
    return pids;
}

void Cgroup::destroy() {
    if (!pids().empty()) kill_all(SIGKILL);
    for (const auto& placement : distinct_placements()) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        for (;;) {
            try {
                remove_cgroup_tree(placement.directory);
                break;
            } catch (const Error& error) {
                // A process that slipped in after the kill (a late exec) keeps it busy.
                if (error.errno_value() != EBUSY || std::chrono::steady_clock::now() > deadline)
                    throw;
                kill_all(SIGKILL);
            }
        }
    }
}

} // namespace berth::runtime::cgroups
