#include "mount_options.h"

#include "berth/base/error.h"

#include <string_view>
#include <sys/mount.h>

namespace berth::runtime {

namespace {

struct AttrOption {
    std::string_view name;
    bool clear; // "rw" clears what "ro" sets
    std::uint64_t attr;
};

// The atime settings are one field of three values, handled apart.
constexpr AttrOption attr_options[] = {
    {"ro", false, MOUNT_ATTR_RDONLY},
    {"rw", true, MOUNT_ATTR_RDONLY},
    {"nosuid", false, MOUNT_ATTR_NOSUID},
    {"suid", true, MOUNT_ATTR_NOSUID},
    {"nodev", false, MOUNT_ATTR_NODEV},
    {"dev", true, MOUNT_ATTR_NODEV},
    {"noexec", false, MOUNT_ATTR_NOEXEC},
    {"exec", true, MOUNT_ATTR_NOEXEC},
    {"nodiratime", false, MOUNT_ATTR_NODIRATIME},
    {"diratime", true, MOUNT_ATTR_NODIRATIME},
    {"nosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW},
    {"symfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

struct AtimeOption {
    std::string_view name;
    std::uint64_t value;
};

constexpr AtimeOption atime_options[] = {
    {"relatime", MOUNT_ATTR_RELATIME},       {"norelatime", MOUNT_ATTR_RELATIME},
    {"noatime", MOUNT_ATTR_NOATIME},         {"atime", MOUNT_ATTR_RELATIME},
    {"strictatime", MOUNT_ATTR_STRICTATIME}, {"nostrictatime", MOUNT_ATTR_RELATIME},
};

struct PropagationOption {
    std::string_view name;
    unsigned long flag;
    bool recursive;
};

constexpr PropagationOption propagation_options[] = {
    {"private", MS_PRIVATE, false},       {"rprivate", MS_PRIVATE, true},
    {"shared", MS_SHARED, false},         {"rshared", MS_SHARED, true},
    {"slave", MS_SLAVE, false},           {"rslave", MS_SLAVE, true},
    {"unbindable", MS_UNBINDABLE, false}, {"runbindable", MS_UNBINDABLE, true},
};

// Options that ask for behaviour this runtime does not have; refusing them is
// better than mounting something other than what was asked.
constexpr std::string_view unsupported_options[] = {
    "idmap", "ridmap", "tmpcopyup", "copy-symlink", "src-nofollow", "dest-nofollow"};

bool apply_attr(std::string_view name, std::uint64_t& set, std::uint64_t& clear) {
    for (const auto& option : attr_options) {
        if (name != option.name) continue;
        (option.clear ? clear : set) |= option.attr;
        (option.clear ? set : clear) &= ~option.attr;
        return true;
    }
    for (const auto& option : atime_options) {
        if (name != option.name) continue;
        set = (set & ~MOUNT_ATTR__ATIME) | option.value;
        clear |= MOUNT_ATTR__ATIME;
        return true;
    }
    return false;
}

} // namespace

MountOptions parse_mount_options(const std::vector<std::string>& options) {
    MountOptions out;
    for (const std::string& option : options) {
        std::string_view name = option;
        if (name == "bind") {
            out.bind = true;
            continue;
        }
        if (name == "rbind") {
            out.bind = out.recursive_bind = true;
            continue;
        }
        if (name == "remount" || name == "defaults" || name == "async" || name == "nomand" ||
            name.empty())
            continue;
        if (apply_attr(name, out.attr_set, out.attr_clear)) continue;
        if (name.size() > 1 && name[0] == 'r' &&
            apply_attr(name.substr(1), out.recursive_attr_set, out.recursive_attr_clear))
            continue;
        bool is_propagation = false;
        for (const auto& option_entry : propagation_options) {
            if (name != option_entry.name) continue;
            out.propagation = option_entry.flag;
            out.recursive_propagation = option_entry.recursive;
            is_propagation = true;
        }
        if (is_propagation) continue;
        for (std::string_view unsupported : unsupported_options)
            if (name == unsupported) fail("mount option \"" + option + "\" is not supported");
        auto equals = option.find('=');
        if (equals == std::string::npos)
            out.data.emplace_back(option, "");
        else
            out.data.emplace_back(option.substr(0, equals), option.substr(equals + 1));
    }
    return out;
}

unsigned long parse_propagation(const std::string& value) {
    for (const auto& option : propagation_options)
        if (value == option.name) return option.flag | (option.recursive ? MS_REC : 0);
    fail("linux.rootfsPropagation: unknown value \"" + value + "\"");
}

} // namespace berth::runtime
