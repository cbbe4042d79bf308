// COPY and ADD as instructions: flags, sources (heredocs, context paths and
// globs, another stage's or image's files, ADD's URLs), what goes into the
// step's key, then the step itself (copy_step.cpp) in a scratch directory.
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/build/add_source.h"
#include "berth/image/rootfs.h"
#include "builder_internal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace berth::build::detail {

namespace {

// A directory of this step's own, removed with it.
struct ScratchDir {
    std::string path;
    ~ScratchDir() {
        if (path.empty()) return;
        try {
            remove_tree(path);
        } catch (const Error&) {
        }
    }
};

oci::Digest file_digest(int fd, const std::string& what) {
    oci::Sha256 hash;
    char buffer[1 << 16];
    for (off_t offset = 0;;) {
        ssize_t got = ::pread(fd, buffer, sizeof buffer, offset);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) throw_errno("reading " + what);
        if (got == 0) break;
        hash.update(std::string_view(buffer, static_cast<std::size_t>(got)));
        offset += got;
    }
    return hash.finish();
}

bool is_directory_in(const SourceTree& tree, const std::string& path) {
    if (path.empty()) return true;
    int fd = openat2_in_root(tree.root_fd(), path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return false;
    ::close(fd);
    return true;
}

std::string parent_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? "" : path.substr(0, slash);
}

} // namespace

const SourceTree& Builder::context() {
    if (!context_) {
        if (options_.context_dir.empty())
            fail("no build context: the Dockerfile came on stdin without one");
        context_ = std::make_unique<SourceTree>(SourceTree::context(options_.context_dir));
    }
    return *context_;
}

void Builder::copy(StageState& state, const Instruction& instruction) {
    const bool add = instruction.keyword == "ADD";
    const std::string& keyword = instruction.keyword;
    VariableLookup lookup = lookup_for(state);
    detail::CopySpec spec;
    spec.clamp_mtime = options_.source_date_epoch;
    std::string description = keyword;
    std::optional<image::Image> from_image;
    std::optional<oci::Digest> checksum;
    std::vector<std::string> excludes;
    bool parents = false;
    for (const auto& flag : instruction.flags) {
        std::string value = expand_word(flag.value.value_or(""), lookup, file_.escape);
        if (flag.name == "chown") {
            spec.chown = value;
        } else if (flag.name == "chmod") {
            char* end = nullptr;
            unsigned long mode = std::strtoul(value.c_str(), &end, 8);
            if (value.empty() || *end || mode > 07777)
                fail("--chmod=" + value + ": expected an octal mode such as 0755");
            spec.chmod = static_cast<std::uint32_t>(mode);
        } else if (flag.name == "from") {
            int stage = referenced_stage(value, current_stage_limit());
            if (stage >= 0) {
                from_image = commit(built_.at(stage));
            } else {
                from_image = store().find(value);
                if (!from_image)
                    fail("--from=" + value +
                         ": no such stage or image (berth build does not pull it)");
            }
        } else if (flag.name == "link") {
            // Our layers never depend on the layers below them for their content.
        } else if (flag.name == "parents") {
            if (flag.value && value != "true" && value != "false")
                fail("--parents=" + value + ": expected true or false");
            parents = !flag.value || value == "true";
        } else if (flag.name == "exclude") {
            if (value.empty()) fail("--exclude needs a pattern");
            excludes.push_back(value);
        } else if (flag.name == "checksum") {
            checksum = parse_checksum(value);
        } else if (flag.name == "keep-git-dir") {
            fail("ADD --keep-git-dir: ADD of a git repository is not supported yet");
        } else {
            fail(keyword + " --" + flag.name + " is not supported yet");
        }
        description += " --" + flag.name + "=" + value;
    }
    std::vector<std::string> words = instruction.json_form
                                         ? instruction.json_arguments
                                         : split_quoted_words(instruction.arguments, file_.escape);
    if (words.size() < 2) fail(keyword + " needs a source and a destination");
    std::string dest = expand_word(words.back(), lookup, file_.escape);
    if (instruction.json_form) dest = words.back();
    words.pop_back();
    bool dest_slash = dest.ends_with("/") || dest == "." || dest.ends_with("/.");
    if (dest.empty() || dest.front() != '/') {
        std::string workdir = state.config.config.working_dir.empty()
                                  ? std::string("/")
                                  : state.config.config.working_dir;
        dest = workdir + "/" + dest;
    }
    spec.destination = "/" + confined_path(dest, "destination");
    spec.destination_is_directory = dest_slash || parents;

    // Sources: heredocs, URLs, then files matched in the context (whose
    // content goes into the key) or in a stage's or image's root (whose
    // digest does, so it is mounted only when the step really runs).
    std::vector<std::string> patterns, urls;
    std::size_t count = 0;
    for (const auto& word : words) {
        if (auto name = heredoc_name(word); name && !instruction.json_form) {
            auto heredoc = std::find_if(instruction.heredocs.begin(), instruction.heredocs.end(),
                                        [&](const Heredoc& h) { return h.delimiter == *name; });
            if (heredoc == instruction.heredocs.end()) fail("no heredoc named " + *name);
            std::string content = heredoc->expand
                                      ? expand_variables(heredoc->body, lookup, file_.escape)
                                      : heredoc->body;
            spec.inline_files.push_back({*name, content});
            description += "\ninline " + *name + " " + oci::sha256_of(content).str();
            ++count;
            continue;
        }
        std::string source = instruction.json_form ? word : expand_word(word, lookup, file_.escape);
        if (is_git_url(source)) {
            if (add) fail("ADD of a git repository is not supported yet: " + source);
            fail("COPY cannot take a git repository (" + source + ")");
        }
        if (is_remote_url(source)) {
            if (!add) fail("COPY cannot fetch a URL (" + source + "): use ADD");
            if (from_image) fail("ADD --from cannot take a URL: " + source);
            urls.push_back(source);
            continue;
        }
        patterns.push_back(source);
        description += "\nsource " + source;
    }
    if (checksum && (urls.size() != 1 || !patterns.empty()))
        fail("--checksum is for a single http(s) source");

    // URLs are downloaded before the cache is asked: their content is the key.
    ScratchDir downloads;
    std::unique_ptr<SourceTree> url_tree;
    if (!urls.empty()) {
        downloads.path = new_work_dir();
        make_directories(downloads.path, 0700);
        for (std::size_t i = 0; i < urls.size(); ++i) {
            const std::string& url = urls[i];
            std::string name = url_file_name(url);
            if (name.empty() && (dest_slash || urls.size() > 1))
                fail("cannot tell a file name from " + url +
                     ": give the destination a file name (no trailing /)");
            if (name.empty()) name = "download";
            std::string relative = std::to_string(i) + "/" + name;
            make_directories(downloads.path + "/" + std::to_string(i), 0700);
            UniqueFd file = open_fd(downloads.path + "/" + relative,
                                    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
            if (!options_.fetch_url) fail("ADD from a URL is not available in this build");
            say("Downloading " + url);
            std::string modified = options_.fetch_url(url, file.get());
            oci::Digest digest = file_digest(file.get(), url);
            if (checksum && digest != *checksum)
                fail("checksum mismatch for " + url + ": expected " + checksum->str() + ", got " +
                     digest.str());
            // Docker's rules: mode 0600, the mtime the server gives.
            if (::fchmod(file.get(), 0600) < 0) throw_errno("setting the mode of " + name);
            if (auto when = parse_http_date(modified)) {
                timespec times[2] = {{static_cast<time_t>(*when), 0},
                                     {static_cast<time_t>(*when), 0}};
                if (::futimens(file.get(), times) < 0) throw_errno("setting the time of " + name);
            }
            description += "\nurl " + url + " " + digest.str() + " " + modified;
        }
        url_tree = std::make_unique<SourceTree>(
            SourceTree::root_filesystem(downloads.path, "the downloads"));
        for (std::size_t i = 0; i < urls.size(); ++i) {
            std::string name = url_file_name(urls[i]);
            spec.sources.push_back(detail::CopySource{
                url_tree.get(), std::to_string(i) + "/" + (name.empty() ? "download" : name), false,
                ""});
            ++count;
        }
    }

    std::vector<std::unique_ptr<SourceTree>> filtered; // trees with --exclude applied
    auto match_sources = [&](const SourceTree& tree) {
        for (const auto& source : patterns) {
            std::string pattern = source, pivot;
            if (parents) {
                auto [base, rest] = split_parents_pivot(source);
                pivot = base;
                pattern = base.empty() ? rest : rest.empty() ? base : base + "/" + rest;
                if (pattern.empty()) pattern = ".";
            }
            for (const auto& path : tree.match(pattern)) {
                const SourceTree* from_tree = &tree;
                if (!excludes.empty()) {
                    std::string base = is_directory_in(tree, path) ? path : parent_of(path);
                    filtered.push_back(
                        std::make_unique<SourceTree>(tree.excluding(base, excludes)));
                    from_tree = filtered.back().get();
                }
                detail::CopySource copy{from_tree, path,
                                        add && !from_image && is_tar_archive(tree, path), ""};
                if (parents)
                    copy.keep_path = pivot.empty()                ? path
                                     : path.size() > pivot.size() ? path.substr(pivot.size() + 1)
                                                                  : "";
                spec.sources.push_back(copy);
                ++count;
                if (!from_image)
                    description += " " + path + " " + from_tree->content_digest({path}).str();
            }
        }
        if (count > 1 && !dest_slash)
            fail("When using " + keyword +
                 " with more than one source file, the destination must be a directory and "
                 "end with a /");
        if (count > 1) spec.destination_is_directory = true;
    };
    if (from_image)
        description += "\nfrom " + from_image->manifest_digest.str();
    else if (!patterns.empty())
        match_sources(context());
    else
        match_sources(*url_tree); // no pattern: only the checks on the count
    description += "\nto " + spec.destination + (dest_slash ? "/" : "");
    state.cache_key = chain(state.cache_key, description);
    if (try_cache(state)) return;

    std::unique_ptr<SourceTree> image_tree;
    if (from_image) {
        std::string mount = image::mount_image(store(), *from_image);
        image_tree = std::make_unique<SourceTree>(
            SourceTree::root_filesystem(mount, "image " + from_image->id.short_hex()));
    }
    struct Unmount {
        image::ImageStore& store;
        std::optional<image::Image>& image;
        ~Unmount() {
            try {
                if (image) image::unmount_image(store, *image);
            } catch (const Error&) {
            }
        }
    } unmount{store(), from_image};
    if (image_tree) match_sources(*image_tree);
    // COPY needs only the stage's layers mounted, not an image in the store:
    // no commit (two blob writes and an index row) for the config steps before it.
    image::Image base;
    if (state.committed) {
        base = *state.committed;
    } else {
        base.config = state.config;
        base.manifest.layers = state.layers;
    }
    std::string work_dir = new_work_dir();
    oci::Descriptor layer;
    for (bool on_tmpfs : {true, false}) {
        make_directories(work_dir, 0700);
        on_tmpfs = on_tmpfs && detail::mount_scratch_tmpfs(work_dir);
        try {
            layer = detail::copy_step(store(), base, work_dir, spec);
            remove_work_dir(work_dir);
            break;
        } catch (const Error& error) {
            try {
                remove_work_dir(work_dir);
            } catch (const Error&) {
            }
            // Too big for the tmpfs: again on disk.
            if (on_tmpfs && error.errno_value() == ENOSPC) continue;
            throw;
        } catch (...) {
            try {
                remove_work_dir(work_dir);
            } catch (const Error&) {
            }
            throw;
        }
    }
    add_layer(state, layer, instruction.text);
}

} // namespace berth::build::detail
