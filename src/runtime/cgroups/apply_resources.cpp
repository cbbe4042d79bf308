// Carrying out a resource plan: which directory each write goes to, which
// controllers v2 must hand down first, and errors that name field and file.
#include "berth/base/error.h"
#include "berth/runtime/cgroups.h"
#include "control_files.h"
#include "device_bpf.h"
#include "resource_plan.h"
#include "v2_controllers.h"

#include <cerrno>
#include <set>

namespace berth::runtime::cgroups {

namespace {

void perform(const ControlWrite& write, const std::string& directory) {
    const std::string* file = &write.file;
    const std::string* value = &write.value;
    if (!has_control(directory, write.file)) {
        if (!write.fallback_file.empty() && has_control(directory, write.fallback_file)) {
            file = &write.fallback_file;
            value = &write.fallback_value;
        } else if (write.optional) {
            return;
        } else {
            std::string names = write.file;
            if (!write.fallback_file.empty()) names += " (nor " + write.fallback_file + ")";
            fail(write.field + ": " + directory + " has no " + names +
                 ": this kernel or its cgroup controller does not offer it");
        }
    }
    with_context(write.field, [&] { write_control(directory, *file, *value); });
}

bool exists_in(const std::string& directory, const ControlWrite& write) {
    return has_control(directory, write.file) ||
           (!write.fallback_file.empty() && has_control(directory, write.fallback_file));
}

} // namespace

void Cgroup::apply_resources(const nlohmann::json& resources) {
    if (resources.is_null()) return;
    if (mode_ == Mode::v2)
        apply_v2(resources);
    else
        apply_v1(resources);
}

void Cgroup::apply_v1(const nlohmann::json& json) {
    std::vector<ControlWrite> writes = plan_v1(parse_resources(json));
    for (const auto& write : writes) {
        std::string directory = this->directory(write.controller);
        if (directory.empty()) {
            if (write.optional) continue;
            fail(write.field + ": this host mounts no cgroup v1 \"" + write.controller +
                 "\" hierarchy");
        }
        perform(write, directory);
    }
}

void Cgroup::apply_v2(const nlohmann::json& json) {
    Resources resources = parse_resources(json);
    std::vector<ControlWrite> writes = plan_v2(resources);
    const Placement& placement = placements_.at("unified");
    // A controller's files appear only once the parent hands it down; enable
    // just those whose files are missing, naming the field that wanted each.
    std::map<std::string, std::string> wanted; // controller → first field needing it
    for (const auto& write : writes)
        if (!write.controller.empty() && !exists_in(placement.directory, write))
            wanted.emplace(write.controller, write.field);
    for (const auto& [controller, field] : wanted)
        enable_controllers(placement.mount, placement.directory, {controller}, field);
    for (const auto& write : writes)
        perform(write, placement.directory);
    if (!resources.devices.empty())
        with_context("linux.resources.devices", [&] {
            install_device_program(placement.directory, device_policy(resources.devices));
        });
}

} // namespace berth::runtime::cgroups
