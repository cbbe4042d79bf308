#include "berth/build/shell_words.h"

#include "berth/base/error.h"

#include <cctype>

namespace berth::build {

namespace {

bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
bool is_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

class Expander {
  public:
    Expander(std::string_view text, const VariableLookup& lookup, char escape,
             bool quotes_literal = false)
        : text_(text), lookup_(lookup), escape_(escape), quotes_literal_(quotes_literal) {}

    // Words separated by unquoted blanks when `split`, else one word.
    std::vector<std::string> run(bool split) {
        std::vector<std::string> words;
        std::string word;
        bool in_word = false;
        while (pos_ < text_.size()) {
            char c = text_[pos_];
            if (split && is_blank(c)) {
                if (in_word) words.push_back(std::move(word));
                word.clear();
                in_word = false;
                ++pos_;
                continue;
            }
            in_word = true;
            if (quotes_literal_ && c != '$' &&
                !(c == escape_ && pos_ + 1 < text_.size() && text_[pos_ + 1] == '$')) {
                word += c;
                ++pos_;
            } else if (c == escape_) {
                ++pos_;
                if (pos_ < text_.size())
                    word += text_[pos_++];
                else
                    word += c;
            } else if (c == '\'') {
                auto close = text_.find('\'', pos_ + 1);
                if (close == std::string_view::npos)
                    fail("unterminated single quote in " + std::string(text_));
                word += text_.substr(pos_ + 1, close - pos_ - 1);
                pos_ = close + 1;
            } else if (c == '"') {
                ++pos_;
                double_quoted(word);
            } else if (c == '$') {
                ++pos_;
                word += variable();
            } else {
                word += c;
                ++pos_;
            }
        }
        if (in_word || (!split && words.empty())) words.push_back(std::move(word));
        return words;
    }

  private:
    void double_quoted(std::string& word) {
        while (pos_ < text_.size()) {
            char c = text_[pos_];
            if (c == '"') {
                ++pos_;
                return;
            }
            if (c == escape_ && pos_ + 1 < text_.size()) {
                char next = text_[pos_ + 1];
                if (next == '"' || next == '$' || next == escape_) {
                    word += next;
                    pos_ += 2;
                    continue;
                }
            }
            if (c == '$') {
                ++pos_;
                word += variable();
                continue;
            }
            word += c;
            ++pos_;
        }
        fail("unterminated double quote in " + std::string(text_));
    }

    std::optional<std::string> value_of(const std::string& name) { return lookup_(name); }

    // After a '$'.
    std::string variable() {
        if (pos_ >= text_.size()) return "$";
        if (text_[pos_] == '{') return braced();
        std::size_t start = pos_;
        while (pos_ < text_.size() && is_name_char(text_[pos_]))
            ++pos_;
        if (pos_ == start) return "$";
        return value_of(std::string(text_.substr(start, pos_ - start))).value_or("");
    }

    // ${NAME}, ${NAME:-word}, ${NAME-word}, ${NAME:+word}, ${NAME+word}, ${NAME:?word}.
    std::string braced() {
        ++pos_; // '{'
        std::size_t start = pos_;
        while (pos_ < text_.size() && is_name_char(text_[pos_]))
            ++pos_;
        std::string name(text_.substr(start, pos_ - start));
        if (name.empty()) fail("bad substitution in " + std::string(text_));
        if (pos_ >= text_.size()) fail("missing '}' in " + std::string(text_));
        if (text_[pos_] == '}') {
            ++pos_;
            return value_of(name).value_or("");
        }
        bool colon = false;
        if (text_[pos_] == ':') {
            colon = true;
            ++pos_;
        }
        if (pos_ >= text_.size()) fail("missing '}' in " + std::string(text_));
        char modifier = text_[pos_++];
        if (modifier != '-' && modifier != '+' && modifier != '?')
            fail("unsupported modifier (" + std::string(1, modifier) + ") in substitution " +
                 std::string(text_));
        // The word runs to the matching '}'.
        std::size_t word_start = pos_;
        int depth = 1;
        while (pos_ < text_.size()) {
            char c = text_[pos_];
            if (c == escape_) {
                pos_ += 2;
                continue;
            }
            if (c == '{') ++depth;
            if (c == '}' && --depth == 0) break;
            ++pos_;
        }
        if (pos_ >= text_.size()) fail("missing '}' in " + std::string(text_));
        std::string_view raw_word = text_.substr(word_start, pos_ - word_start);
        ++pos_;
        auto expand_nested = [&] {
            return Expander(raw_word, lookup_, escape_).run(false).front();
        };
        auto value = value_of(name);
        bool set = colon ? value && !value->empty() : value.has_value();
        switch (modifier) {
        case '-':
            return set ? *value : expand_nested();
        case '+':
            return set ? expand_nested() : "";
        default:
            if (!set) {
                std::string message = expand_nested();
                fail(name + ": " + (message.empty() ? "is not allowed to be unset" : message));
            }
            return *value;
        }
    }

    std::string_view text_;
    const VariableLookup& lookup_;
    char escape_;
    bool quotes_literal_;
    std::size_t pos_ = 0;
};

} // namespace

std::string expand_word(std::string_view text, const VariableLookup& lookup, char escape) {
    return Expander(text, lookup, escape).run(false).front();
}

std::vector<std::string> expand_words(std::string_view text, const VariableLookup& lookup,
                                      char escape) {
    return Expander(text, lookup, escape).run(true);
}

std::string expand_variables(std::string_view text, const VariableLookup& lookup, char escape) {
    return Expander(text, lookup, escape, true).run(false).front();
}

std::vector<std::string> split_quoted_words(std::string_view text, char escape) {
    std::vector<std::string> words;
    std::string word;
    char quote = 0;
    bool in_word = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (!quote && is_blank(c)) {
            if (in_word) words.push_back(std::move(word));
            word.clear();
            in_word = false;
            continue;
        }
        in_word = true;
        word += c;
        if (c == escape && quote != '\'' && i + 1 < text.size()) {
            word += text[++i];
        } else if (quote && c == quote) {
            quote = 0;
        } else if (!quote && (c == '\'' || c == '"')) {
            quote = c;
        }
    }
    if (quote) fail("unterminated quote in " + std::string(text));
    if (in_word) words.push_back(std::move(word));
    return words;
}

} // namespace berth::build
