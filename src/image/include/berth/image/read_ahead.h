// A byte stream produced by a thread of its own. Unpacking a layer is two
// jobs of about equal weight: reading, hashing and decompressing the blob,
// and creating the files (mostly kernel time). Run one after the other on
// one thread, each waits for the other; with the first moved here, the
// next megabytes are decompressed on the other core while the files of the
// last ones are written.
#pragma once

#include "berth/image/byte_stream.h"

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace berth::image {

class ReadAheadSource : public ByteSource {
  public:
    // Starts reading `inner` at once, up to `chunk_count` chunks ahead of the
    // reader. `inner` must outlive this object, and belongs to its thread
    // until read() has returned 0 (then the thread no longer touches it).
    explicit ReadAheadSource(ByteSource& inner, std::size_t chunk_size = 1 << 20,
                             std::size_t chunk_count = 4);
    // Stops the thread (a reader that gave up early leaves it mid-stream).
    ~ReadAheadSource() override;
    ReadAheadSource(const ReadAheadSource&) = delete;
    ReadAheadSource& operator=(const ReadAheadSource&) = delete;

    // An Error (or any exception) of `inner` comes out here, after every
    // byte read before it.
    std::size_t read(void* buffer, std::size_t size) override;

  private:
    struct Chunk {
        std::vector<char> data;
        std::size_t size = 0;
    };

    void produce();

    ByteSource& inner_;
    std::vector<Chunk> chunks_;
    std::mutex lock_;
    std::condition_variable filled_, emptied_;
    // Chunks are used round-robin: the producer fills chunk (produced_ %
    // count), the reader empties chunk (consumed_ % count).
    std::size_t produced_ = 0;
    std::size_t consumed_ = 0;
    std::size_t offset_ = 0; // into the chunk being read
    bool ended_ = false;
    bool stopping_ = false;
    std::exception_ptr failure_;
    std::thread thread_;
};

} // namespace berth::image
