#include "berth/image/read_ahead.h"

#include <algorithm>
#include <cstring>

namespace berth::image {

ReadAheadSource::ReadAheadSource(ByteSource& inner, std::size_t chunk_size, std::size_t chunk_count)
    : inner_(inner), chunks_(std::max<std::size_t>(chunk_count, 2)) {
    for (auto& chunk : chunks_)
        chunk.data.resize(std::max<std::size_t>(chunk_size, 4096));
    thread_ = std::thread([this] { produce(); });
}

ReadAheadSource::~ReadAheadSource() {
    {
        std::lock_guard guard(lock_);
        stopping_ = true;
    }
    emptied_.notify_all();
    thread_.join();
}

void ReadAheadSource::produce() {
    for (;;) {
        Chunk* chunk;
        {
            std::unique_lock guard(lock_);
            emptied_.wait(guard,
                          [&] { return stopping_ || produced_ - consumed_ < chunks_.size(); });
            if (stopping_) return;
            chunk = &chunks_[produced_ % chunks_.size()];
        }
        // Whole chunks, so that the reader is woken once per megabyte, not
        // once per decompressor output block.
        std::size_t size = 0;
        bool ended = false;
        std::exception_ptr failure;
        try {
            while (size < chunk->data.size()) {
                std::size_t n = inner_.read(chunk->data.data() + size, chunk->data.size() - size);
                if (n == 0) {
                    ended = true;
                    break;
                }
                size += n;
            }
        } catch (...) {
            failure = std::current_exception();
            ended = true;
        }
        {
            std::lock_guard guard(lock_);
            chunk->size = size;
            if (size > 0) ++produced_;
            if (ended) {
                ended_ = true;
                failure_ = failure;
            }
        }
        filled_.notify_one();
        if (ended) return;
    }
}

std::size_t ReadAheadSource::read(void* buffer, std::size_t size) {
    if (size == 0) return 0;
    Chunk* chunk;
    {
        std::unique_lock guard(lock_);
        filled_.wait(guard, [&] { return consumed_ < produced_ || ended_; });
        if (consumed_ == produced_) {
            if (failure_) std::rethrow_exception(failure_);
            return 0;
        }
        chunk = &chunks_[consumed_ % chunks_.size()];
    }
    // The chunk is the reader's alone until consumed_ moves past it.
    std::size_t n = std::min(size, chunk->size - offset_);
    std::memcpy(buffer, chunk->data.data() + offset_, n);
    offset_ += n;
    if (offset_ == chunk->size) {
        {
            std::lock_guard guard(lock_);
            ++consumed_;
            offset_ = 0;
        }
        emptied_.notify_one();
    }
    return n;
}

} // namespace berth::image
