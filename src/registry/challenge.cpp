#include "berth/registry/challenge.h"

#include "berth/base/error.h"

#include <cctype>

namespace berth::registry {

namespace {

// RFC 7230 token characters.
bool is_token_char(char c) {
    if (std::isalnum(static_cast<unsigned char>(c))) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

class Parser {
  public:
    explicit Parser(std::string_view text) : text_(text) {}

    std::vector<Challenge> parse() {
        std::vector<Challenge> challenges;
        skip_separators();
        while (!at_end()) {
            Challenge challenge;
            challenge.scheme = lowercase(token("an authentication scheme"));
            skip_spaces();
            // Parameters until the next scheme: a token followed by a space
            // or the end rather than by "=".
            while (!at_end()) {
                skip_separators();
                if (at_end()) break;
                std::size_t mark = position_;
                std::string name = token("a parameter name");
                skip_spaces();
                if (at_end() || text_[position_] != '=') {
                    position_ = mark; // the next challenge's scheme
                    break;
                }
                ++position_;
                skip_spaces();
                challenge.parameters[lowercase(name)] = value();
                skip_spaces();
                if (!at_end() && text_[position_] != ',')
                    fail_here("expected \",\" after a parameter");
            }
            challenges.push_back(std::move(challenge));
            if (challenges.size() > 16) fail_here("too many challenges");
        }
        if (challenges.empty()) fail("empty WWW-Authenticate header");
        return challenges;
    }

  private:
    bool at_end() const { return position_ >= text_.size(); }
    void skip_spaces() {
        while (!at_end() && (text_[position_] == ' ' || text_[position_] == '\t'))
            ++position_;
    }
    void skip_separators() {
        while (!at_end() &&
               (text_[position_] == ' ' || text_[position_] == '\t' || text_[position_] == ','))
            ++position_;
    }
    [[noreturn]] void fail_here(std::string_view what) const {
        fail("malformed WWW-Authenticate header at character " + std::to_string(position_) + ": " +
             std::string(what));
    }
    std::string token(std::string_view what) {
        std::size_t start = position_;
        while (!at_end() && is_token_char(text_[position_]))
            ++position_;
        if (position_ == start) fail_here("expected " + std::string(what));
        return std::string(text_.substr(start, position_ - start));
    }
    std::string value() {
        if (at_end() || text_[position_] != '"') return token("a parameter value");
        ++position_;
        std::string out;
        while (true) {
            if (at_end()) fail_here("unterminated quoted string");
            char c = text_[position_++];
            if (c == '"') return out;
            if (c == '\\') {
                if (at_end()) fail_here("unterminated quoted string");
                c = text_[position_++];
            }
            if (static_cast<unsigned char>(c) < 0x20 && c != '\t') fail_here("control character");
            out += c;
        }
    }

    std::string_view text_;
    std::size_t position_ = 0;
};

} // namespace

std::vector<Challenge> parse_www_authenticate(std::string_view header) {
    if (header.size() > 8192) fail("WWW-Authenticate header longer than 8192 bytes");
    return Parser(header).parse();
}

} // namespace berth::registry
