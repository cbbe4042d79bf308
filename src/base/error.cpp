#include "berth/base/error.h"

#include <cerrno>
#include <cstring>

namespace berth {

Error Error::with_context(std::string_view context) const {
    std::string message(context);
    message += ": ";
    message += what();
    return Error(message, errno_value_);
}

void throw_errno(std::string_view what, int err) {
    std::string message(what);
    message += ": ";
    message += std::strerror(err);
    throw Error(message, err);
}

void throw_errno(std::string_view what) {
    throw_errno(what, errno);
}

void fail(std::string_view what) {
    throw Error(std::string(what));
}

} // namespace berth
