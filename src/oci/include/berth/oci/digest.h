// Content digests ("sha256:<64 hex>") and a streaming sha256, so that every
// blob can be checked while it is read or written, never after the fact.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace berth::oci {

class Digest {
  public:
    Digest() = default;
    // Parses "algorithm:hex"; only sha256 is accepted, since it is the only
    // algorithm every registry and every image in the wild uses. Throws Error.
    static Digest parse(std::string_view text);
    static bool is_valid(std::string_view text);
    static Digest from_sha256_hex(std::string hex);

    const std::string& hex() const { return hex_; }
    std::string str() const { return hex_.empty() ? std::string() : "sha256:" + hex_; }
    // The first 12 hex digits, as `docker images` shows IDs.
    std::string short_hex() const { return hex_.substr(0, 12); }
    bool empty() const { return hex_.empty(); }

    friend bool operator==(const Digest&, const Digest&) = default;
    friend auto operator<=>(const Digest&, const Digest&) = default;

  private:
    std::string hex_;
};

class Sha256 {
  public:
    Sha256();
    ~Sha256();
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;

    void update(const void* data, std::size_t size);
    void update(std::string_view data) { update(data.data(), data.size()); }
    // Ends the hash; the object cannot be updated afterwards.
    Digest finish();

  private:
    struct State;
    std::unique_ptr<State> state_;
};

Digest sha256_of(std::string_view data);

// The OCI image spec's ChainID of each prefix of `diff_ids`: ChainID(L0) = DiffID(L0),
// ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln)).
std::vector<Digest> chain_ids(const std::vector<Digest>& diff_ids);

} // namespace berth::oci
