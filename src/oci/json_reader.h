// Reads typed fields out of untrusted JSON; every error names the field's path
// ("process.user.uid: expected a number from 0 to 4294967295").
#pragma once

#include "berth/base/error.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace berth::oci {

class JsonReader {
  public:
    JsonReader(const nlohmann::json& value, std::string path)
        : value_(value), path_(std::move(path)) {}

    const nlohmann::json& value() const { return value_; }
    const std::string& path() const { return path_; }

    bool has(const char* key) const {
        return value_.is_object() && value_.contains(key) && !value_.at(key).is_null();
    }
    // The field `key`; missing (or this not being an object) is an error naming it.
    JsonReader at(const char* key) const {
        if (!value_.is_object()) wrong("an object");
        auto found = value_.find(key);
        if (found == value_.end()) fail(child_path(key) + ": required");
        return JsonReader(*found, child_path(key));
    }

    [[noreturn]] void wrong(const std::string& expected) const {
        fail(path_ + ": expected " + expected);
    }

    void expect_object() const {
        if (!value_.is_object()) wrong("an object");
    }

    std::string as_string() const {
        if (!value_.is_string()) wrong("a string");
        return value_.get<std::string>();
    }
    bool as_bool() const {
        if (!value_.is_boolean()) wrong("true or false");
        return value_.get<bool>();
    }
    template <class Int> Int as_int() const {
        if (value_.is_number_unsigned()) {
            auto v = value_.get<std::uint64_t>();
            if (v <= static_cast<std::uint64_t>(std::numeric_limits<Int>::max()))
                return static_cast<Int>(v);
        } else if (value_.is_number_integer()) {
            auto v = value_.get<std::int64_t>();
            if (v >= static_cast<std::int64_t>(std::numeric_limits<Int>::min()) &&
                (v < 0 || static_cast<std::uint64_t>(v) <=
                              static_cast<std::uint64_t>(std::numeric_limits<Int>::max())))
                return static_cast<Int>(v);
        }
        wrong("a whole number from " + std::to_string(std::numeric_limits<Int>::min()) + " to " +
              std::to_string(std::numeric_limits<Int>::max()));
    }
    std::vector<std::string> as_strings() const {
        if (!value_.is_array()) wrong("an array of strings");
        std::vector<std::string> out;
        for (std::size_t i = 0; i < value_.size(); ++i)
            out.push_back(item(i).as_string());
        return out;
    }
    std::map<std::string, std::string> as_string_map() const {
        expect_object();
        std::map<std::string, std::string> out;
        for (auto& [key, entry] : value_.items())
            out[key] = JsonReader(entry, child_path(key.c_str())).as_string();
        return out;
    }
    std::size_t size() const {
        if (!value_.is_array()) wrong("an array");
        return value_.size();
    }
    JsonReader item(std::size_t index) const {
        return JsonReader(value_.at(index), path_ + "[" + std::to_string(index) + "]");
    }

    // Optional fields: absent or null gives the fallback.
    std::string string_or(const char* key, std::string fallback) const {
        return has(key) ? at(key).as_string() : fallback;
    }
    bool bool_or(const char* key, bool fallback) const {
        return has(key) ? at(key).as_bool() : fallback;
    }
    std::vector<std::string> strings_or_empty(const char* key) const {
        return has(key) ? at(key).as_strings() : std::vector<std::string>{};
    }
    template <class Int> std::optional<Int> optional_int(const char* key) const {
        if (!has(key)) return std::nullopt;
        return at(key).as_int<Int>();
    }

  private:
    std::string child_path(const char* key) const {
        return path_.empty() ? std::string(key) : path_ + "." + key;
    }

    const nlohmann::json& value_;
    std::string path_;
};

} // namespace berth::oci
