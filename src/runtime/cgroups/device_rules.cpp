#include "device_rules.h"

#include "berth/base/error.h"

#include <algorithm>

namespace berth::runtime::cgroups {

namespace {

unsigned parse_access(const Field& field) {
    std::string text = field.as_string();
    // Absent or empty access means all of it, as in runc.
    if (text.empty()) return access_mknod | access_read | access_write;
    unsigned access = 0;
    for (char c : text) {
        if (c == 'r')
            access |= access_read;
        else if (c == 'w')
            access |= access_write;
        else if (c == 'm')
            access |= access_mknod;
        else
            field.wrong("letters from \"rwm\"");
    }
    return access;
}

std::int64_t parse_number(const Field& rule, const char* key) {
    auto value = rule.int64_at(key);
    if (!value) return -1;
    // -1 is how some producers write "any"; other negatives are mistakes.
    if (*value < -1 || *value > 0xffffffffLL)
        rule.at(key).wrong("a device number from 0 to 4294967295 (or -1 for any)");
    return *value;
}

std::string access_letters(unsigned access) {
    std::string letters;
    if (access & access_read) letters += 'r';
    if (access & access_write) letters += 'w';
    if (access & access_mknod) letters += 'm';
    return letters;
}

bool same_device(const DeviceException& a, const DeviceRule& b) {
    return a.type == b.type && a.major == b.major && a.minor == b.minor;
}

} // namespace

std::vector<DeviceRule> parse_device_rules(const Field& resources) {
    std::vector<DeviceRule> rules;
    for (const Field& item : resources.items("devices")) {
        item.expect_object();
        DeviceRule rule;
        rule.allow = item.at("allow").as_bool();
        std::string type = item.string_at("type").value_or("a");
        if (type != "a" && type != "b" && type != "c")
            item.at("type").wrong("\"a\", \"b\" or \"c\"");
        rule.type = type[0];
        rule.major = parse_number(item, "major");
        rule.minor = parse_number(item, "minor");
        if (item.has("access")) rule.access = parse_access(item.at("access"));
        rules.push_back(rule);
    }
    return rules;
}

std::string v1_device_line(const DeviceRule& rule) {
    auto number = [](std::int64_t n) { return n < 0 ? std::string("*") : std::to_string(n); };
    return std::string(1, rule.type) + " " + number(rule.major) + ":" + number(rule.minor) + " " +
           access_letters(rule.access);
}

DevicePolicy device_policy(const std::vector<DeviceRule>& rules) {
    DevicePolicy policy;
    for (const DeviceRule& rule : rules) {
        if (rule.type == 'a') {
            // The kernel reads any "a" line as "all devices", whatever follows.
            policy.allow_by_default = rule.allow;
            policy.exceptions.clear();
            continue;
        }
        auto& exceptions = policy.exceptions;
        auto existing =
            std::find_if(exceptions.begin(), exceptions.end(),
                         [&](const DeviceException& e) { return same_device(e, rule); });
        if (rule.allow != policy.allow_by_default) {
            // An exception to the default: merged with one for the same devices.
            if (existing != exceptions.end())
                existing->access |= rule.access;
            else
                exceptions.push_back({rule.type, rule.major, rule.minor, rule.access});
        } else if (existing != exceptions.end()) {
            // Agrees with the default: takes that access back from the exception.
            existing->access &= ~rule.access;
            if (existing->access == 0) exceptions.erase(existing);
        }
    }
    return policy;
}

} // namespace berth::runtime::cgroups
