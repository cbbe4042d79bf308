#include "berth/image/decompress.h"

#include "berth/base/error.h"

#include <isa-l/igzip_lib.h>
#include <zstd.h>

#include <vector>

namespace berth::image {

namespace {

constexpr std::size_t input_buffer_size = 256 * 1024;

class PassThroughSource : public ByteSource {
  public:
    explicit PassThroughSource(ByteSource& inner) : inner_(inner) {}
    std::size_t read(void* buffer, std::size_t size) override { return inner_.read(buffer, size); }

  private:
    ByteSource& inner_;
};

// One or more concatenated gzip members (pigz and `cat a.gz b.gz` write those),
// each with its CRC and length checked by ISA-L.
class GzipSource : public ByteSource {
  public:
    explicit GzipSource(ByteSource& inner)
        : inner_(inner), state_(std::make_unique<inflate_state>()), input_(input_buffer_size) {
        start_member();
    }

    std::size_t read(void* buffer, std::size_t size) override {
        if (finished_ || size == 0) return 0;
        for (;;) {
            if (state_->block_state == ISAL_BLOCK_FINISH) {
                if (!next_member()) {
                    finished_ = true;
                    return 0;
                }
            }
            if (state_->avail_in == 0 && !input_ended_) input_ended_ = !refill();
            state_->next_out = static_cast<std::uint8_t*>(buffer);
            state_->avail_out = static_cast<std::uint32_t>(std::min<std::size_t>(size, 1u << 30));
            std::uint32_t before_in = state_->avail_in;
            int status = isal_inflate(state_.get());
            if (status != ISAL_DECOMP_OK)
                fail(std::string("corrupt gzip data (") + reason(status) + ")");
            std::size_t produced = state_->next_out - static_cast<std::uint8_t*>(buffer);
            if (produced > 0) return produced;
            if (state_->block_state == ISAL_BLOCK_FINISH) continue;
            // ISA-L may hold output back in its own buffers until asked again
            // with no new input, so the end of input is checked only now.
            if (state_->avail_in == 0 && input_ended_) fail("gzip stream is truncated");
            if (state_->avail_in > 0 && state_->avail_in == before_in)
                fail("corrupt gzip data (no progress)");
        }
    }

  private:
    void start_member() {
        isal_inflate_init(state_.get());
        state_->crc_flag = ISAL_GZIP;
    }

    bool refill() {
        std::size_t n = inner_.read(input_.data(), input_.size());
        state_->next_in = input_.data();
        state_->avail_in = static_cast<std::uint32_t>(n);
        return n > 0;
    }

    // After a member's trailer: another member, or the end of the stream.
    bool next_member() {
        if (state_->avail_in == 0 && (input_ended_ || !refill())) return false;
        std::uint8_t* rest = state_->next_in;
        std::uint32_t rest_size = state_->avail_in;
        if (rest[0] != 0x1f) fail("unexpected data after the end of the gzip stream");
        start_member();
        state_->next_in = rest;
        state_->avail_in = rest_size;
        return true;
    }

    static const char* reason(int status) {
        switch (status) {
        case ISAL_INVALID_BLOCK:
            return "invalid block";
        case ISAL_INVALID_SYMBOL:
            return "invalid symbol";
        case ISAL_INVALID_LOOKBACK:
            return "invalid distance";
        case ISAL_INVALID_WRAPPER:
            return "not a gzip header";
        case ISAL_UNSUPPORTED_METHOD:
            return "unsupported method";
        case ISAL_INCORRECT_CHECKSUM:
            return "checksum mismatch";
        default:
            return "error";
        }
    }

    ByteSource& inner_;
    std::unique_ptr<inflate_state> state_;
    std::vector<std::uint8_t> input_;
    bool finished_ = false;
    bool input_ended_ = false;
};

class ZstdSource : public ByteSource {
  public:
    explicit ZstdSource(ByteSource& inner)
        : inner_(inner), context_(ZSTD_createDStream()), input_(ZSTD_DStreamInSize()) {
        if (!context_) fail("starting zstd decompression: out of memory");
    }
    ~ZstdSource() override { ZSTD_freeDStream(context_); }
    ZstdSource(const ZstdSource&) = delete;
    ZstdSource& operator=(const ZstdSource&) = delete;

    std::size_t read(void* buffer, std::size_t size) override {
        if (size == 0) return 0;
        ZSTD_outBuffer out{buffer, size, 0};
        for (;;) {
            if (in_.pos == in_.size) {
                std::size_t n = inner_.read(input_.data(), input_.size());
                in_ = ZSTD_inBuffer{input_.data(), n, 0};
                if (n == 0) {
                    // Input is over: whatever the decoder still holds comes out
                    // now, and a frame left open means the stream was cut short.
                    std::size_t hint = ZSTD_decompressStream(context_, &out, &in_);
                    check(hint);
                    if (out.pos > 0) {
                        last_hint_ = hint;
                        return out.pos;
                    }
                    if (last_hint_ != 0) fail("zstd stream is truncated");
                    return 0;
                }
            }
            std::size_t hint = ZSTD_decompressStream(context_, &out, &in_);
            check(hint);
            last_hint_ = hint;
            if (out.pos > 0) return out.pos;
        }
    }

  private:
    static void check(std::size_t result) {
        if (ZSTD_isError(result))
            fail(std::string("corrupt zstd data (") + ZSTD_getErrorName(result) + ")");
    }

    ByteSource& inner_;
    ZSTD_DStream* context_;
    std::vector<char> input_;
    ZSTD_inBuffer in_{nullptr, 0, 0};
    std::size_t last_hint_ = 1; // nothing decoded yet: an empty stream is truncated
};

} // namespace

oci::Compression detect_compression(std::string_view head) {
    auto starts = [&](std::string_view magic) { return head.substr(0, magic.size()) == magic; };
    if (starts("\x1f\x8b")) return oci::Compression::gzip;
    if (starts("\x28\xb5\x2f\xfd")) return oci::Compression::zstd;
    if (starts(std::string_view("\xfd"
                                "7zXZ\0",
                                6)))
        fail("xz-compressed data is not supported; use gzip or zstd");
    if (starts("BZh")) fail("bzip2-compressed data is not supported; use gzip or zstd");
    return oci::Compression::none;
}

std::unique_ptr<ByteSource> decompressing(ByteSource& compressed, oci::Compression compression) {
    switch (compression) {
    case oci::Compression::gzip:
        return std::make_unique<GzipSource>(compressed);
    case oci::Compression::zstd:
        return std::make_unique<ZstdSource>(compressed);
    case oci::Compression::none:
        break;
    }
    return std::make_unique<PassThroughSource>(compressed);
}

const char* compression_name(oci::Compression compression) {
    switch (compression) {
    case oci::Compression::gzip:
        return "gzip";
    case oci::Compression::zstd:
        return "zstd";
    case oci::Compression::none:
        break;
    }
    return "none";
}

} // namespace berth::image
