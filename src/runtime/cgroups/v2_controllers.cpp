#include "v2_controllers.h"

#include "berth/base/error.h"
#include "control_files.h"

#include <cerrno>
#include <vector>

namespace berth::runtime::cgroups {

namespace {

// `mount`, then each directory down to `directory`'s parent.
std::vector<std::string> delegating_ancestors(const std::string& mount,
                                              const std::string& directory) {
    std::vector<std::string> ancestors{mount};
    std::string below = directory.substr(mount.size()); // "/a/b/c"
    for (auto slash = below.find('/', 1); slash != std::string::npos;
         slash = below.find('/', slash + 1))
        ancestors.push_back(mount + below.substr(0, slash));
    return ancestors;
}

// Controllers already enabled: the kernel lists them bare ("cpu memory");
// a fake tree keeps what we wrote ("+cpu +memory").
std::set<std::string> enabled_controllers(const std::string& cgroup) {
    std::set<std::string> enabled;
    if (!has_control(cgroup, "cgroup.subtree_control")) return enabled;
    for (auto word : split_words(read_control(cgroup, "cgroup.subtree_control")))
        enabled.insert(word[0] == '+' ? word.substr(1) : word);
    return enabled;
}

std::string enabling_line(const std::set<std::string>& controllers) {
    std::string line;
    for (const auto& controller : controllers)
        line += (line.empty() ? "+" : " +") + controller;
    return line;
}

} // namespace

std::set<std::string> available_controllers(const std::string& mount) {
    auto words = split_words(read_control(mount, "cgroup.controllers"));
    return {words.begin(), words.end()};
}

void enable_controllers(const std::string& mount, const std::string& directory,
                        const std::set<std::string>& controllers, const std::string& needed_by) {
    if (controllers.empty()) return;
    std::set<std::string> offered = available_controllers(mount);
    for (const auto& controller : controllers)
        if (!offered.count(controller))
            fail(needed_by + ": the cgroup v2 \"" + controller +
                 "\" controller is not available here (not in " + mount + "/cgroup.controllers)");
    for (const auto& ancestor : delegating_ancestors(mount, directory)) {
        std::set<std::string> missing;
        std::set<std::string> enabled = enabled_controllers(ancestor);
        for (const auto& controller : controllers)
            if (!enabled.count(controller)) missing.insert(controller);
        if (missing.empty()) continue;
        try {
            write_control(ancestor, "cgroup.subtree_control", enabling_line(missing));
        } catch (const Error& error) {
            std::string hint =
                error.errno_value() == EBUSY
                    ? " (a cgroup with processes of its own can not hand controllers down: give "
                      "the container an absolute cgroupsPath away from them)"
                    : "";
            throw Error(needed_by + ": enabling " + enabling_line(missing) + " for " + directory +
                            ": " + error.what() + hint,
                        error.errno_value());
        }
    }
}

void enable_available_controllers(const std::string& mount, const std::string& directory) {
    std::set<std::string> offered;
    try {
        offered = available_controllers(mount);
    } catch (const Error&) {
        return; // no controllers to hand down (a fake or stripped tree)
    }
    for (const auto& ancestor : delegating_ancestors(mount, directory)) {
        std::set<std::string> missing;
        std::set<std::string> enabled = enabled_controllers(ancestor);
        for (const auto& controller : offered)
            if (!enabled.count(controller)) missing.insert(controller);
        if (missing.empty()) continue;
        try {
            write_control(ancestor, "cgroup.subtree_control", enabling_line(missing));
        } catch (const Error&) {
            // One refused controller fails the whole line; give the others their chance.
            for (const auto& controller : missing) {
                try {
                    write_control(ancestor, "cgroup.subtree_control", "+" + controller);
                } catch (const Error&) {
                }
            }
        }
    }
}

} // namespace berth::runtime::cgroups
