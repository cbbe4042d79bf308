// Where COPY and ADD take files from: the build context (a directory, with
// .dockerignore applied) or another stage's or image's root filesystem.
// Every path is resolved by the kernel beneath the source's root (openat2
// with RESOLVE_IN_ROOT) and trees are walked by fd without following
// symlinks, so neither `COPY ../x` nor a symlink in the context that points
// outside it can reach a file outside.
#pragma once

#include "berth/base/unique_fd.h"
#include "berth/build/dockerignore.h"
#include "berth/oci/digest.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace berth::build {

class SourceTree {
  public:
    // A directory as a build context: reads its .dockerignore.
    static SourceTree context(const std::string& directory);
    // A root filesystem (of a stage or an image) mounted at `directory`.
    static SourceTree root_filesystem(const std::string& directory, std::string description);

    int root_fd() const { return root_.get(); }
    const std::string& description() const { return description_; }
    const IgnoreRules& ignore_rules() const { return ignore_; }
    bool excluded(const std::string& relative_path) const {
        return (!ignore_.empty() && ignore_.excluded(relative_path)) ||
               excluded_below(relative_path);
    }

    // The same tree (its root fd duplicated) that also leaves out what
    // `patterns` (.dockerignore syntax) match beneath `base`, matched on
    // paths relative to `base`: COPY --exclude.
    SourceTree excluding(const std::string& base, const std::vector<std::string>& patterns) const;

    // The paths (relative to the root, cleaned) a COPY source names: itself,
    // or what its glob matches, sorted. Error when it names a path outside
    // the root or matches nothing.
    std::vector<std::string> match(const std::string& source) const;

    // A digest of what `paths` hold: names, types, modes, sizes, contents
    // and link targets, walked as a copy would walk them.
    oci::Digest content_digest(const std::vector<std::string>& paths) const;

    // A small file read whole (the Dockerfile, .dockerignore); nullopt if missing.
    std::optional<std::string> read_small_file(const std::string& relative_path) const;

  private:
    SourceTree(UniqueFd root, std::string description, IgnoreRules ignore)
        : root_(std::move(root)), description_(std::move(description)), ignore_(std::move(ignore)) {
    }

    bool excluded_below(const std::string& relative_path) const;

    UniqueFd root_;
    std::string description_;
    IgnoreRules ignore_;
    std::string exclude_base_; // "" for the root
    IgnoreRules exclude_;      // --exclude patterns, relative to exclude_base_
};

struct CopyOwnership {
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::optional<std::uint32_t> mode; // --chmod
};

// Copies `path` from `tree` to the entry `name` of the directory `dest_dir_fd`:
// a file as that file, a directory's contents into that directory (made if
// missing). Symlinks inside are copied as symlinks, never followed.
void copy_from_tree(const SourceTree& tree, const std::string& path, int dest_dir_fd,
                    const std::string& name, const CopyOwnership& owner);

// Whether the regular file `path` in `tree` is a tar archive (plain, gzip
// or zstd), which ADD unpacks rather than copies.
bool is_tar_archive(const SourceTree& tree, const std::string& path);
// Unpacks the archive into `dest_dir_fd`, confined beneath it.
void extract_archive(const SourceTree& tree, const std::string& path, int dest_dir_fd);

// Cleans a path given in a Dockerfile and refuses one that leaves the root:
// "a/../b" -> "b"; "../x" -> Error.
std::string confined_path(const std::string& path, const std::string& what);

} // namespace berth::build
