// The flags `berth create` and `berth run` share, as Docker spells them.
#include "container_commands.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/engine/oci_spec_builder.h"

#include <cstdlib>

namespace berth::cli {

void add_run_flags(CLI::App& command, RunFlags& flags, bool is_run) {
    auto& request = flags.request;
    // Everything after IMAGE is the container's command, flags included.
    command.prefix_command();
    command.fallthrough(false);
    // -h is Docker's --hostname; help stays on --help.
    command.set_help_flag("--help", "Print this help message and exit");
    auto one_each = [](CLI::Option* option) {
        // `-e A -e B IMAGE`: each -e takes one value, so IMAGE is not eaten.
        return option->allow_extra_args(false);
    };
    if (is_run) {
        command.add_flag("-d,--detach", flags.detach,
                         "Run in the background and print the container ID");
    }
    command.add_flag("--rm", request.auto_remove, "Remove the container when it exits");
    command.add_flag("-i,--interactive", request.interactive,
                     "Keep standard input open (attached: this terminal's input goes in)");
    command.add_flag("-t,--tty", request.tty, "Give the process a terminal");
    command.add_option("--log-driver", request.log_driver, "json-file (default) or none");
    one_each(command.add_option("--log-opt", flags.log_options,
                                "json-file options: max-size=10m, max-file=3"));
    command.add_option("--name", request.name, "Name the container (else a random name)");
    one_each(command.add_option("-e,--env", flags.env,
                                "Set an environment variable (KEY=value, or KEY from the host)"));
    command.add_option("-w,--workdir", request.workdir, "Working directory inside the container");
    command.add_option("-u,--user", request.user,
                       "User name or uid, and optionally group (user[:group])");
    flags.entrypoint_option = command.add_option("--entrypoint", flags.entrypoint,
                                                 "Replace the image's ENTRYPOINT (\"\" clears it)");
    command.add_option("-h,--hostname", request.hostname,
                       "Container host name (default: the short id)");
    command.add_flag("--read-only", request.read_only,
                     "Mount the container's root filesystem read-only");
    command.add_option("-m,--memory", flags.memory, "Memory limit (e.g. 512m, 1g)");
    command.add_option("--pids-limit", request.pids_limit,
                       "Limit on the number of processes (-1: none)");
    command.add_option("--cpus", request.cpus, "Number of CPUs (e.g. 1.5)");
    one_each(command.add_option("--cap-add", request.cap_add, "Add a Linux capability (or ALL)"));
    one_each(
        command.add_option("--cap-drop", request.cap_drop, "Drop a Linux capability (or ALL)"));
    command.add_flag("--privileged", request.privileged,
                     "Every capability, no seccomp, no masked paths, devices allowed");
    one_each(command.add_option("--security-opt", flags.security_options,
                                "seccomp=unconfined, seccomp=PROFILE.json, no-new-privileges"));
    command.add_option("--network,--net", request.network,
                       "bridge (the default), none, host, container:NAME, or a network made by "
                       "`berth network create`");
    auto& net = request.network_options;
    one_each(command.add_option("-p,--publish", net.publish,
                                "Publish a port: [hostip:][hostport:]containerport[/tcp|udp]"));
    command.add_flag("-P,--publish-all", net.publish_all,
                     "Publish every port the image exposes on free host ports");
    one_each(command.add_option("--dns", net.dns, "A DNS server for the container"));
    one_each(command.add_option("--dns-search", net.dns_search, "A DNS search domain"));
    one_each(command.add_option("--add-host", net.add_hosts, "An /etc/hosts entry: name:ip"));
    one_each(command.add_option("--network-alias", net.aliases,
                                "Another name for the container on a user-defined network"));
    command.add_option("--cgroup-parent", request.cgroup_parent,
                       "Parent cgroup of the container's (default /berth)");
    command.add_option("--stop-signal", request.stop_signal,
                       "Signal `stop` sends (default: the image's, else SIGTERM)");
    command.add_option("--stop-timeout", request.stop_timeout,
                       "Seconds `stop` waits before SIGKILL (default 10)");
    command.add_option("--runtime", request.runtime,
                       "OCI runtime: berth (built in, the default; $BERTH_RUNTIME), crun, runc, "
                       "or a runtime's path");
    command.add_option("--pull", flags.pull,
                       "Pull image before running (\"always\", \"missing\", \"never\")");
    command.add_option("--platform", flags.platform,
                       "Set platform if server is multi-platform capable (os/arch[/variant])");
    command.add_option("--health-cmd", flags.health_cmd, "Command to run to check health");
    command.add_option("--health-interval", flags.health_interval,
                       "Time between running the check (ms|s|m|h) (default 30s)");
    command.add_option("--health-timeout", flags.health_timeout,
                       "Maximum time to allow one check to run (ms|s|m|h) (default 30s)");
    command.add_option("--health-start-period", flags.health_start_period,
                       "Start period for the container to initialize before starting "
                       "health-retries countdown (ms|s|m|h) (default 0s)");
    command.add_option("--health-retries", flags.health_retries,
                       "Consecutive failures needed to report unhealthy");
    command.add_flag("--no-healthcheck", flags.no_healthcheck,
                     "Disable any container-specified HEALTHCHECK");
    add_option_flags(command, flags.options, request);
}

namespace {

// Docker's checks and messages for the --health-* flags.
void finish_health_flags(const RunFlags& flags, engine::RunRequest& request) {
    engine::HealthcheckRequest& check = request.healthcheck;
    bool any_health_flag = !flags.health_cmd.empty() || !flags.health_interval.empty() ||
                           !flags.health_timeout.empty() || !flags.health_start_period.empty() ||
                           flags.health_retries != 0;
    if (flags.no_healthcheck) {
        if (any_health_flag) fail("--no-healthcheck conflicts with --health-* options");
        check.test = {"NONE"};
        return;
    }
    if (!flags.health_cmd.empty()) check.test = {"CMD-SHELL", flags.health_cmd};
    auto duration = [](const std::string& text, const std::string& flag, const char* what) {
        if (text.empty()) return std::int64_t{0};
        std::int64_t value = engine::parse_go_duration(text, flag);
        if (value != 0 && value < 1'000'000) fail(std::string(what) + " cannot be less than 1ms");
        return value;
    };
    check.interval_ns =
        duration(flags.health_interval, "--health-interval", "Interval in Healthcheck");
    check.timeout_ns = duration(flags.health_timeout, "--health-timeout", "Timeout in Healthcheck");
    check.start_period_ns =
        duration(flags.health_start_period, "--health-start-period", "StartPeriod in Healthcheck");
    if (flags.health_retries < 0) fail("--health-retries cannot be negative");
    check.retries = flags.health_retries;
}

} // namespace

engine::RunRequest finish_request(RunFlags& flags) {
    engine::RunRequest request = flags.request;
    // CLI11 leaves IMAGE and what follows in remaining() (prefix command).
    if (flags.image_and_command.empty())
        fail("\"run\" requires at least 1 argument: IMAGE [COMMAND] [ARG...]");
    // An unknown flag before IMAGE reaches here as IMAGE (CLI11's prefix
    // command): Docker's "unknown flag", not a pull of "--bogus".
    if (flags.image_and_command.front().starts_with("-"))
        fail("unknown flag: " + flags.image_and_command.front());
    request.image = flags.image_and_command.front();
    request.command.assign(flags.image_and_command.begin() + 1, flags.image_and_command.end());
    for (const auto& entry : flags.env) {
        if (entry.find('=') != std::string::npos) {
            request.env.push_back(entry);
        } else if (const char* value = std::getenv(entry.c_str())) {
            request.env.push_back(entry + "=" + value);
        }
    }
    if (flags.entrypoint_option && flags.entrypoint_option->count() > 0) {
        request.entrypoint_given = true;
        if (!flags.entrypoint.empty()) request.entrypoint = {flags.entrypoint};
    }
    for (const auto& option : flags.log_options) {
        auto equals = option.find('=');
        if (equals == std::string::npos || equals == 0)
            fail("invalid --log-opt " + option + ": expected key=value");
        request.log_options[option.substr(0, equals)] = option.substr(equals + 1);
    }
    if (!flags.memory.empty()) request.memory_bytes = engine::parse_memory_size(flags.memory);
    if (request.pids_limit < 0) request.pids_limit = 0;
    if (request.cpus < 0) fail("--cpus must not be negative");
    for (const auto& option : flags.security_options) {
        auto equals = option.find_first_of("=:");
        std::string key = option.substr(0, equals);
        std::string value = equals == std::string::npos ? "" : option.substr(equals + 1);
        if (key == "seccomp") {
            if (value == "unconfined")
                request.seccomp = "unconfined";
            else if (!value.empty())
                request.seccomp = with_context("reading the seccomp profile " + value,
                                               [&] { return read_file(value); });
            else
                fail("--security-opt seccomp: give unconfined or a profile file");
        } else if (key == "no-new-privileges") {
            if (value.empty() || value == "true")
                request.no_new_privileges = true;
            else if (value == "false")
                request.no_new_privileges = false;
            else
                fail("--security-opt no-new-privileges: use true or false");
        } else {
            fail("--security-opt " + option + ": berth supports seccomp= and no-new-privileges");
        }
    }
    finish_option_flags(flags.options, request);
    finish_health_flags(flags, request);
    return request;
}

} // namespace berth::cli
