#include "berth/registry/credentials.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/base/unique_fd.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace berth::registry {

namespace {

using nlohmann::json;

constexpr std::string_view docker_hub_key = "https://index.docker.io/v1/";
constexpr std::string_view base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string home_directory() {
    if (const char* home = std::getenv("HOME"); home && *home) return home;
    if (const passwd* entry = ::getpwuid(::getuid()); entry && entry->pw_dir) return entry->pw_dir;
    return "/root";
}

// "https://registry.example:5000/v1/" -> "registry.example:5000".
std::string host_of_key(std::string_view key) {
    if (auto scheme = key.find("://"); scheme != std::string_view::npos)
        key.remove_prefix(scheme + 3);
    key = key.substr(0, key.find('/'));
    std::string host(key);
    if (host == "index.docker.io" || host == "registry-1.docker.io") host = "docker.io";
    return host;
}

json parse_file(std::string_view content) {
    if (content.find_first_not_of(" \t\r\n") == std::string_view::npos) return json::object();
    json document = json::parse(content, nullptr, false);
    if (document.is_discarded() || !document.is_object()) fail("not a JSON object");
    return document;
}

} // namespace

std::vector<std::string> credential_files(const std::string& auth_file) {
    if (!auth_file.empty()) return {auth_file};
    std::vector<std::string> files;
    if (const char* podman = std::getenv("REGISTRY_AUTH_FILE"); podman && *podman)
        files.push_back(podman);
    files.push_back(login_file());
    if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime && *runtime)
        files.push_back(std::string(runtime) + "/containers/auth.json");
    else
        files.push_back("/run/containers/" + std::to_string(::getuid()) + "/auth.json");
    return files;
}

std::string login_file(const std::string& auth_file) {
    if (!auth_file.empty()) return auth_file;
    if (const char* config = std::getenv("DOCKER_CONFIG"); config && *config)
        return std::string(config) + "/config.json";
    return home_directory() + "/.docker/config.json";
}

std::string auth_key(std::string_view registry) {
    std::string host = host_of_key(registry);
    return host == "docker.io" ? std::string(docker_hub_key) : host;
}

std::optional<Credentials> credentials_in(std::string_view file_content,
                                          std::string_view registry) {
    json document = parse_file(file_content);
    if (!document.contains("auths") || !document["auths"].is_object()) return std::nullopt;
    std::string wanted = host_of_key(registry);
    for (const auto& [key, entry] : document["auths"].items()) {
        if (host_of_key(key) != wanted || !entry.is_object()) continue;
        if (entry.contains("auth") && entry["auth"].is_string() &&
            !entry["auth"].get<std::string>().empty()) {
            std::string decoded = base64_decode(entry["auth"].get<std::string>());
            auto colon = decoded.find(':');
            if (colon == std::string::npos) fail("the entry for " + key + " is not user:password");
            return Credentials{decoded.substr(0, colon), decoded.substr(colon + 1)};
        }
        // Older files keep the two apart.
        if (entry.contains("username") && entry["username"].is_string() &&
            entry.contains("password") && entry["password"].is_string())
            return Credentials{entry["username"].get<std::string>(),
                               entry["password"].get<std::string>()};
    }
    return std::nullopt;
}

std::string with_credentials(std::string_view file_content, std::string_view registry,
                             const std::optional<Credentials>& credentials) {
    json document = parse_file(file_content);
    if (!document.contains("auths") || !document["auths"].is_object())
        document["auths"] = json::object();
    json& auths = document["auths"];
    // Every spelling of this registry goes, so that the new entry is the one read.
    std::string wanted = host_of_key(registry);
    std::vector<std::string> stale;
    for (const auto& [key, entry] : auths.items())
        if (host_of_key(key) == wanted) stale.push_back(key);
    for (const auto& key : stale)
        auths.erase(key);
    if (credentials)
        auths[auth_key(registry)] = {
            {"auth", base64_encode(credentials->username + ":" + credentials->password)}};
    return document.dump(1, '\t') + "\n";
}

std::optional<std::string> credential_helper_in(std::string_view file_content,
                                                std::string_view registry) {
    json document = parse_file(file_content);
    std::string wanted = host_of_key(registry);
    if (document.contains("credHelpers") && document["credHelpers"].is_object())
        for (const auto& [key, helper] : document["credHelpers"].items())
            if (host_of_key(key) == wanted && helper.is_string() &&
                !helper.get<std::string>().empty())
                return helper.get<std::string>();
    if (document.contains("credsStore") && document["credsStore"].is_string() &&
        !document["credsStore"].get<std::string>().empty())
        return document["credsStore"].get<std::string>();
    return std::nullopt;
}

std::optional<Credentials> credentials_from_helper(const std::string& helper,
                                                   std::string_view registry) {
    for (char c : helper)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
            fail("invalid credential helper name \"" + helper + "\"");
    std::string program = "docker-credential-" + helper;
    int input[2], output[2];
    if (::pipe2(input, O_CLOEXEC) < 0) throw_errno("pipe");
    UniqueFd input_read(input[0]), input_write(input[1]);
    if (::pipe2(output, O_CLOEXEC) < 0) throw_errno("pipe");
    UniqueFd output_read(output[0]), output_write(output[1]);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, input_read.get(), 0);
    posix_spawn_file_actions_adddup2(&actions, output_write.get(), 1);
    std::string verb = "get";
    char* argv[] = {program.data(), verb.data(), nullptr};
    pid_t pid = -1;
    int spawned = ::posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    input_read.reset();
    output_write.reset();
    if (spawned != 0) return std::nullopt; // not installed: the file's auths may still help
    // A helper that exits without reading must not kill berth with SIGPIPE.
    auto previous = ::signal(SIGPIPE, SIG_IGN);
    try {
        write_all(input_write.get(), auth_key(registry), program);
    } catch (const Error&) {
    }
    input_write.reset();
    ::signal(SIGPIPE, previous);
    std::string answer = read_all(output_read.get());
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
    json document = json::parse(answer, nullptr, false);
    if (document.is_discarded() || !document.is_object() || !document.contains("Username") ||
        !document.contains("Secret") || !document["Username"].is_string() ||
        !document["Secret"].is_string())
        fail(program + " answered with something other than {\"Username\", \"Secret\"}");
    return Credentials{document["Username"].get<std::string>(),
                       document["Secret"].get<std::string>()};
}

std::optional<Credentials> find_credentials(std::string_view registry,
                                            const std::string& auth_file) {
    for (const auto& file : credential_files(auth_file)) {
        if (!path_exists(file)) continue;
        auto found = with_context("reading credentials from " + file, [&] {
            std::string content = read_file(file);
            if (auto helper = credential_helper_in(content, registry))
                if (auto from_helper = credentials_from_helper(*helper, registry))
                    return from_helper;
            return credentials_in(content, registry);
        });
        if (found) return found;
    }
    return std::nullopt;
}

bool store_credentials(std::string_view registry, const std::optional<Credentials>& credentials,
                       const std::string& auth_file) {
    std::string file = login_file(auth_file);
    return with_context("writing credentials to " + file, [&] {
        std::string content = path_exists(file) ? read_file(file) : std::string();
        if (!credentials && !credentials_in(content, registry)) return false;
        auto slash = file.rfind('/');
        if (slash != std::string::npos && slash > 0) make_directories(file.substr(0, slash), 0700);
        write_file_atomic(file, with_credentials(content, registry, credentials), 0600, true);
        return true;
    });
}

std::string base64_encode(std::string_view data) {
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < data.size(); i += 3) {
        std::uint32_t chunk = static_cast<unsigned char>(data[i]) << 16;
        if (i + 1 < data.size()) chunk |= static_cast<unsigned char>(data[i + 1]) << 8;
        if (i + 2 < data.size()) chunk |= static_cast<unsigned char>(data[i + 2]);
        out += base64_alphabet[(chunk >> 18) & 63];
        out += base64_alphabet[(chunk >> 12) & 63];
        out += i + 1 < data.size() ? base64_alphabet[(chunk >> 6) & 63] : '=';
        out += i + 2 < data.size() ? base64_alphabet[chunk & 63] : '=';
    }
    return out;
}

std::string base64_decode(std::string_view text) {
    std::string out;
    std::uint32_t bits = 0;
    int count = 0;
    for (char c : text) {
        if (c == '=') break;
        if (c == '\n' || c == '\r') continue;
        auto value = base64_alphabet.find(c);
        if (value == std::string_view::npos) fail("invalid base64 in credentials");
        bits = (bits << 6) | static_cast<std::uint32_t>(value);
        count += 6;
        if (count >= 8) {
            count -= 8;
            out += static_cast<char>((bits >> count) & 0xff);
        }
    }
    return out;
}

} // namespace berth::registry
