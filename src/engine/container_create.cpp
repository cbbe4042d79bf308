// Engine::create: from a request to a container that is ready to start.
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/text.h"
#include "berth/base/user_namespace.h"
#include "berth/engine/container_files.h"
#include "berth/engine/engine.h"
#include "berth/engine/identity.h"
#include "berth/engine/json_log.h"
#include "berth/engine/oci_spec_builder.h"
#include "berth/engine/spec_options.h"
#include "berth/engine/user_lookup.h"
#include "berth/image/image_store.h"
#include "berth/image/rootfs.h"
#include "berth/network/address.h"
#include "berth/network/ports.h"
#include "berth/runtime/cgroups.h"
#include "berth/runtime/runtime.h"
#include "container_network.h"
#include "container_runtime.h"
#include "monitor.h"
#include "rootless_network.h"
#include "teardown.h"

#include <algorithm>
#include <cstdlib>
#include <sys/resource.h>
#include <unistd.h>

#ifndef BERTH_DEFAULT_SECCOMP_PROFILE
#define BERTH_DEFAULT_SECCOMP_PROFILE "/usr/local/share/berth/seccomp.json"
#endif

namespace berth::engine {

namespace {

std::string host_hostname() {
    char name[256] = {};
    ::gethostname(name, sizeof name - 1);
    return name;
}

std::string read_host_file(const char* path) {
    try {
        return read_file(path);
    } catch (const Error&) {
        return {};
    }
}

// The host's resolver list, less loopback servers: from a network namespace
// of its own the container cannot reach the host's 127.0.0.53. Docker's
// public fallback when nothing is left.
// With --dns, only those servers; else the host's, less loopback servers
// (from a network namespace of its own the container cannot reach the
// host's 127.0.0.53), Docker's public fallback when nothing is left.
std::string container_resolv_conf(const RunRequest& request, bool host_network,
                                  const std::string& network_resolver) {
    NetworkOptions options = request.network_options;
    // On a user-defined network, its resolver (which forwards the rest).
    if (options.dns.empty() && !network_resolver.empty()) options.dns = {network_resolver};
    std::string host = read_host_file("/etc/resolv.conf");
    std::string out;
    bool has_server = false;
    for (const auto& line : split_lines(host)) {
        auto words = split_words(line);
        if (words.size() >= 2 && words[0] == "nameserver") {
            if (!options.dns.empty()) continue;
            if (!host_network && (words[1].starts_with("127.") || words[1] == "::1")) continue;
            has_server = true;
        }
        if (words.size() >= 1 && words[0] == "search" && !options.dns_search.empty()) continue;
        out += line + "\n";
    }
    for (const auto& server : options.dns) {
        out += "nameserver " + server + "\n";
        has_server = true;
    }
    if (!options.dns_search.empty()) {
        out += "search";
        for (const auto& domain : options.dns_search)
            out += " " + domain;
        out += "\n";
    }
    if (!has_server) out += "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";
    return out;
}

// The container's own address is added by its monitor once it has one.
std::string container_hosts(const RunRequest& request, bool host_network) {
    std::string out = host_network ? read_host_file("/etc/hosts")
                                   : "127.0.0.1\tlocalhost\n"
                                     "::1\tlocalhost ip6-localhost ip6-loopback\n"
                                     "fe00::0\tip6-localnet\n"
                                     "ff00::0\tip6-mcastprefix\n"
                                     "ff02::1\tip6-allnodes\n"
                                     "ff02::2\tip6-allrouters\n";
    for (const auto& entry : request.network_options.add_hosts) {
        auto colon = entry.find_first_of(":=");
        out += entry.substr(colon + 1) + "\t" + entry.substr(0, colon) + "\n";
    }
    return out;
}

// --add-host name:ip, --dns ip: checked before anything is made.
void check_network_request(RunRequest& request, const oci::ContainerConfig& image_config) {
    NetworkOptions& options = request.network_options;
    for (const auto& entry : options.add_hosts) {
        auto colon = entry.find_first_of(":=");
        if (colon == std::string::npos || colon == 0 ||
            !network::parse_ipv4(entry.substr(colon + 1)))
            fail("invalid --add-host \"" + entry + "\": give name:IPv4");
    }
    for (const auto& server : options.dns)
        if (!network::parse_ipv4(server))
            fail("invalid --dns \"" + server + "\": give an IPv4 address");
    for (const auto& port : options.publish)
        network::parse_port_mappings(port);
    if (options.publish_all) {
        for (const auto& port : image_config.exposed_ports) {
            auto mapping = network::parse_exposed_port(port);
            options.publish.push_back(std::to_string(mapping.container_port) + "/" +
                                      mapping.protocol);
        }
        options.publish_all = false;
    }
    if (!options.publish.empty() && !uses_endpoints(request.network)) {
        if (request.network == "host") {
            options.publish.clear(); // Docker: published ports are discarded with host networking
        } else {
            fail("published ports need a network: --network " + request.network +
                 " has none to publish on");
        }
    }
    if (!options.aliases.empty() &&
        (!uses_endpoints(request.network) || request.network == "bridge"))
        fail("network-scoped aliases are only supported for user-defined networks");
}

nlohmann::json default_seccomp_profile() {
    const char* from_env = std::getenv("BERTH_SECCOMP_PROFILE");
    std::string path = from_env && *from_env ? from_env : BERTH_DEFAULT_SECCOMP_PROFILE;
    std::string text;
    try {
        text = read_file(path);
    } catch (const Error& error) {
        // Never run unconfined by accident: the user must say so.
        fail("berth's default seccomp profile is missing (" + std::string(error.what()) +
             "): reinstall berth, set BERTH_SECCOMP_PROFILE, or pass --security-opt "
             "seccomp=unconfined");
    }
    nlohmann::json profile = nlohmann::json::parse(text, nullptr, false);
    if (!profile.is_object()) fail("the seccomp profile " + path + " is not a JSON object");
    return profile;
}

std::uint64_t host_nofile_hard_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) < 0 || limit.rlim_max == RLIM_INFINITY) return 1048576;
    return limit.rlim_max;
}

std::string pick_name(ContainerStore& containers, const std::string& requested) {
    if (!requested.empty()) {
        if (!is_valid_container_name(requested))
            fail("invalid container name \"" + requested +
                 "\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
        return requested.front() == '/' ? requested.substr(1) : requested;
    }
    for (int attempt = 0; attempt < 10; ++attempt) {
        std::string name = random_container_name();
        if (attempt > 0) name += std::to_string(attempt);
        if (!containers.name_in_use(name)) return name;
    }
    fail("no free random container name: give one with --name");
}

} // namespace

ContainerRecord Engine::create(const RunRequest& given) {
    RunRequest request = given;
    if (request.network.empty()) request.network = "bridge";
    std::string id = new_container_id();
    try {
        // The container's cgroup and network namespace are made while we
        // resolve the image and write the bundle (~2 ms of kernel work that
        // would otherwise come after): the cgroup here, the namespace by the
        // monitor forked ahead, which removes both if no plan follows.
        if (pending_monitor_) {
            EarlyWork work;
            if (resolve_runtime_name(request.runtime) == default_runtime_name && !rootless()) {
                work = {.cgroups_path = container_cgroups_path(request, id),
                        .id = id,
                        .network_namespace =
                            request.network == "none" || uses_endpoints(request.network)};
                runtime::cgroups::make_cgroup_and_warm_up_moves(work.cgroups_path, id);
            }
            pending_monitor_->prepare(work);
        }
        ContainerRecord record = create_as(id, std::move(request));
        // Before the plan: the monitor's runtime must find the cgroup whole.
        runtime::cgroups::wait_for_early_cgroup();
        return record;
    } catch (...) {
        // Once the cgroup is made, the monitor removes it and what it made
        // itself, and exits before this returns; a second try (after a
        // pull) forks a monitor of its own at start.
        runtime::cgroups::wait_for_early_cgroup();
        pending_monitor_.reset();
        throw;
    }
}

ContainerRecord Engine::create_as(const std::string& id, RunRequest request) {
    // A network's row (the default one is made on first use) before anything else.
    std::string joined_netns, network_resolver;
    if (uses_endpoints(request.network)) {
        if (rootless()) {
            // slirp4netns gives each container a network of its own.
            if (request.network != "bridge")
                fail("network " + request.network +
                     ": user-defined networks need root; rootless containers have the default "
                     "network (slirp4netns), none, host and container:NAME");
            network_resolver = slirp_dns_server;
        } else {
            containers();
            NetworkStore networks(*database_);
            NetworkRecord network = network_for_mode(networks, request.network);
            request.network = network.name;
            // Refused before anything exists (the monitor would find out only
            // once the container's interface is made).
            if (!request.network_options.publish.empty() && network.driver != "bridge")
                fail("published ports need a bridge network: on " + network.driver + " network " +
                     network.name + " the container is reached at its own address");
            if (network.name != "bridge" && network.driver == "bridge")
                network_resolver = network.gateway;
        }
    } else if (request.network.starts_with("container:")) {
        ContainerRecord other = get(request.network.substr(10));
        if (other.state != ContainerState::running || other.pid <= 0)
            fail("cannot join the network of container " + other.name + ": it is not running");
        joined_netns = "/proc/" + std::to_string(other.pid) + "/ns/net";
    }

    image::StoreOptions store_options;
    store_options.root = options_.root;
    store_options.apply.preserve_ownership = !rootless();
    // One connection to berth.db for the command (each open parses the schema).
    containers();
    store_options.database = database_.get();
    image::ImageStore store(store_options);
    image::Image image = store.resolve(request.image);
    const oci::ContainerConfig& image_config = image.config.config;
    if (request.stop_signal.empty())
        request.stop_signal =
            image_config.stop_signal.empty() ? "SIGTERM" : image_config.stop_signal;
    // Errors the request alone shows come before anything is made.
    try {
        runtime::parse_signal(request.stop_signal);
    } catch (const Error&) {
        fail("Invalid signal: " + request.stop_signal);
    }
    if (request.cpus > 0) {
        long online = std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
        if (request.cpus < 0.01 || request.cpus > static_cast<double>(online))
            fail("Range of CPUs is from 0.01 to " + std::to_string(online) +
                 ".00, as there are only " + std::to_string(online) + " CPUs available");
    }
    request.runtime = resolve_runtime_name(request.runtime);
    if (auto check = effective_healthcheck(request.healthcheck, image_config.healthcheck))
        request.healthcheck = *check;
    else
        request.healthcheck = HealthcheckRequest{.test = {"NONE"}};
    process_args(request, image_config);
    check_network_request(request, image_config);
    effective_capabilities(request);
    if (request.log_driver != "json-file" && request.log_driver != "none")
        fail("logging driver " + request.log_driver +
             " is not supported (berth has json-file and "
             "none)");
    if (request.log_driver == "none" && !request.log_options.empty())
        fail("--log-opt needs the json-file log driver");
    parse_log_options(request.log_options);
    check_container_options(request);
    resolve_mounts(request);
    if (!request.seccomp.empty() && request.seccomp != "unconfined" &&
        !nlohmann::json::parse(request.seccomp, nullptr, false).is_object())
        fail("the seccomp profile given is not a JSON object");

    ContainerRecord record;
    record.id = id;
    record.name = pick_name(containers(), request.name);
    request.name = record.name;
    record.image_id = image.id.str();
    record.image_name = request.image;
    record.config_json = to_json(request).dump();
    record.created = now_rfc3339_nano();
    // The name is taken here, in one transaction: a clash fails before any file exists.
    containers().insert(record);

    std::string dir = container_dir(record.id);
    std::vector<std::string> created_volumes;
    try {
        make_directories(dir, 0710);
        std::string rootfs =
            image::mount_rootfs(store, image, dir, {.scratch_upper = request.auto_remove});
        bool host_network = request.network == "host";
        SpecInputs inputs;
        // A bridge or user network: a new namespace of the runtime's, wired by
        // the monitor between create and start. container:NAME joins by path.
        inputs.netns_path = joined_netns;
        inputs.id = record.id;
        inputs.hostname = !request.hostname.empty() ? request.hostname
                          : host_network            ? host_hostname()
                                                    : record.id.substr(0, 12);
        inputs.hostname_file = dir + "/hostname";
        inputs.hosts_file = dir + "/hosts";
        inputs.resolv_conf_file = dir + "/resolv.conf";
        write_file_atomic(inputs.hostname_file, inputs.hostname + "\n");
        write_file_atomic(inputs.hosts_file, container_hosts(request, host_network));
        write_file_atomic(inputs.resolv_conf_file,
                          container_resolv_conf(request, host_network, network_resolver));
        inputs.user = with_context("resolving the container's user", [&] {
            return resolve_user_in_rootfs(request.user.empty() ? image_config.user : request.user,
                                          rootfs);
        });
        // Docker creates a missing working directory.
        std::string workdir = !request.workdir.empty() ? request.workdir : image_config.working_dir;
        if (!workdir.empty() && workdir.front() == '/') make_directories_in_root(rootfs, workdir);
        if (!request.privileged && request.seccomp.empty())
            inputs.seccomp_profile = default_seccomp_profile();
        inputs.nofile_hard_limit = host_nofile_hard_limit();
        inputs.host_capabilities = bounding_capabilities();
        prepare_options(request, rootfs, inputs, created_volumes);
        nlohmann::json spec = build_oci_spec(request, image_config, inputs);
        write_file_atomic(dir + "/config.json", spec.dump(2) + "\n");
        // What `ps` shows as COMMAND, without parsing config.json (~20 KB
        // with the seccomp profile) for each container it lists.
        write_file_atomic(process_args_path(dir),
                          spec["process"].value("args", nlohmann::json::array()).dump());
    } catch (...) {
        try {
            empty_trash(delete_container_files(*database_, runtime_root(), record.id, dir));
        } catch (...) {
        }
        discard_volumes(created_volumes);
        containers().remove(record.id);
        throw;
    }
    return record;
}

} // namespace berth::engine
