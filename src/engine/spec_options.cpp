#include "berth/engine/spec_options.h"

#include "berth/base/error.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <sys/resource.h>

namespace berth::engine {

namespace {

using nlohmann::json;

const std::map<std::string, int>& rlimit_numbers() {
    static const std::map<std::string, int> numbers = {{"as", RLIMIT_AS},
                                                       {"core", RLIMIT_CORE},
                                                       {"cpu", RLIMIT_CPU},
                                                       {"data", RLIMIT_DATA},
                                                       {"fsize", RLIMIT_FSIZE},
                                                       {"locks", RLIMIT_LOCKS},
                                                       {"memlock", RLIMIT_MEMLOCK},
                                                       {"msgqueue", RLIMIT_MSGQUEUE},
                                                       {"nice", RLIMIT_NICE},
                                                       {"nofile", RLIMIT_NOFILE},
                                                       {"nproc", RLIMIT_NPROC},
                                                       {"rss", RLIMIT_RSS},
                                                       {"rtprio", RLIMIT_RTPRIO},
                                                       {"rttime", RLIMIT_RTTIME},
                                                       {"sigpending", RLIMIT_SIGPENDING},
                                                       {"stack", RLIMIT_STACK}};
    return numbers;
}

// -1 is Docker's "unlimited".
std::uint64_t as_rlim(std::int64_t value) {
    return value < 0 ? RLIM_INFINITY : static_cast<std::uint64_t>(value);
}

} // namespace

std::string rlimit_type(const std::string& name) {
    std::string upper = name;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return "RLIMIT_" + upper;
}

void check_container_options(const RunRequest& request) {
    const auto& options = request.options;
    for (const auto& limit : options.ulimits) {
        auto number = rlimit_numbers().find(limit.name);
        if (number == rlimit_numbers().end()) fail("invalid ulimit type: " + limit.name);
        rlimit host{};
        if (::getrlimit(static_cast<__rlimit_resource>(number->second), &host) < 0) continue;
        // Raising a hard limit needs CAP_SYS_RESOURCE in the host's namespace,
        // and even then a container should not get more than berth itself.
        if (host.rlim_max != RLIM_INFINITY && as_rlim(limit.hard) > host.rlim_max)
            fail("--ulimit " + limit.name + "=" + std::to_string(limit.soft) + ":" +
                 std::to_string(limit.hard) + ": the hard limit is above this host's (" +
                 std::to_string(host.rlim_max) + ")");
    }
    // Docker's floor: below it a container is OOM-killed before it starts.
    if (request.memory_bytes > 0 && request.memory_bytes < 6 * 1024 * 1024)
        fail("Minimum memory limit allowed is 6MB");
    if (options.memory_swap > 0) {
        if (request.memory_bytes <= 0)
            fail("You should always set the Memory limit when using Memoryswap limit, see usage");
        if (options.memory_swap < request.memory_bytes)
            fail("Minimum memoryswap limit should be larger than memory limit, see usage");
    }
    if (options.memory_swap < -1) fail("invalid --memory-swap: use -1 for unlimited");
    if (options.cpu_shares < 0) fail("invalid --cpu-shares: must not be negative");
    if (!options.cpuset_cpus.empty()) check_cpuset(options.cpuset_cpus);
    if (request.auto_remove && options.restart.name != "no")
        fail("Conflicting options: --restart and --rm");
}

void apply_container_options(json& spec, const RunRequest& request, const SpecInputs& inputs) {
    const auto& options = request.options;
    for (const auto& mount : inputs.mounts)
        spec["mounts"].push_back(mount);
    // Parents before children, as Docker sorts them: a volume on /etc comes
    // before the /etc/hosts file mounted into it, not over it.
    auto depth = [](const json& mount) {
        std::string path = mount.value("destination", "");
        while (path.size() > 1 && path.back() == '/')
            path.pop_back();
        return std::count(path.begin(), path.end(), '/');
    };
    std::vector<json> sorted(spec["mounts"].begin(), spec["mounts"].end());
    std::stable_sort(sorted.begin(), sorted.end(),
                     [&](const json& a, const json& b) { return depth(a) < depth(b); });
    spec["mounts"] = sorted;

    json& process = spec["process"];
    for (const auto& limit : options.ulimits) {
        std::string type = rlimit_type(limit.name);
        json entry = {{"type", type}, {"soft", as_rlim(limit.soft)}, {"hard", as_rlim(limit.hard)}};
        auto& rlimits = process["rlimits"];
        auto same = std::find_if(rlimits.begin(), rlimits.end(),
                                 [&](const json& e) { return e.value("type", "") == type; });
        if (same != rlimits.end())
            *same = entry;
        else
            rlimits.push_back(entry);
    }
    for (auto gid : inputs.extra_gids)
        process["user"]["additionalGids"].push_back(gid);

    json& resources = spec["linux"]["resources"];
    if (options.memory_swap != 0 && request.memory_bytes > 0)
        resources["memory"]["swap"] = options.memory_swap;
    if (options.cpu_shares > 0) resources["cpu"]["shares"] = options.cpu_shares;
    if (!options.cpuset_cpus.empty()) resources["cpu"]["cpus"] = options.cpuset_cpus;

    if (options.init && !inputs.init_path.empty()) {
        json args = json::array({init_mount_point, "--"});
        for (const auto& arg : process["args"])
            args.push_back(arg);
        process["args"] = args;
        spec["mounts"].push_back({{"destination", init_mount_point},
                                  {"type", "bind"},
                                  {"source", inputs.init_path},
                                  {"options", {"bind", "ro", "nosuid", "nodev"}}});
    }
}

} // namespace berth::engine
