// Engine::create: from a request to a container that is ready to start.
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/text.h"
#include "berth/engine/engine.h"
#include "berth/engine/json_log.h"
#include "berth/engine/identity.h"
#include "berth/engine/oci_spec_builder.h"
#include "berth/engine/spec_options.h"
#include "berth/engine/user_lookup.h"
#include "berth/image/image_store.h"
#include "berth/image/rootfs.h"
#include "teardown.h"

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
std::string container_resolv_conf(bool host_network) {
    std::string host = read_host_file("/etc/resolv.conf");
    if (host_network) return host;
    std::string out;
    bool has_server = false;
    for (const auto& line : split_lines(host)) {
        auto words = split_words(line);
        if (words.size() >= 2 && words[0] == "nameserver") {
            if (words[1].starts_with("127.") || words[1] == "::1") continue;
            has_server = true;
        }
        out += line + "\n";
    }
    if (!has_server) out += "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";
    return out;
}

std::string container_hosts(bool host_network) {
    if (host_network) return read_host_file("/etc/hosts");
    return "127.0.0.1\tlocalhost\n"
           "::1\tlocalhost ip6-localhost ip6-loopback\n"
           "fe00::0\tip6-localnet\n"
           "ff00::0\tip6-mcastprefix\n"
           "ff02::1\tip6-allnodes\n"
           "ff02::2\tip6-allrouters\n";
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
    if (request.network != "bridge" && request.network != "none" && request.network != "host")
        fail("network " + request.network + " not found (berth has bridge, none and host)");

    image::StoreOptions store_options;
    store_options.root = options_.root;
    store_options.apply.preserve_ownership = ::geteuid() == 0;
    image::ImageStore store(store_options);
    image::Image image = store.resolve(request.image);
    const oci::ContainerConfig& image_config = image.config.config;
    if (request.stop_signal.empty())
        request.stop_signal =
            image_config.stop_signal.empty() ? "SIGTERM" : image_config.stop_signal;
    // Errors the request alone shows come before anything is made.
    process_args(request, image_config);
    effective_capabilities(request);
    if (request.log_driver != "json-file" && request.log_driver != "none")
        fail("logging driver " + request.log_driver + " is not supported (berth has json-file and "
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
    record.id = new_container_id();
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
        inputs.id = record.id;
        inputs.hostname = !request.hostname.empty() ? request.hostname
                          : host_network            ? host_hostname()
                                                    : record.id.substr(0, 12);
        inputs.hostname_file = dir + "/hostname";
        inputs.hosts_file = dir + "/hosts";
        inputs.resolv_conf_file = dir + "/resolv.conf";
        write_file_atomic(inputs.hostname_file, inputs.hostname + "\n");
        write_file_atomic(inputs.hosts_file, container_hosts(host_network));
        write_file_atomic(inputs.resolv_conf_file, container_resolv_conf(host_network));
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
    } catch (...) {
        try {
            empty_trash(delete_container_files(runtime_root(), record.id, dir));
        } catch (...) {
        }
        discard_volumes(created_volumes);
        containers().remove(record.id);
        throw;
    }
    return record;
}

} // namespace berth::engine
