// .dockerignore, as Docker documents it: one pattern per line, `#` comments,
// Go's filepath.Match syntax (`*`, `?`, `[a-z]`, `\` escapes) per path
// component, `**` for any number of directories, `!` for exceptions; the
// last pattern that matches a path decides. A pattern that matches a
// directory excludes what is inside it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace berth::build {

class IgnoreRules {
  public:
    IgnoreRules() = default;
    // Parses the file's text; Error on a malformed pattern (an unclosed `[`).
    explicit IgnoreRules(std::string_view text);

    // `path` is relative to the context root, '/'-separated ("src/a.c").
    bool excluded(std::string_view path) const;
    // Whether some exception could bring back a path below an excluded
    // directory, so that the walk must still go into it.
    bool has_exceptions() const { return has_exceptions_; }
    bool empty() const { return patterns_.empty(); }

  private:
    struct Pattern {
        std::vector<std::string> components;
        bool exception = false;
    };
    std::vector<Pattern> patterns_;
    bool has_exceptions_ = false;
};

// Go's filepath.Match for one path component (no '/' in `name`): Error on a
// malformed pattern.
bool match_component(std::string_view pattern, std::string_view name);

// Cleans a path as Go's filepath.Clean, without a leading "/" or "./".
std::string clean_relative_path(std::string_view path);

} // namespace berth::build
