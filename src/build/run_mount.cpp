// RUN --mount and --secret option lists.
#include "berth/build/run_mount.h"

#include "berth/base/error.h"

#include <cctype>
#include <charconv>
#include <vector>

namespace berth::build {

namespace {

struct Option {
    std::string key;
    std::string value;
    bool bare = false; // `ro` rather than `ro=true`
};

std::vector<Option> split_options(std::string_view text, const std::string& what) {
    std::vector<Option> options;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t comma = text.find(',', start);
        std::string_view field = text.substr(
            start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        start = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
        if (field.empty()) continue;
        Option option;
        std::size_t equals = field.find('=');
        option.key = std::string(field.substr(0, equals));
        for (auto& c : option.key)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (equals == std::string_view::npos)
            option.bare = true;
        else
            option.value = std::string(field.substr(equals + 1));
        if (option.key.empty()) fail(what + ": empty option name in \"" + std::string(text) + "\"");
        options.push_back(std::move(option));
    }
    return options;
}

bool parse_bool(const Option& option, const std::string& what) {
    if (option.bare || option.value == "true" || option.value == "1") return true;
    if (option.value == "false" || option.value == "0") return false;
    fail(what + ": " + option.key + "=" + option.value + ": expected true or false");
}

std::uint32_t parse_number(const Option& option, int base, std::uint32_t limit,
                           const std::string& what) {
    std::uint32_t number = 0;
    const char* first = option.value.data();
    const char* last = first + option.value.size();
    auto [end, error] = std::from_chars(first, last, number, base);
    if (option.value.empty() || error != std::errc() || end != last || number > limit)
        fail(what + ": " + option.key + "=" + option.value + ": expected a" +
             (base == 8 ? "n octal mode" : " number"));
    return number;
}

std::int64_t parse_size(const std::string& text, const std::string& what) {
    std::int64_t number = 0;
    const char* first = text.data();
    const char* last = first + text.size();
    auto [end, error] = std::from_chars(first, last, number);
    if (text.empty() || error != std::errc() || number < 0) fail(what + ": bad size " + text);
    std::string_view unit(end, static_cast<std::size_t>(last - end));
    std::int64_t scale = 1;
    if (unit == "" || unit == "b")
        scale = 1;
    else if (unit == "k" || unit == "kb")
        scale = 1024;
    else if (unit == "m" || unit == "mb")
        scale = 1024 * 1024;
    else if (unit == "g" || unit == "gb")
        scale = 1024LL * 1024 * 1024;
    else
        fail(what + ": bad size " + text);
    if (number > (std::int64_t{1} << 50) / scale) fail(what + ": size too large: " + text);
    return number * scale;
}

std::string base_name(const std::string& path) {
    std::string trimmed = path;
    while (trimmed.size() > 1 && trimmed.back() == '/')
        trimmed.pop_back();
    auto slash = trimmed.rfind('/');
    return slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
}

} // namespace

RunMount parse_run_mount(std::string_view text) {
    const std::string what = "--mount=" + std::string(text);
    RunMount mount;
    std::optional<bool> read_only;
    auto options = split_options(text, what);
    for (const auto& option : options) {
        if (option.key != "type") continue;
        if (option.value == "bind")
            mount.type = RunMount::Type::bind;
        else if (option.value == "cache")
            mount.type = RunMount::Type::cache;
        else if (option.value == "tmpfs")
            mount.type = RunMount::Type::tmpfs;
        else if (option.value == "secret")
            mount.type = RunMount::Type::secret;
        else if (option.value == "ssh")
            fail(what + ": type=ssh is not supported yet");
        else
            fail(what + ": unknown type \"" + option.value + "\" (bind, cache, tmpfs or secret)");
    }
    using Type = RunMount::Type;
    const Type type = mount.type;
    for (const auto& option : options) {
        const std::string& key = option.key;
        auto only_for = [&](std::initializer_list<Type> types) {
            for (Type allowed : types)
                if (allowed == type) return;
            fail(what + ": " + key + " does not apply to this mount type");
        };
        if (key == "type") continue;
        if (key == "target" || key == "dst" || key == "destination") {
            mount.target = option.value;
        } else if (key == "source" || key == "src") {
            only_for({Type::bind, Type::cache, Type::secret});
            mount.source = option.value;
        } else if (key == "from") {
            only_for({Type::bind, Type::cache});
            mount.from = option.value;
        } else if (key == "id") {
            only_for({Type::cache, Type::secret});
            mount.id = option.value;
        } else if (key == "ro" || key == "readonly") {
            read_only = parse_bool(option, what);
        } else if (key == "rw" || key == "readwrite") {
            read_only = !parse_bool(option, what);
        } else if (key == "sharing") {
            only_for({Type::cache});
            if (option.value != "shared" && option.value != "private" && option.value != "locked")
                fail(what + ": sharing=" + option.value + ": use shared, private or locked");
            mount.sharing = option.value;
        } else if (key == "uid") {
            only_for({Type::cache, Type::secret});
            mount.uid = parse_number(option, 10, 0xfffffffe, what);
        } else if (key == "gid") {
            only_for({Type::cache, Type::secret});
            mount.gid = parse_number(option, 10, 0xfffffffe, what);
        } else if (key == "mode") {
            only_for({Type::cache, Type::secret});
            mount.mode = parse_number(option, 8, 07777, what);
        } else if (key == "required") {
            only_for({Type::secret});
            mount.required = parse_bool(option, what);
        } else if (key == "size") {
            only_for({Type::tmpfs});
            mount.size = parse_size(option.value, what);
        } else if (key == "env") {
            fail(what + ": env= (a secret as a variable) is not supported yet");
        } else {
            fail(what + ": unknown option \"" + key + "\"");
        }
    }
    if (type == Type::secret) {
        if (mount.id.empty() && mount.target.empty())
            fail(what + ": a secret needs id= or target=");
        if (mount.id.empty()) mount.id = base_name(mount.target);
        if (mount.target.empty()) mount.target = "/run/secrets/" + mount.id;
        if (read_only == false) fail(what + ": a secret is always read-only");
        mount.read_only = true;
        return mount;
    }
    if (mount.target.empty()) fail(what + ": target= is required");
    if (type == Type::bind) mount.read_only = read_only.value_or(true);
    if (type == Type::cache) {
        mount.read_only = read_only.value_or(false);
        if (mount.id.empty()) mount.id = mount.target;
        if (!mount.from.empty()) fail(what + ": a cache seeded from= is not supported yet");
    }
    return mount;
}

std::string describe(const RunMount& mount) {
    static const char* const names[] = {"bind", "cache", "tmpfs", "secret"};
    std::string text = std::string("type=") + names[static_cast<int>(mount.type)] +
                       ",target=" + mount.target + ",source=" + mount.source +
                       ",from=" + mount.from + ",id=" + mount.id +
                       ",ro=" + (mount.read_only ? "1" : "0") + ",sharing=" + mount.sharing;
    if (mount.uid) text += ",uid=" + std::to_string(*mount.uid);
    if (mount.gid) text += ",gid=" + std::to_string(*mount.gid);
    if (mount.mode) text += ",mode=" + std::to_string(*mount.mode);
    if (mount.size) text += ",size=" + std::to_string(*mount.size);
    if (mount.required) text += ",required";
    return text;
}

SecretSource parse_secret_flag(std::string_view text) {
    const std::string what = "--secret " + std::string(text);
    SecretSource secret;
    for (const auto& option : split_options(text, what)) {
        if (option.key == "id")
            secret.id = option.value;
        else if (option.key == "src" || option.key == "source")
            secret.path = option.value;
        else if (option.key == "type") {
            if (option.value != "file")
                fail(what + ": type=" + option.value + " is not supported yet (only file)");
        } else if (option.key == "env")
            fail(what + ": env= is not supported yet: give the secret as a file with src=");
        else
            fail(what + ": unknown option \"" + option.key + "\"");
    }
    if (secret.path.empty()) fail(what + ": src= is required (a file holding the secret)");
    if (secret.id.empty()) secret.id = base_name(secret.path);
    if (secret.id.empty() || secret.id.find('/') != std::string::npos)
        fail(what + ": bad id \"" + secret.id + "\"");
    return secret;
}

} // namespace berth::build
