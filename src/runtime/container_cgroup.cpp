#include "container_cgroup.h"

#include "berth/base/error.h"
#include "berth/base/log.h"
#include "berth/base/user_namespace.h"

#include <cerrno>
#include <unistd.h>

namespace berth::runtime {

namespace {

nlohmann::json allow(const char* type, long major, long minor) {
    nlohmann::json rule = {{"allow", true}, {"type", type}, {"access", "rwm"}};
    if (major >= 0) rule["major"] = major;
    if (minor >= 0) rule["minor"] = minor;
    return rule;
}

} // namespace

bool wants_cgroup(const oci::Spec& spec) {
    if (!spec.linux.cgroups_path.empty()) return true;
    if (!spec.linux.resources.is_object()) return false;
    for (auto& [key, value] : spec.linux.resources.items())
        if (key != "devices" && !value.is_null()) return true;
    return false;
}

nlohmann::json effective_resources(const oci::Spec& spec) {
    nlohmann::json resources =
        spec.linux.resources.is_object() ? spec.linux.resources : nlohmann::json::object();
    nlohmann::json rules = resources.contains("devices") && resources["devices"].is_array()
                               ? resources["devices"]
                               : nlohmann::json::array();
    if (rules.empty()) return resources; // nothing denied: nothing to allow back
    // The devices every container has (see devices.cpp), the pty master and slaves.
    for (auto [major, minor] : {std::pair{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 2}})
        rules.push_back(allow("c", major, minor));
    rules.push_back(allow("c", 136, -1));
    for (const auto& device : spec.linux.devices)
        if (device.type != "p")
            rules.push_back(
                allow(device.type == "u" ? "c" : device.type.c_str(), device.major, device.minor));
    resources["devices"] = rules;
    return resources;
}

std::optional<cgroups::Cgroup> setup_cgroup(const oci::Spec& spec, const std::string& id) {
    if (!wants_cgroup(spec)) return std::nullopt;
    cgroups::Cgroup cgroup = cgroups::Cgroup::for_container(spec.linux.cgroups_path, id);
    try {
        cgroup.create();
    } catch (const Error& error) {
        bool denied = error.errno_value() == EACCES || error.errno_value() == EPERM ||
                      error.errno_value() == EROFS;
        if (!rootless() || !denied) throw;
        log::warning(std::string("no cgroup for a rootless container: ") + error.what());
        return std::nullopt;
    }
    try {
        cgroup.apply_resources(effective_resources(spec));
    } catch (...) {
        cgroup.destroy();
        throw;
    }
    return cgroup;
}

std::optional<cgroups::Cgroup> saved_cgroup(const std::string& saved_json) {
    if (saved_json.empty()) return std::nullopt;
    return cgroups::Cgroup::from_json(saved_json);
}

} // namespace berth::runtime
