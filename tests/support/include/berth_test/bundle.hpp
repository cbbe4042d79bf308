// An OCI bundle (rootfs + config.json) built from host binaries for tests.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "berth_test/probe.hpp"
#include "berth_test/temp_dir.hpp"

namespace berth_test {

// Where Bundle puts the probe inside the container.
inline constexpr const char* kProbeInContainer = "/probe";

// Creates, in its own TempDir:
//   rootfs/bin/busybox (copied from the host's static /bin/busybox) plus
//   bin/<applet> symlinks to it, rootfs/probe, /etc/passwd and /etc/group
//   (root, nobody, tty), empty /proc /sys /dev /tmp /root, and config.json
//   from default_config().
// Edit config() and call write_config() to change the container's setup.
class Bundle {
  public:
    explicit Bundle(const std::filesystem::path& probe = probe_binary_path());

    const std::filesystem::path& path() const noexcept { return dir_.path(); }
    std::filesystem::path rootfs() const { return path() / "rootfs"; }
    std::filesystem::path config_path() const { return path() / "config.json"; }

    nlohmann::json& config() noexcept { return config_; }
    const nlohmann::json& config() const noexcept { return config_; }

    // (Re)writes config.json atomically from config().
    void write_config() const;

  private:
    TempDir dir_;
    nlohmann::json config_;
};

} // namespace berth_test
