// argv/envp for execve from strings that outlive the call.
#pragma once

#include <string>
#include <vector>

namespace berth {

inline std::vector<char*> c_string_array(const std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (const auto& s : strings)
        out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

} // namespace berth
