// A private scratch directory that cleans up after tests, including after
// tests that left mounts behind in it.
#pragma once

#include <filesystem>
#include <string_view>

namespace berth_test {

// Creates a fresh directory with mkdtemp() under $TMPDIR (or /tmp).
//
// The destructor first lazily unmounts (MNT_DETACH) every mount found under
// the directory in /proc/self/mountinfo, then deletes the tree. Deletion never
// follows symlinks and never descends into anything that is still a mount
// point or lives on another device, so a failed unmount of a bind mount can
// not wipe the host directory behind it.
class TempDir {
  public:
    explicit TempDir(std::string_view prefix = "berth-test");
    ~TempDir();

    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    TempDir(TempDir&& other) noexcept;
    TempDir& operator=(TempDir&& other) noexcept;

    // Canonical path (symlinks in $TMPDIR resolved), so it compares equal to
    // the mount targets the kernel reports.
    const std::filesystem::path& path() const noexcept { return path_; }

    // Unmount and delete now instead of at destruction. Idempotent; problems
    // are reported on stderr rather than thrown, as in the destructor.
    void remove() noexcept;

  private:
    std::filesystem::path path_;
};

} // namespace berth_test
