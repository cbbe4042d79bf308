#include "berth/build/dockerfile.h"

#include "berth/base/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <set>

namespace berth::build {

namespace {

constexpr std::array known_instructions = {
    "ADD",    "ARG",   "CMD",         "COPY",  "ENTRYPOINT", "ENV",
    "EXPOSE", "FROM",  "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD",
    "RUN",    "SHELL", "STOPSIGNAL",  "USER",  "VOLUME",     "WORKDIR"};

// The flags each instruction takes; anything else is an error at parse time.
const std::map<std::string, std::set<std::string>, std::less<>>& allowed_flags() {
    static const std::map<std::string, std::set<std::string>, std::less<>> flags = {
        {"FROM", {"platform"}},
        {"RUN", {"mount", "network", "security"}},
        {"COPY", {"from", "chown", "chmod", "link", "parents", "exclude"}},
        {"ADD", {"chown", "chmod", "link", "checksum", "keep-git-dir", "exclude"}},
        {"HEALTHCHECK", {"interval", "timeout", "start-period", "start-interval", "retries"}},
    };
    return flags;
}

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

std::string_view trim_left(std::string_view text) {
    while (!text.empty() && (is_blank(text.front()) || text.front() == '\r'))
        text.remove_prefix(1);
    return text;
}

std::string_view trim(std::string_view text) {
    text = trim_left(text);
    while (!text.empty() && (is_blank(text.back()) || text.back() == '\r'))
        text.remove_suffix(1);
    return text;
}

std::string upper(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return out;
}

[[noreturn]] void fail_at(const std::string& name, int line, const std::string& what) {
    fail(name + ":" + std::to_string(line) + ": " + what);
}

struct Line {
    std::string text;
    int number;
};

std::vector<Line> split_into_lines(std::string_view text) {
    std::vector<Line> lines;
    int number = 1;
    while (!text.empty()) {
        auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        lines.push_back({std::string(line), number++});
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
    return lines;
}

// "# key=value" before anything else; nullopt for any other line.
std::optional<std::pair<std::string, std::string>> parser_directive(std::string_view line) {
    line = trim(line);
    if (line.empty() || line.front() != '#') return std::nullopt;
    line = trim(line.substr(1));
    auto equals = line.find('=');
    if (equals == std::string_view::npos) return std::nullopt;
    std::string key(trim(line.substr(0, equals)));
    if (key.empty() || !std::all_of(key.begin(), key.end(), [](unsigned char c) {
            return std::isalnum(c) || c == '_' || c == '-';
        }))
        return std::nullopt;
    std::transform(key.begin(), key.end(), key.begin(), ::tolower);
    return std::make_pair(key, std::string(trim(line.substr(equals + 1))));
}

// A line ending with the escape character (then only blanks) continues.
bool continues(std::string& line, char escape) {
    std::size_t end = line.size();
    while (end > 0 && (is_blank(line[end - 1]) || line[end - 1] == '\r'))
        --end;
    if (end == 0 || line[end - 1] != escape) return false;
    line.resize(end - 1);
    return true;
}

std::optional<std::vector<std::string>> json_string_array(std::string_view text) {
    if (text.empty() || text.front() != '[') return std::nullopt;
    auto value = nlohmann::json::parse(text, nullptr, false);
    if (value.is_discarded() || !value.is_array()) return std::nullopt;
    std::vector<std::string> items;
    for (const auto& item : value) {
        if (!item.is_string()) return std::nullopt;
        items.push_back(item.get<std::string>());
    }
    return items;
}

// Heredoc openers (<<EOF, <<-EOF, <<"EOF", <<'EOF') outside quotes.
struct HeredocOpener {
    std::string delimiter;
    bool strip_tabs = false;
    bool expand = true;
};

std::vector<HeredocOpener> heredoc_openers(std::string_view text, char escape) {
    std::vector<HeredocOpener> openers;
    char quote = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == escape && quote != '\'') {
            ++i;
            continue;
        }
        if (quote) {
            if (c == quote) quote = 0;
            continue;
        }
        if (c == '\'' || c == '"') {
            quote = c;
            continue;
        }
        if (c != '<' || i + 2 >= text.size() + 0 || text[i + 1] != '<') continue;
        std::size_t j = i + 2;
        if (j < text.size() && text[j] == '<') { // <<< is a here-string, not a heredoc
            i = j;
            continue;
        }
        HeredocOpener opener;
        if (j < text.size() && text[j] == '-') {
            opener.strip_tabs = true;
            ++j;
        }
        char delimiter_quote = 0;
        if (j < text.size() && (text[j] == '"' || text[j] == '\'')) delimiter_quote = text[j++];
        std::size_t start = j;
        while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) ||
                                   text[j] == '_' || text[j] == '-' || text[j] == '.'))
            ++j;
        if (j == start) continue;
        opener.delimiter = std::string(text.substr(start, j - start));
        if (delimiter_quote) {
            if (j >= text.size() || text[j] != delimiter_quote) continue;
            opener.expand = false;
            ++j;
        }
        openers.push_back(opener);
        i = j - 1;
    }
    return openers;
}

bool takes_heredocs(std::string_view keyword) {
    return keyword == "RUN" || keyword == "COPY" || keyword == "ADD";
}

} // namespace

const InstructionFlag* Instruction::flag(std::string_view name) const {
    const InstructionFlag* found = nullptr;
    for (const auto& f : flags)
        if (f.name == name) found = &f; // the last one given wins
    return found;
}

bool is_known_instruction(std::string_view keyword) {
    return std::find(known_instructions.begin(), known_instructions.end(), keyword) !=
           known_instructions.end();
}

Instruction parse_instruction(std::string_view text, int line, char /*escape*/,
                              const std::string& name) {
    Instruction instruction;
    instruction.line = line;
    text = trim(text);
    instruction.text = std::string(text);
    std::size_t end = 0;
    while (end < text.size() && !is_blank(text[end]))
        ++end;
    instruction.keyword = upper(text.substr(0, end));
    if (!is_known_instruction(instruction.keyword))
        fail_at(name, line, "unknown instruction " + std::string(text.substr(0, end)));
    std::string_view rest = trim_left(text.substr(end));

    // Leading --flag words, for every instruction, so that a misplaced flag
    // is reported rather than taken as an argument.
    while (rest.starts_with("--")) {
        std::size_t word_end = 0;
        while (word_end < rest.size() && !is_blank(rest[word_end]))
            ++word_end;
        std::string_view word = rest.substr(2, word_end - 2);
        InstructionFlag flag;
        auto equals = word.find('=');
        flag.name = std::string(word.substr(0, equals));
        if (equals != std::string_view::npos) flag.value = std::string(word.substr(equals + 1));
        if (flag.name.empty()) fail_at(name, line, "empty flag in " + instruction.keyword);
        auto allowed = allowed_flags().find(instruction.keyword);
        if (allowed == allowed_flags().end() || !allowed->second.contains(flag.name))
            fail_at(name, line, "unknown flag --" + flag.name + " for " + instruction.keyword);
        instruction.flags.push_back(std::move(flag));
        rest = trim_left(rest.substr(word_end));
    }
    instruction.arguments = std::string(rest);
    if (auto items = json_string_array(rest)) {
        instruction.json_form = true;
        instruction.json_arguments = std::move(*items);
    }
    return instruction;
}

Dockerfile parse_dockerfile(std::string_view text, const std::string& name) {
    Dockerfile dockerfile;
    std::vector<Line> lines = split_into_lines(text);
    std::size_t i = 0;

    std::set<std::string> seen_directives;
    for (; i < lines.size(); ++i) {
        auto directive = parser_directive(lines[i].text);
        if (!directive) break;
        auto& [key, value] = *directive;
        if (key != "syntax" && key != "escape" && key != "check") break; // a comment
        if (!seen_directives.insert(key).second)
            fail_at(name, lines[i].number, "only one " + key + " parser directive can be used");
        if (key == "escape") {
            if (value != "\\" && value != "`")
                fail_at(name, lines[i].number,
                        "invalid escape token '" + value + "': only \\ and ` are allowed");
            dockerfile.escape = value.front();
        } else if (key == "syntax") {
            dockerfile.syntax = value;
        }
    }

    while (i < lines.size()) {
        std::string_view first = trim_left(lines[i].text);
        if (first.empty() || first.front() == '#') {
            ++i;
            continue;
        }
        int line_number = lines[i].number;
        std::string joined;
        for (bool first_line = true; i < lines.size(); first_line = false) {
            std::string line = lines[i++].text;
            if (!first_line) {
                std::string_view content = trim_left(line);
                // Comments and blank lines inside a continuation are dropped.
                if (content.empty() || content.front() == '#') continue;
            }
            if (!continues(line, dockerfile.escape)) {
                joined += line;
                break;
            }
            joined += line;
        }
        Instruction instruction = parse_instruction(joined, line_number, dockerfile.escape, name);
        if (takes_heredocs(instruction.keyword) && !instruction.json_form) {
            for (const auto& opener : heredoc_openers(instruction.arguments, dockerfile.escape)) {
                Heredoc heredoc{opener.delimiter, "", opener.expand};
                bool closed = false;
                while (i < lines.size()) {
                    std::string body_line = lines[i++].text;
                    if (opener.strip_tabs)
                        body_line.erase(0, body_line.find_first_not_of('\t') == std::string::npos
                                               ? body_line.size()
                                               : body_line.find_first_not_of('\t'));
                    if (body_line == opener.delimiter) {
                        closed = true;
                        break;
                    }
                    heredoc.body += body_line + "\n";
                }
                if (!closed)
                    fail_at(name, line_number,
                            "heredoc <<" + opener.delimiter + " is not closed by a line " +
                                opener.delimiter);
                instruction.heredocs.push_back(std::move(heredoc));
            }
        }
        dockerfile.instructions.push_back(std::move(instruction));
    }
    return dockerfile;
}

} // namespace berth::build
