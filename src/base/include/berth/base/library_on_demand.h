#pragma once

// A shared library loaded (dlopen) the first time berth calls into it, for
// libraries that few commands need but every process would pay to load at
// start: libcurl (registry commands), libnftables (published ports and
// networks). The "on demand" shims define the library's functions berth
// calls, each forwarding to the real one.

#include <string>

namespace berth {

class LibraryOnDemand {
  public:
    // `soname` is what dlopen loads; `needed_for` completes the error a
    // machine without it gets: "<needed_for> need <package>: <dlerror>".
    LibraryOnDemand(const char* soname, const char* needed_for, const char* package);

    // The address of `name` in the library, loading it first; throws Error
    // when the library or the symbol is missing.
    void* symbol(const char* name);

    template <class Function> Function function(const char* name) {
        return reinterpret_cast<Function>(symbol(name));
    }

  private:
    const char* soname_;
    const char* needed_for_;
    const char* package_;
    void* handle_ = nullptr;
};

} // namespace berth
