#include "berth/base/error.h"
#include "berth/image/archive.h"
#include "berth/image/decompress.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <ctime>

namespace berth::image {

namespace {

std::string trim(std::string_view text) {
    auto begin = text.find_first_not_of(" \t");
    if (begin == std::string_view::npos) return {};
    auto end = text.find_last_not_of(" \t");
    return std::string(text.substr(begin, end - begin + 1));
}

std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> words;
    std::string word;
    for (char c : text) {
        if (c == ' ' || c == '\t') {
            if (!word.empty()) words.push_back(std::move(word));
            word.clear();
        } else {
            word += c;
        }
    }
    if (!word.empty()) words.push_back(word);
    return words;
}

// The JSON form ["a", "b"], or nullopt for anything else.
std::optional<std::vector<std::string>> json_array(const std::string& text) {
    if (text.empty() || text.front() != '[') return std::nullopt;
    auto value = nlohmann::json::parse(text, nullptr, false);
    if (value.is_discarded() || !value.is_array()) return std::nullopt;
    std::vector<std::string> items;
    for (const auto& item : value) {
        if (!item.is_string()) return std::nullopt;
        items.push_back(item.get<std::string>());
    }
    return items;
}

// CMD and ENTRYPOINT: the exec form as given, the shell form through /bin/sh -c.
std::vector<std::string> command_form(const std::string& argument) {
    if (auto items = json_array(argument)) return *items;
    return {"/bin/sh", "-c", argument};
}

// "KEY=value KEY2=value2" or the old "KEY value with spaces".
std::vector<std::pair<std::string, std::string>> key_values(const std::string& argument,
                                                            const char* instruction) {
    std::vector<std::pair<std::string, std::string>> pairs;
    auto first_space = argument.find_first_of(" \t");
    auto first_equals = argument.find('=');
    if (first_equals == std::string::npos || first_equals > first_space) {
        if (first_space == std::string::npos)
            fail(std::string(instruction) + " needs a name and a value");
        pairs.emplace_back(argument.substr(0, first_space), trim(argument.substr(first_space)));
        return pairs;
    }
    for (const auto& word : split_words(argument)) {
        auto equals = word.find('=');
        if (equals == std::string::npos || equals == 0)
            fail(std::string(instruction) + ": \"" + word + "\" is not NAME=value");
        std::string value = word.substr(equals + 1);
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            value = value.substr(1, value.size() - 2);
        pairs.emplace_back(word.substr(0, equals), value);
    }
    return pairs;
}

void set_env(std::vector<std::string>& env, const std::string& key, const std::string& value) {
    std::string entry = key + "=" + value;
    for (auto& existing : env)
        if (existing.rfind(key + "=", 0) == 0) {
            existing = entry;
            return;
        }
    env.push_back(entry);
}

void add_unique(std::vector<std::string>& list, const std::string& item) {
    if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

} // namespace

void apply_change(oci::ContainerConfig& config, const std::string& instruction) {
    std::string text = trim(instruction);
    auto space = text.find_first_of(" \t");
    std::string keyword = text.substr(0, space);
    std::transform(keyword.begin(), keyword.end(), keyword.begin(), ::toupper);
    std::string argument = space == std::string::npos ? "" : trim(text.substr(space));
    with_context("--change \"" + text + "\"", [&] {
        if (argument.empty()) fail(keyword + " needs an argument");
        if (keyword == "CMD") {
            config.cmd = command_form(argument);
        } else if (keyword == "ENTRYPOINT") {
            config.entrypoint = command_form(argument);
        } else if (keyword == "ENV") {
            for (auto& [key, value] : key_values(argument, "ENV"))
                set_env(config.env, key, value);
        } else if (keyword == "LABEL") {
            for (auto& [key, value] : key_values(argument, "LABEL"))
                config.labels[key] = value;
        } else if (keyword == "EXPOSE") {
            for (auto port : split_words(argument)) {
                if (port.find('/') == std::string::npos) port += "/tcp";
                add_unique(config.exposed_ports, port);
            }
        } else if (keyword == "VOLUME") {
            auto items = json_array(argument);
            for (const auto& volume : items ? *items : split_words(argument))
                add_unique(config.volumes, volume);
        } else if (keyword == "USER") {
            config.user = argument;
        } else if (keyword == "WORKDIR") {
            config.working_dir = argument;
        } else if (keyword == "STOPSIGNAL") {
            config.stop_signal = argument;
        } else {
            fail("unsupported instruction " + keyword +
                 " (use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL)");
        }
    });
}

std::string creation_time() {
    std::time_t now = std::time(nullptr);
    if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch && *epoch)
        now = static_cast<std::time_t>(std::strtoll(epoch, nullptr, 10));
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

Image import_tarball(ImageStore& store, ByteSource& tarball, const std::vector<std::string>& names,
                     const ImportOptions& options) {
    return with_context(
        "importing " + (options.source_name.empty() ? "-" : options.source_name), [&] {
            oci::ImageConfig config;
            for (const auto& change : options.changes)
                apply_change(config.config, change);

            oci::Digest blob = store.blobs().ingest(tarball);
            UniqueFd fd = store.blobs().open(blob);
            char head[compression_magic_size] = {};
            ssize_t got = ::pread(fd.get(), head, sizeof head, 0);
            oci::Compression compression = detect_compression(
                std::string_view(head, got > 0 ? static_cast<std::size_t>(got) : 0));
            oci::Descriptor layer;
            layer.media_type =
                compression == oci::Compression::gzip   ? oci::media_type::oci_layer_gzip
                : compression == oci::Compression::zstd ? oci::media_type::oci_layer_zstd
                                                        : oci::media_type::oci_layer;
            layer.digest = blob;
            layer.size = static_cast<std::int64_t>(store.blobs().size(blob));

            oci::Platform platform = oci::host_platform();
            config.architecture = platform.architecture;
            config.os = platform.os;
            config.variant = platform.variant;
            config.created = creation_time();
            config.diff_ids = {store.unpack_bottom_layer(layer)};
            config.history.push_back(oci::HistoryEntry{
                config.created, "", "",
                options.message.empty()
                    ? "Imported from " + (options.source_name.empty() ? "-" : options.source_name)
                    : options.message,
                false});
            return store.add_from_parts(oci::image_config_to_json(config), {layer}, names);
        });
}

} // namespace berth::image
