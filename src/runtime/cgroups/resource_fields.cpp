#include "resource_fields.h"

#include "berth/base/error.h"

#include <limits>

namespace berth::runtime::cgroups {

bool Field::has(const char* key) const {
    return value_.is_object() && value_.contains(key) && !value_.at(key).is_null();
}

Field Field::at(const char* key) const {
    expect_object();
    auto found = value_.find(key);
    if (found == value_.end()) fail(path_ + "." + key + ": required");
    return Field(*found, path_ + "." + key);
}

std::vector<Field> Field::items(const char* key) const {
    std::vector<Field> out;
    if (!has(key)) return out;
    Field array = at(key);
    if (!array.value_.is_array()) array.wrong("an array");
    for (std::size_t i = 0; i < array.value_.size(); ++i)
        out.emplace_back(array.value_[i], array.path_ + "[" + std::to_string(i) + "]");
    return out;
}

std::vector<std::pair<std::string, Field>> Field::members(const char* key) const {
    std::vector<std::pair<std::string, Field>> out;
    if (!has(key)) return out;
    Field object = at(key);
    object.expect_object();
    for (auto it = object.value_.begin(); it != object.value_.end(); ++it)
        out.emplace_back(it.key(), Field(it.value(), object.path_ + "." + it.key()));
    return out;
}

std::int64_t Field::as_int64() const {
    if (value_.is_number_integer() && !value_.is_number_unsigned())
        return value_.get<std::int64_t>();
    if (value_.is_number_unsigned() &&
        value_.get<std::uint64_t>() <=
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return static_cast<std::int64_t>(value_.get<std::uint64_t>());
    wrong("a whole number from " + std::to_string(std::numeric_limits<std::int64_t>::min()) +
          " to " + std::to_string(std::numeric_limits<std::int64_t>::max()));
}

std::uint64_t Field::as_uint64() const {
    if (value_.is_number_unsigned()) return value_.get<std::uint64_t>();
    if (value_.is_number_integer() && value_.get<std::int64_t>() >= 0)
        return static_cast<std::uint64_t>(value_.get<std::int64_t>());
    wrong("a whole number from 0 to " + std::to_string(std::numeric_limits<std::uint64_t>::max()));
}

bool Field::as_bool() const {
    if (!value_.is_boolean()) wrong("true or false");
    return value_.get<bool>();
}

std::string Field::as_string() const {
    if (!value_.is_string()) wrong("a string");
    return value_.get<std::string>();
}

std::optional<std::int64_t> Field::int64_at(const char* key) const {
    if (!has(key)) return std::nullopt;
    return at(key).as_int64();
}

std::optional<std::uint64_t> Field::uint64_at(const char* key) const {
    if (!has(key)) return std::nullopt;
    return at(key).as_uint64();
}

std::optional<bool> Field::bool_at(const char* key) const {
    if (!has(key)) return std::nullopt;
    return at(key).as_bool();
}

std::optional<std::string> Field::string_at(const char* key) const {
    if (!has(key)) return std::nullopt;
    return at(key).as_string();
}

void Field::expect_object() const {
    if (!value_.is_object()) wrong("an object");
}

void Field::wrong(const std::string& expected) const {
    fail(path_ + ": expected " + expected);
}

} // namespace berth::runtime::cgroups
