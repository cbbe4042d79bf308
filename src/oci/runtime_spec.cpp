#include "berth/oci/runtime_spec.h"

#include "json_reader.h"

#include <sys/resource.h>

namespace berth::oci {

namespace {

struct RlimitName {
    const char* name;
    int resource;
};

constexpr RlimitName rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

constexpr const char* namespace_types[] = {"pid", "network", "mount",  "ipc",
                                           "uts", "user",    "cgroup", "time"};

User parse_user(const JsonReader& in) {
    in.expect_object();
    User user;
    user.uid = in.at("uid").as_int<std::uint32_t>();
    user.gid = in.at("gid").as_int<std::uint32_t>();
    user.umask = in.optional_int<std::uint32_t>("umask");
    if (in.has("additionalGids")) {
        JsonReader gids = in.at("additionalGids");
        for (std::size_t i = 0; i < gids.size(); ++i)
            user.additional_gids.push_back(gids.item(i).as_int<std::uint32_t>());
    }
    return user;
}

Capabilities parse_capabilities(const JsonReader& in) {
    in.expect_object();
    Capabilities caps;
    caps.bounding = in.strings_or_empty("bounding");
    caps.effective = in.strings_or_empty("effective");
    caps.inheritable = in.strings_or_empty("inheritable");
    caps.permitted = in.strings_or_empty("permitted");
    caps.ambient = in.strings_or_empty("ambient");
    return caps;
}

Rlimit parse_rlimit(const JsonReader& in) {
    in.expect_object();
    Rlimit limit;
    limit.type = in.at("type").as_string();
    limit.resource = rlimit_resource(limit.type);
    if (limit.resource < 0) in.at("type").wrong("an RLIMIT_* name, not \"" + limit.type + "\"");
    limit.soft = in.at("soft").as_int<std::uint64_t>();
    limit.hard = in.at("hard").as_int<std::uint64_t>();
    return limit;
}

Process parse_process(const JsonReader& in) {
    in.expect_object();
    Process process;
    process.terminal = in.bool_or("terminal", false);
    if (in.has("consoleSize")) {
        JsonReader size = in.at("consoleSize");
        process.console_size =
            ConsoleSize{size.at("height").as_int<unsigned>(), size.at("width").as_int<unsigned>()};
    }
    if (in.has("user")) process.user = parse_user(in.at("user"));
    process.args = in.strings_or_empty("args");
    if (process.args.empty() && !in.has("commandLine"))
        in.wrong("\"args\" with at least one element");
    process.env = in.strings_or_empty("env");
    process.cwd = in.at("cwd").as_string();
    if (process.cwd.empty() || process.cwd[0] != '/')
        in.at("cwd").wrong("an absolute path, not \"" + process.cwd + "\"");
    if (in.has("capabilities")) process.capabilities = parse_capabilities(in.at("capabilities"));
    if (in.has("rlimits")) {
        JsonReader limits = in.at("rlimits");
        for (std::size_t i = 0; i < limits.size(); ++i)
            process.rlimits.push_back(parse_rlimit(limits.item(i)));
    }
    process.no_new_privileges = in.bool_or("noNewPrivileges", false);
    process.oom_score_adj = in.optional_int<int>("oomScoreAdj");
    process.apparmor_profile = in.string_or("apparmorProfile", "");
    if (in.has("ioPriority")) {
        JsonReader io = in.at("ioPriority");
        io.expect_object();
        process.io_priority =
            IoPriority{io.at("class").as_string(), io.optional_int<int>("priority").value_or(0)};
    }
    if (in.has("scheduler")) {
        JsonReader sched = in.at("scheduler");
        sched.expect_object();
        Scheduler scheduler;
        scheduler.policy = sched.at("policy").as_string();
        scheduler.nice = sched.optional_int<int>("nice").value_or(0);
        scheduler.priority = sched.optional_int<int>("priority").value_or(0);
        scheduler.flags = sched.strings_or_empty("flags");
        scheduler.runtime = sched.optional_int<std::uint64_t>("runtime").value_or(0);
        scheduler.deadline = sched.optional_int<std::uint64_t>("deadline").value_or(0);
        scheduler.period = sched.optional_int<std::uint64_t>("period").value_or(0);
        process.scheduler = scheduler;
    }
    process.selinux_label = in.string_or("selinuxLabel", "");
    return process;
}

Mount parse_mount(const JsonReader& in) {
    in.expect_object();
    Mount mount;
    mount.destination = in.at("destination").as_string();
    if (mount.destination.empty() || mount.destination[0] != '/')
        in.at("destination").wrong("an absolute path, not \"" + mount.destination + "\"");
    mount.type = in.string_or("type", "");
    mount.source = in.string_or("source", "");
    mount.options = in.strings_or_empty("options");
    return mount;
}

std::vector<Hook> parse_hooks(const JsonReader& in) {
    std::vector<Hook> hooks;
    for (std::size_t i = 0; i < in.size(); ++i) {
        JsonReader entry = in.item(i);
        entry.expect_object();
        Hook hook;
        hook.path = entry.at("path").as_string();
        if (hook.path.empty() || hook.path[0] != '/')
            entry.at("path").wrong("an absolute path, not \"" + hook.path + "\"");
        hook.args = entry.strings_or_empty("args");
        hook.env = entry.strings_or_empty("env");
        hook.timeout_seconds = entry.optional_int<int>("timeout");
        if (hook.timeout_seconds && *hook.timeout_seconds <= 0)
            entry.at("timeout").wrong("a number of seconds above zero");
        hooks.push_back(std::move(hook));
    }
    return hooks;
}

Hooks parse_all_hooks(const JsonReader& in) {
    in.expect_object();
    Hooks hooks;
    auto read = [&](const char* key, std::vector<Hook>& into) {
        if (in.has(key)) into = parse_hooks(in.at(key));
    };
    read("prestart", hooks.prestart);
    read("createRuntime", hooks.create_runtime);
    read("createContainer", hooks.create_container);
    read("startContainer", hooks.start_container);
    read("poststart", hooks.poststart);
    read("poststop", hooks.poststop);
    return hooks;
}

std::vector<IdMapping> parse_id_mappings(const JsonReader& in) {
    std::vector<IdMapping> mappings;
    for (std::size_t i = 0; i < in.size(); ++i) {
        JsonReader entry = in.item(i);
        entry.expect_object();
        mappings.push_back({entry.at("containerID").as_int<std::uint32_t>(),
                            entry.at("hostID").as_int<std::uint32_t>(),
                            entry.at("size").as_int<std::uint32_t>()});
    }
    return mappings;
}

Device parse_device(const JsonReader& in) {
    in.expect_object();
    Device device;
    device.type = in.at("type").as_string();
    if (device.type != "c" && device.type != "b" && device.type != "u" && device.type != "p")
        in.at("type").wrong("one of \"c\", \"b\", \"u\", \"p\"");
    device.path = in.at("path").as_string();
    if (device.path.empty() || device.path[0] != '/') in.at("path").wrong("an absolute path");
    if (device.type != "p") {
        device.major = in.at("major").as_int<std::int64_t>();
        device.minor = in.at("minor").as_int<std::int64_t>();
    }
    device.file_mode = in.optional_int<std::uint32_t>("fileMode");
    device.uid = in.optional_int<std::uint32_t>("uid");
    device.gid = in.optional_int<std::uint32_t>("gid");
    return device;
}

Linux parse_linux(const JsonReader& in) {
    in.expect_object();
    Linux linux;
    if (in.has("namespaces")) {
        JsonReader list = in.at("namespaces");
        for (std::size_t i = 0; i < list.size(); ++i) {
            JsonReader entry = list.item(i);
            entry.expect_object();
            Namespace ns{entry.at("type").as_string(), entry.string_or("path", "")};
            bool known = false;
            for (const char* type : namespace_types)
                known |= ns.type == type;
            if (!known) entry.at("type").wrong("a namespace type, not \"" + ns.type + "\"");
            if (linux.find_namespace(ns.type))
                entry.at("type").wrong("each namespace type once; \"" + ns.type + "\" repeats");
            linux.namespaces.push_back(std::move(ns));
        }
    }
    if (in.has("uidMappings")) linux.uid_mappings = parse_id_mappings(in.at("uidMappings"));
    if (in.has("gidMappings")) linux.gid_mappings = parse_id_mappings(in.at("gidMappings"));
    if (in.has("devices")) {
        JsonReader list = in.at("devices");
        for (std::size_t i = 0; i < list.size(); ++i)
            linux.devices.push_back(parse_device(list.item(i)));
    }
    if (in.has("sysctl")) linux.sysctl = in.at("sysctl").as_string_map();
    linux.masked_paths = in.strings_or_empty("maskedPaths");
    linux.readonly_paths = in.strings_or_empty("readonlyPaths");
    linux.rootfs_propagation = in.string_or("rootfsPropagation", "");
    linux.cgroups_path = in.string_or("cgroupsPath", "");
    linux.mount_label = in.string_or("mountLabel", "");
    if (in.has("timeOffsets")) {
        JsonReader offsets = in.at("timeOffsets");
        offsets.expect_object();
        for (auto& [clock, value] : offsets.value().items()) {
            if (clock != "monotonic" && clock != "boottime")
                offsets.wrong("only \"monotonic\" and \"boottime\" clocks");
            JsonReader entry(value, offsets.path() + "." + clock);
            entry.expect_object();
            TimeOffset offset;
            offset.secs = entry.optional_int<std::int64_t>("secs").value_or(0);
            offset.nanosecs = entry.optional_int<std::uint32_t>("nanosecs").value_or(0);
            linux.time_offsets[clock] = offset;
        }
    }
    if (in.has("resources")) linux.resources = in.at("resources").value();
    if (in.has("seccomp")) linux.seccomp = in.at("seccomp").value();
    if (in.has("intelRdt")) linux.intel_rdt = in.at("intelRdt").value();
    if (in.has("personality")) {
        JsonReader personality = in.at("personality");
        personality.expect_object();
        linux.personality_domain = personality.at("domain").as_string();
        if (linux.personality_domain != "LINUX" && linux.personality_domain != "LINUX32")
            personality.at("domain").wrong("\"LINUX\" or \"LINUX32\"");
        linux.personality_flags = personality.strings_or_empty("flags");
    }
    return linux;
}

void check_consistency(const Spec& spec) {
    const Namespace* user_ns = spec.linux.find_namespace("user");
    bool new_user_ns = user_ns && user_ns->path.empty();
    if (new_user_ns && (spec.linux.uid_mappings.empty() || spec.linux.gid_mappings.empty()))
        fail("linux.uidMappings and linux.gidMappings: required with a new user namespace");
    if (!user_ns && (!spec.linux.uid_mappings.empty() || !spec.linux.gid_mappings.empty()))
        fail("linux.uidMappings: given without a user namespace in linux.namespaces");
    const Namespace* uts_ns = spec.linux.find_namespace("uts");
    if (!spec.hostname.empty() && !uts_ns)
        fail("hostname: setting it needs a uts namespace in linux.namespaces");
    if (!spec.linux.time_offsets.empty() && !spec.linux.find_namespace("time"))
        fail("linux.timeOffsets: needs a time namespace in linux.namespaces");
    if (!spec.linux.find_namespace("mount") && !spec.mounts.empty())
        fail("mounts: need a mount namespace in linux.namespaces");
}

} // namespace

const Namespace* Linux::find_namespace(std::string_view type) const {
    for (const auto& ns : namespaces)
        if (ns.type == type) return &ns;
    return nullptr;
}

int rlimit_resource(std::string_view name) {
    for (const auto& entry : rlimit_names)
        if (name == entry.name) return entry.resource;
    return -1;
}

Process parse_process_json(std::string_view json_text) {
    nlohmann::json document = nlohmann::json::parse(json_text, nullptr, false);
    if (document.is_discarded()) fail("process.json is not valid JSON");
    return parse_process(JsonReader(document, "process"));
}

Spec parse_spec(std::string_view json_text) {
    nlohmann::json document = nlohmann::json::parse(json_text, nullptr, false);
    if (document.is_discarded()) fail("config.json is not valid JSON");
    JsonReader in(document, "");
    if (!document.is_object()) fail("config.json: expected a JSON object");
    Spec spec;
    spec.oci_version = in.at("ociVersion").as_string();
    if (spec.oci_version.rfind("1.", 0) != 0)
        fail("ociVersion: this runtime implements 1.x, not \"" + spec.oci_version + "\"");
    if (in.has("process")) spec.process = parse_process(in.at("process"));
    if (!in.has("root")) fail("root: required on Linux");
    JsonReader root = in.at("root");
    root.expect_object();
    spec.root.path = root.at("path").as_string();
    spec.root.readonly = root.bool_or("readonly", false);
    spec.hostname = in.string_or("hostname", "");
    spec.domainname = in.string_or("domainname", "");
    if (in.has("mounts")) {
        JsonReader mounts = in.at("mounts");
        for (std::size_t i = 0; i < mounts.size(); ++i)
            spec.mounts.push_back(parse_mount(mounts.item(i)));
    }
    if (in.has("hooks")) spec.hooks = parse_all_hooks(in.at("hooks"));
    if (in.has("annotations")) spec.annotations = in.at("annotations").as_string_map();
    if (in.has("linux")) spec.linux = parse_linux(in.at("linux"));
    check_consistency(spec);
    return spec;
}

} // namespace berth::oci
