// Docker's flag syntax for mounts, ulimits, restart policies and labels.
#include "berth/engine/container_options.h"

#include "berth/base/error.h"
#include "berth/base/text.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace berth::engine {

namespace {

using nlohmann::json;

const std::vector<std::string> propagations = {"private", "rprivate", "shared",
                                               "rshared", "slave",    "rslave"};

bool is_propagation(const std::string& word) {
    return std::find(propagations.begin(), propagations.end(), word) != propagations.end();
}

bool parse_int(std::string_view text, std::int64_t& value) {
    if (text.empty()) return false;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size();
}

void check_target(const std::string& spec, const std::string& target) {
    if (target.empty()) fail("invalid mount config for \"" + spec + "\": the target is required");
    if (target.front() != '/')
        fail("invalid mount config for \"" + spec + "\": invalid mount path: '" + target +
             "' mount path must be absolute");
    if (target == "/")
        fail("invalid mount config for \"" + spec +
             "\": invalid specification: destination "
             "can't be '/'");
}

bool truth(const std::string& spec, const std::string& key, const std::string& value) {
    if (value.empty() || value == "true" || value == "1") return true;
    if (value == "false" || value == "0") return false;
    fail("invalid value for " + key + " in --mount \"" + spec + "\": " + value);
}

} // namespace

bool is_valid_volume_name(const std::string& name) {
    if (name.size() < 2 || !std::isalnum(static_cast<unsigned char>(name[0]))) return false;
    return std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '_' || c == '.' || c == '-';
    });
}

MountRequest parse_volume_flag(const std::string& text) {
    auto parts = split(text, ':');
    if (parts.empty() || parts.size() > 3 || text.empty())
        fail("invalid volume specification: '" + text + "'");
    MountRequest mount;
    mount.type = "volume";
    if (parts.size() == 1) {
        mount.target = parts[0];
        mount.anonymous = true;
    } else {
        mount.source = parts[0];
        mount.target = parts[1];
        if (mount.source.empty()) fail("invalid volume specification: '" + text + "'");
        if (mount.source.front() == '/') {
            mount.type = "bind";
            mount.create_source = true;
        } else if (!is_valid_volume_name(mount.source)) {
            fail("\"" + mount.source +
                 "\" includes invalid characters for a local volume name, only "
                 "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
                 "directory, use absolute path");
        }
    }
    check_target(text, mount.target);
    if (parts.size() == 3) {
        bool mode_given = false;
        for (const auto& option : split(parts[2], ',')) {
            if (option == "ro" || option == "rw") {
                if (mode_given) fail("invalid mode: " + parts[2]);
                mode_given = true;
                mount.read_only = option == "ro";
            } else if (option == "z" || option == "Z") {
                // SELinux relabelling: nothing to do without SELinux.
            } else if (option == "nocopy" && mount.type == "volume") {
                mount.no_copy = true;
            } else if (is_propagation(option) && mount.type == "bind") {
                mount.propagation = option;
            } else {
                fail("invalid mode: " + parts[2]);
            }
        }
    }
    return mount;
}

MountRequest parse_mount_flag(const std::string& text) {
    MountRequest mount;
    mount.type = "volume"; // Docker's default type
    bool readonly_given = false;
    std::string tmpfs_size, tmpfs_mode;
    for (const auto& field : split(text, ',')) {
        auto equals = field.find('=');
        std::string key = field.substr(0, equals);
        std::string value = equals == std::string::npos ? "" : field.substr(equals + 1);
        std::transform(key.begin(), key.end(), key.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (key == "readonly" || key == "ro") {
            mount.read_only = truth(text, key, value);
            readonly_given = true;
            continue;
        }
        if (equals == std::string::npos)
            fail("invalid field '" + field + "' must be a key=value pair");
        if (key == "type") {
            if (value != "bind" && value != "volume" && value != "tmpfs")
                fail("invalid mount type \"" + value + "\": berth supports bind, volume and tmpfs");
            mount.type = value;
        } else if (key == "source" || key == "src") {
            mount.source = value;
        } else if (key == "target" || key == "destination" || key == "dst") {
            mount.target = value;
        } else if (key == "bind-propagation") {
            if (!is_propagation(value)) fail("invalid bind-propagation \"" + value + "\"");
            mount.propagation = value;
        } else if (key == "volume-nocopy") {
            mount.no_copy = truth(text, key, value);
        } else if (key == "tmpfs-size") {
            tmpfs_size = value;
        } else if (key == "tmpfs-mode") {
            tmpfs_mode = value;
        } else if (key == "consistency" || key == "bind-nonrecursive") {
            // Docker for Mac's hint, and an option berth does not need.
        } else {
            fail("unexpected key '" + key + "' in '" + field + "'");
        }
    }
    (void)readonly_given;
    check_target(text, mount.target);
    if (mount.type == "bind") {
        if (mount.source.empty())
            fail("invalid mount config for type \"bind\": field Source must not be empty");
        if (mount.source.front() != '/')
            fail("invalid mount config for type \"bind\": invalid mount path: '" + mount.source +
                 "' mount path must be absolute");
    } else if (mount.type == "volume") {
        if (!mount.propagation.empty())
            fail("invalid mount config for type \"volume\": bind-propagation does not apply");
        if (mount.source.empty())
            mount.anonymous = true;
        else if (!is_valid_volume_name(mount.source))
            fail("\"" + mount.source + "\" includes invalid characters for a local volume name");
    } else {
        if (!mount.source.empty())
            fail("invalid mount config for type \"tmpfs\": source must not be specified");
        if (!tmpfs_size.empty()) mount.tmpfs_options.push_back("size=" + tmpfs_size);
        if (!tmpfs_mode.empty()) mount.tmpfs_options.push_back("mode=" + tmpfs_mode);
    }
    if ((!tmpfs_size.empty() || !tmpfs_mode.empty()) && mount.type != "tmpfs")
        fail("invalid mount config for type \"" + mount.type + "\": tmpfs options do not apply");
    return mount;
}

MountRequest parse_tmpfs_flag(const std::string& text) {
    MountRequest mount;
    mount.type = "tmpfs";
    auto colon = text.find(':');
    mount.target = text.substr(0, colon);
    check_target(text, mount.target);
    // Docker's defaults for --tmpfs; options given after them win.
    mount.tmpfs_options = {"noexec", "nosuid", "nodev"};
    if (colon != std::string::npos) {
        for (const auto& option : split(text.substr(colon + 1), ',')) {
            if (option.empty()) continue;
            if (option == "ro") {
                mount.read_only = true;
            } else if (option == "rw") {
                mount.read_only = false;
            } else if (option == "exec" || option == "suid" || option == "dev") {
                std::erase(mount.tmpfs_options, "no" + option);
            } else if (option == "noexec" || option == "nosuid" || option == "nodev") {
                if (std::find(mount.tmpfs_options.begin(), mount.tmpfs_options.end(), option) ==
                    mount.tmpfs_options.end())
                    mount.tmpfs_options.push_back(option);
            } else if (option.starts_with("size=") || option.starts_with("mode=") ||
                       option.starts_with("uid=") || option.starts_with("gid=") ||
                       option.starts_with("nr_inodes=")) {
                mount.tmpfs_options.push_back(option);
            } else {
                fail("invalid tmpfs option \"" + option + "\" in --tmpfs " + text);
            }
        }
    }
    return mount;
}

Ulimit parse_ulimit(const std::string& text) {
    static const std::vector<std::string> names = {
        "as",   "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue",
        "nice", "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack"};
    auto equals = text.find('=');
    if (equals == std::string::npos)
        fail("invalid argument \"" + text + "\" for \"--ulimit\" flag: invalid ulimit argument");
    Ulimit limit;
    limit.name = text.substr(0, equals);
    if (std::find(names.begin(), names.end(), limit.name) == names.end())
        fail("invalid argument \"" + text +
             "\" for \"--ulimit\" flag: invalid ulimit type: " + limit.name);
    std::string values = text.substr(equals + 1);
    auto colon = values.find(':');
    std::string soft = values.substr(0, colon);
    std::string hard = colon == std::string::npos ? soft : values.substr(colon + 1);
    if (!parse_int(soft, limit.soft))
        fail("invalid argument \"" + text + "\" for \"--ulimit\" flag: invalid ulimit soft value " +
             soft);
    if (!parse_int(hard, limit.hard))
        fail("invalid argument \"" + text + "\" for \"--ulimit\" flag: invalid ulimit hard value " +
             hard);
    if (limit.soft > limit.hard && limit.hard != -1)
        fail("invalid argument \"" + text +
             "\" for \"--ulimit\" flag: ulimit soft limit must "
             "be less than or equal to hard limit: " +
             soft + " > " + hard);
    return limit;
}

RestartPolicy parse_restart_policy(const std::string& text) {
    RestartPolicy policy;
    auto colon = text.find(':');
    policy.name = text.substr(0, colon);
    if (policy.name.empty()) policy.name = "no";
    if (policy.name != "no" && policy.name != "always" && policy.name != "unless-stopped" &&
        policy.name != "on-failure")
        fail("invalid restart policy format: no such policy: " + policy.name +
             " (use no, always, unless-stopped or on-failure[:max-retries])");
    if (colon != std::string::npos) {
        if (policy.name != "on-failure")
            fail("invalid restart policy format: maximum retry count can only be used with "
                 "'on-failure'");
        std::int64_t count = 0;
        if (!parse_int(text.substr(colon + 1), count))
            fail("invalid restart policy format: maximum retry count must be an integer");
        if (count < 0)
            fail("invalid restart policy format: maximum retry count cannot be negative");
        if (count > 1000000) fail("invalid restart policy format: maximum retry count too large");
        policy.maximum_retries = static_cast<int>(count);
    }
    return policy;
}

std::pair<std::string, std::string> parse_label(const std::string& text) {
    auto equals = text.find('=');
    std::string key = text.substr(0, equals);
    if (key.empty()) fail("invalid label '" + text + "': empty name");
    return {key, equals == std::string::npos ? "" : text.substr(equals + 1)};
}

void check_cpuset(const std::string& text) {
    auto bad = [&] { fail("invalid value " + text + " for cpuset cpus"); };
    if (text.empty()) bad();
    for (const auto& range : split(text, ',')) {
        auto dash = range.find('-');
        std::int64_t low = 0, high = 0;
        if (!parse_int(range.substr(0, dash), low) || low < 0) bad();
        if (dash != std::string::npos && (!parse_int(range.substr(dash + 1), high) || high < low))
            bad();
    }
}

nlohmann::json to_json(const MountRequest& mount) {
    return {{"type", mount.type},
            {"source", mount.source},
            {"target", mount.target},
            {"read_only", mount.read_only},
            {"anonymous", mount.anonymous},
            {"create_source", mount.create_source},
            {"no_copy", mount.no_copy},
            {"propagation", mount.propagation},
            {"tmpfs_options", mount.tmpfs_options}};
}

void to_json(nlohmann::json& json, const ContainerOptions& options) {
    json = nlohmann::json::object();
    nlohmann::json mounts = nlohmann::json::array();
    for (const auto& mount : options.mounts)
        mounts.push_back(to_json(mount));
    nlohmann::json ulimits = nlohmann::json::array();
    for (const auto& limit : options.ulimits)
        ulimits.push_back({{"name", limit.name}, {"soft", limit.soft}, {"hard", limit.hard}});
    json["mounts"] = mounts;
    json["ulimits"] = ulimits;
    json["group_add"] = options.group_add;
    json["labels"] = options.labels;
    json["memory_swap"] = options.memory_swap;
    json["cpu_shares"] = options.cpu_shares;
    json["cpuset_cpus"] = options.cpuset_cpus;
    json["init"] = options.init;
    json["restart"] = {{"name", options.restart.name},
                       {"maximum_retries", options.restart.maximum_retries}};
}

void from_json(const nlohmann::json& json, ContainerOptions& options) {
    options = ContainerOptions();
    if (!json.is_object()) return;
    for (const auto& item : json.value("mounts", nlohmann::json::array())) {
        MountRequest mount;
        mount.type = item.value("type", "");
        mount.source = item.value("source", "");
        mount.target = item.value("target", "");
        mount.read_only = item.value("read_only", false);
        mount.anonymous = item.value("anonymous", false);
        mount.create_source = item.value("create_source", false);
        mount.no_copy = item.value("no_copy", false);
        mount.propagation = item.value("propagation", "");
        mount.tmpfs_options = item.value("tmpfs_options", std::vector<std::string>{});
        options.mounts.push_back(mount);
    }
    for (const auto& item : json.value("ulimits", nlohmann::json::array()))
        options.ulimits.push_back({item.value("name", ""), item.value("soft", std::int64_t{0}),
                                   item.value("hard", std::int64_t{0})});
    options.group_add = json.value("group_add", std::vector<std::string>{});
    options.labels = json.value("labels", std::map<std::string, std::string>{});
    options.memory_swap = json.value("memory_swap", std::int64_t{0});
    options.cpu_shares = json.value("cpu_shares", std::int64_t{0});
    options.cpuset_cpus = json.value("cpuset_cpus", "");
    options.init = json.value("init", false);
    auto restart = json.value("restart", nlohmann::json::object());
    options.restart.name = restart.value("name", "no");
    options.restart.maximum_retries = restart.value("maximum_retries", 0);
}

} // namespace berth::engine
