// One error type for all of berth: a message with a chain of context and,
// when a system call failed, its errno ("mounting proc on /proc: Operation
// not permitted").
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace berth {

class Error : public std::runtime_error {
  public:
    explicit Error(const std::string& message, int errno_value = 0)
        : std::runtime_error(message), errno_value_(errno_value) {}

    // The errno of the failed system call at the root of the chain, or 0.
    int errno_value() const noexcept { return errno_value_; }

    // A copy of this error with `context` in front: "context: message".
    Error with_context(std::string_view context) const;

  private:
    int errno_value_;
};

// Throws Error("what: strerror(errno)") with the current errno.
[[noreturn]] void throw_errno(std::string_view what);
// Throws Error("what: strerror(err)").
[[noreturn]] void throw_errno(std::string_view what, int err);
// Throws Error(what) with no errno.
[[noreturn]] void fail(std::string_view what);

// Runs `body`; an Error it throws gets `context` in front of its message.
template <class Body> decltype(auto) with_context(std::string_view context, Body&& body) {
    try {
        return body();
    } catch (const Error& error) {
        throw error.with_context(context);
    }
}

} // namespace berth
