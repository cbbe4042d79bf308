// Typed reads of linux.resources, whose values come from whoever wrote
// config.json: every error names the field ("linux.resources.cpu.shares:
// expected a whole number from 0 to 18446744073709551615").
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace berth::runtime::cgroups {

class Field {
  public:
    Field(const nlohmann::json& value, std::string path) : value_(value), path_(std::move(path)) {}

    const std::string& path() const { return path_; }
    const nlohmann::json& value() const { return value_; }

    // Present and not null; an absent or null field means "leave it alone".
    bool has(const char* key) const;
    Field at(const char* key) const;
    // The elements of an array field; none when it is absent.
    std::vector<Field> items(const char* key) const;
    // The members of an object field; none when it is absent.
    std::vector<std::pair<std::string, Field>> members(const char* key) const;

    std::int64_t as_int64() const;
    std::uint64_t as_uint64() const;
    bool as_bool() const;
    std::string as_string() const;

    std::optional<std::int64_t> int64_at(const char* key) const;
    std::optional<std::uint64_t> uint64_at(const char* key) const;
    std::optional<bool> bool_at(const char* key) const;
    std::optional<std::string> string_at(const char* key) const;

    void expect_object() const;
    [[noreturn]] void wrong(const std::string& expected) const;

  private:
    const nlohmann::json& value_;
    std::string path_;
};

} // namespace berth::runtime::cgroups
