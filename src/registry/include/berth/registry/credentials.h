// Registry credentials in Docker's config.json format, which podman's
// auth.json shares: {"auths": {"registry.example": {"auth": base64("user:pass")}}}.
// Read from $DOCKER_CONFIG/config.json (else ~/.docker/config.json), then
// podman's ${XDG_RUNTIME_DIR}/containers/auth.json; written by `berth login`
// to the first, leaving every other key of the file as it was.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::registry {

struct Credentials {
    std::string username;
    std::string password;
};

// The files searched, in order: an explicit `auth_file` alone when given.
std::vector<std::string> credential_files(const std::string& auth_file = {});
// Where `berth login` writes: `auth_file`, else Docker's config.json.
std::string login_file(const std::string& auth_file = {});

// The `auths` key for a registry: Docker Hub is "https://index.docker.io/v1/"
// (the key docker writes), anything else its host[:port].
std::string auth_key(std::string_view registry);

// Credentials for `registry` from the content of one auth file; an entry
// without credentials, or none, gives nothing. Error on malformed JSON or base64.
std::optional<Credentials> credentials_in(std::string_view file_content, std::string_view registry);
// The file content with `registry`'s entry set (or removed, without `credentials`).
std::string with_credentials(std::string_view file_content, std::string_view registry,
                             const std::optional<Credentials>& credentials);

// The credential helper a file names for `registry` (credHelpers, else
// credsStore), as the suffix of its docker-credential-<name> program.
std::optional<std::string> credential_helper_in(std::string_view file_content,
                                                std::string_view registry);
// Runs `docker-credential-<helper> get` for `registry`; nothing when the
// helper is not installed or knows no credentials for it.
std::optional<Credentials> credentials_from_helper(const std::string& helper,
                                                   std::string_view registry);

// Searches credential_files(auth_file) in order: in each, its helper first,
// then its auths.
std::optional<Credentials> find_credentials(std::string_view registry,
                                            const std::string& auth_file = {});
// Writes (0600, atomically) or, without credentials, removes the entry;
// returns false when there was nothing to remove.
bool store_credentials(std::string_view registry, const std::optional<Credentials>& credentials,
                       const std::string& auth_file = {});

std::string base64_encode(std::string_view data);
// Error on characters outside the alphabet.
std::string base64_decode(std::string_view text);

} // namespace berth::registry
