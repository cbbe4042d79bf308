// Bytes handed from one thread (a download) to another (the unpack) through
// a bounded queue in memory, so that a layer is unpacked while it arrives
// instead of read back from disk once it is whole.
#pragma once

#include "berth/image/byte_stream.h"

#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <string_view>

namespace berth::registry {

class ChunkPipe : public image::ByteSource {
  public:
    explicit ChunkPipe(std::size_t capacity = 16 << 20) : capacity_(capacity) {}

    // Blocks while the queue is full; drops the bytes once the reader has gone.
    void push(std::string_view data) {
        std::unique_lock guard(lock_);
        changed_.wait(guard, [&] {
            return reader_gone_ || queued_ + data.size() <= capacity_ || queued_ == 0;
        });
        if (reader_gone_) return;
        chunks_.emplace_back(data);
        queued_ += data.size();
        changed_.notify_all();
    }
    // The end of the stream: the reader gets 0 once the queue is empty.
    void close() {
        std::lock_guard guard(lock_);
        closed_ = true;
        changed_.notify_all();
    }
    // The writer failed: the reader gets `failure` instead of the end.
    void fail(std::exception_ptr failure) {
        std::lock_guard guard(lock_);
        failure_ = failure;
        closed_ = true;
        changed_.notify_all();
    }
    // The reader stops reading (done or failed): push() no longer waits.
    void reader_gone() {
        std::lock_guard guard(lock_);
        reader_gone_ = true;
        chunks_.clear();
        queued_ = 0;
        changed_.notify_all();
    }

    std::size_t read(void* buffer, std::size_t size) override {
        std::unique_lock guard(lock_);
        changed_.wait(guard, [&] { return !chunks_.empty() || closed_; });
        if (chunks_.empty()) {
            if (failure_) std::rethrow_exception(failure_);
            return 0;
        }
        std::string& front = chunks_.front();
        std::size_t n = std::min(size, front.size() - offset_);
        std::memcpy(buffer, front.data() + offset_, n);
        offset_ += n;
        if (offset_ == front.size()) {
            queued_ -= front.size();
            chunks_.pop_front();
            offset_ = 0;
            changed_.notify_all();
        }
        return n;
    }

  private:
    std::mutex lock_;
    std::condition_variable changed_;
    std::deque<std::string> chunks_;
    std::size_t capacity_;
    std::size_t queued_ = 0;
    std::size_t offset_ = 0;
    bool closed_ = false;
    bool reader_gone_ = false;
    std::exception_ptr failure_;
};

} // namespace berth::registry
