// Fuzz target: Dockerfiles and .dockerignore files come from whoever wrote
// the build context. Any bytes must parse or end in a berth::Error, never a
// crash or a hang; so must variable substitution of every argument.
#include "berth/base/error.h"
#include "berth/build/add_source.h"
#include "berth/build/dockerfile.h"
#include "berth/build/dockerignore.h"
#include "berth/build/run_mount.h"
#include "berth/build/shell_words.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    const berth::build::VariableLookup lookup =
        [](const std::string& name) -> std::optional<std::string> {
        if (name.size() % 2) return std::nullopt;
        return name + "-value";
    };
    try {
        auto file = berth::build::parse_dockerfile(text);
        for (const auto& instruction : file.instructions) {
            try {
                berth::build::expand_words(instruction.arguments, lookup, file.escape);
            } catch (const berth::Error&) {
            }
            for (const auto& flag : instruction.flags) {
                if (!flag.value) continue;
                try {
                    if (flag.name == "mount")
                        berth::build::describe(berth::build::parse_run_mount(*flag.value));
                    else if (flag.name == "checksum")
                        berth::build::parse_checksum(*flag.value);
                } catch (const berth::Error&) {
                }
            }
            // ADD/COPY sources: URLs, git repositories, --parents pivots.
            if (instruction.keyword == "ADD" || instruction.keyword == "COPY") {
                for (const auto& word : berth::build::split_quoted_words(instruction.arguments)) {
                    berth::build::is_git_url(word);
                    if (berth::build::is_remote_url(word)) berth::build::url_file_name(word);
                    try {
                        berth::build::split_parents_pivot(word);
                    } catch (const berth::Error&) {
                    }
                }
            }
        }
    } catch (const berth::Error&) {
    }
    berth::build::parse_http_date(text.substr(0, 100));
    try {
        berth::build::parse_secret_flag(text.substr(0, 300));
    } catch (const berth::Error&) {
    }
    try {
        berth::build::IgnoreRules rules(text);
        rules.excluded("a/b/c.txt");
        rules.excluded(text.substr(0, 200));
    } catch (const berth::Error&) {
    }
    return 0;
}
