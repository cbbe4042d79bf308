#include "fake_cgroupfs.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace cgroups_test {

void make_cgroup(const std::filesystem::path& directory, std::initializer_list<const char*> files) {
    std::filesystem::create_directories(directory);
    for (const char* file : files)
        put(directory / file, "");
}

void put(const std::filesystem::path& file, const std::string& contents) {
    std::ofstream out(file, std::ios::trunc);
    out << contents;
    if (!out) throw std::runtime_error("writing " + file.string());
}

std::string contents(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error("reading " + file.string());
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string text = buffer.str();
    while (!text.empty() && text.back() == '\n')
        text.pop_back();
    return text;
}

} // namespace cgroups_test
