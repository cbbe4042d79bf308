#include "berth/oci/digest.h"

#include "berth/base/error.h"

// SHA256_Init and friends, not EVP: OpenSSL 3's first EVP digest loads its
// configuration and providers, 2.7-5 ms of every berth process that hashes
// (every `run` checks its image's config), while the direct calls start at
// once and hash through the same assembly (SHA-NI where the CPU has it).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

namespace berth::oci {

namespace {

bool is_lower_hex(std::string_view text) {
    for (char c : text)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

std::string printable(std::string_view text) {
    std::string shown;
    for (char c : text.substr(0, 80))
        shown += (c >= 0x20 && c < 0x7f) ? c : '?';
    return shown;
}

} // namespace

bool Digest::is_valid(std::string_view text) {
    constexpr std::string_view prefix = "sha256:";
    if (text.substr(0, prefix.size()) != prefix) return false;
    std::string_view hex = text.substr(prefix.size());
    return hex.size() == 64 && is_lower_hex(hex);
}

Digest Digest::parse(std::string_view text) {
    if (!is_valid(text))
        fail("invalid digest \"" + printable(text) +
             "\": expected sha256: and 64 lowercase hex digits");
    Digest digest;
    digest.hex_ = std::string(text.substr(7));
    return digest;
}

Digest Digest::from_sha256_hex(std::string hex) {
    if (hex.size() != 64 || !is_lower_hex(hex))
        fail("invalid sha256 \"" + printable(hex) + "\": expected 64 lowercase hex digits");
    Digest digest;
    digest.hex_ = std::move(hex);
    return digest;
}

struct Sha256::State {
    SHA256_CTX context;
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
    SHA256_Init(&state_->context);
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, std::size_t size) {
    if (size > 0) SHA256_Update(&state_->context, data, size);
}

Digest Sha256::finish() {
    unsigned char raw[SHA256_DIGEST_LENGTH];
    constexpr unsigned length = SHA256_DIGEST_LENGTH;
    SHA256_Final(raw, &state_->context);
    static constexpr char hex_digits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(length * 2);
    for (unsigned i = 0; i < length; ++i) {
        hex += hex_digits[raw[i] >> 4];
        hex += hex_digits[raw[i] & 15];
    }
    return Digest::from_sha256_hex(std::move(hex));
}

Digest sha256_of(std::string_view data) {
    Sha256 hash;
    hash.update(data);
    return hash.finish();
}

std::vector<Digest> chain_ids(const std::vector<Digest>& diff_ids) {
    std::vector<Digest> chain;
    for (const Digest& diff_id : diff_ids) {
        if (chain.empty())
            chain.push_back(diff_id);
        else
            chain.push_back(sha256_of(chain.back().str() + " " + diff_id.str()));
    }
    return chain;
}

} // namespace berth::oci
