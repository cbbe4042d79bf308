#include "go_template.h"

#include "berth/base/error.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace berth::cli {

using nlohmann::json;

// Outside an anonymous namespace: Template::Node, which has external
// linkage, holds them.
namespace go_template_parts {

struct Pipeline;

struct Operand {
    enum Kind { field, variable, function, literal, pipeline } kind;
    std::string name;               // a variable's ("$" for the root) or a function's
    std::vector<std::string> chain; // the field names after the dot or the variable
    json value;                     // a literal's
    std::shared_ptr<Pipeline> inner;
};

struct Command {
    std::vector<Operand> operands;
};

struct Pipeline {
    std::vector<std::string> declared; // `$x :=`, `$i, $v :=`
    std::vector<Command> commands;
};

} // namespace go_template_parts

using namespace go_template_parts;

struct Template::Node {
    enum Kind { text, action, if_block, range_block, with_block } kind = text;
    std::string literal;
    Pipeline pipeline;
    std::vector<Node> body, otherwise;
};

namespace {

using Node = Template::Node;

// Deep enough for any template a person writes; shallow enough that a
// hostile one cannot exhaust the stack.
constexpr int max_depth = 100;

[[noreturn]] void template_error(const std::string& what) {
    fail("--format: " + what);
}

bool is_word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// --- lexing one action --------------------------------------------------

struct Token {
    enum Kind { field, variable, word, string, number, pipe, open, close, comma, declare, assign };
    Kind kind;
    std::string text;
    std::vector<std::string> chain;
};

std::vector<std::string> read_chain(const std::string& text, std::size_t& i) {
    std::vector<std::string> chain;
    while (i < text.size() && text[i] == '.') {
        std::size_t start = ++i;
        while (i < text.size() && is_word_char(text[i]))
            ++i;
        if (i == start) {
            if (chain.empty() && (i >= text.size() || !is_word_char(text[i]))) return chain;
            template_error("bad field name in \"" + text + "\"");
        }
        chain.push_back(text.substr(start, i - start));
    }
    return chain;
}

std::string read_quoted(const std::string& text, std::size_t& i) {
    char quote = text[i++];
    std::string out;
    while (i < text.size() && text[i] != quote) {
        char c = text[i++];
        if (quote == '"' && c == '\\' && i < text.size()) {
            char escaped = text[i++];
            out += escaped == 'n' ? '\n' : escaped == 't' ? '\t' : escaped;
        } else {
            out += c;
        }
    }
    if (i >= text.size()) template_error("unterminated string in \"" + text + "\"");
    ++i;
    return out;
}

std::vector<Token> lex(const std::string& text) {
    std::vector<Token> tokens;
    std::size_t i = 0;
    while (i < text.size()) {
        char c = text[i];
        if (std::isspace(static_cast<unsigned char>(c))) {
            ++i;
        } else if (c == '.') {
            tokens.push_back({Token::field, {}, read_chain(text, i)});
        } else if (c == '$') {
            std::size_t start = i++;
            while (i < text.size() && is_word_char(text[i]))
                ++i;
            std::string name = text.substr(start, i - start);
            tokens.push_back({Token::variable, name, read_chain(text, i)});
        } else if (c == '"' || c == '`') {
            tokens.push_back({Token::string, read_quoted(text, i), {}});
        } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                   ((c == '-' || c == '+') && i + 1 < text.size() &&
                    std::isdigit(static_cast<unsigned char>(text[i + 1])))) {
            std::size_t start = i++;
            while (i < text.size() &&
                   (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
                ++i;
            tokens.push_back({Token::number, text.substr(start, i - start), {}});
        } else if (is_word_char(c)) {
            std::size_t start = i;
            while (i < text.size() && is_word_char(text[i]))
                ++i;
            tokens.push_back({Token::word, text.substr(start, i - start), {}});
        } else if (c == ':' && i + 1 < text.size() && text[i + 1] == '=') {
            tokens.push_back({Token::declare, ":=", {}});
            i += 2;
        } else {
            static const std::string singles = "|(),=";
            auto kind = singles.find(c);
            if (kind == std::string::npos)
                template_error("unexpected \"" + std::string(1, c) + "\" in \"" + text + "\"");
            static const Token::Kind kinds[] = {Token::pipe, Token::open, Token::close,
                                                Token::comma, Token::assign};
            tokens.push_back({kinds[kind], std::string(1, c), {}});
            ++i;
        }
    }
    return tokens;
}

// --- parsing one action's pipeline ----------------------------------------

class PipelineParser {
  public:
    PipelineParser(std::string text) : text_(std::move(text)), tokens_(lex(text_)) {}

    Pipeline parse() {
        Pipeline pipeline = parse_pipeline(0);
        if (position_ != tokens_.size()) unexpected();
        return pipeline;
    }

  private:
    [[noreturn]] void unexpected() {
        template_error("unexpected \"" + tokens_[position_].text + "\" in \"" + text_ + "\"");
    }
    bool at(Token::Kind kind, std::size_t ahead = 0) const {
        return position_ + ahead < tokens_.size() && tokens_[position_ + ahead].kind == kind;
    }
    bool bare_variable(std::size_t ahead) const {
        return at(Token::variable, ahead) && tokens_[position_ + ahead].chain.empty();
    }

    Pipeline parse_pipeline(int depth) {
        if (depth > max_depth) template_error("too deeply nested: \"" + text_ + "\"");
        Pipeline pipeline;
        if (bare_variable(0) && (at(Token::declare, 1) || at(Token::assign, 1))) {
            pipeline.declared.push_back(tokens_[position_].text);
            position_ += 2;
        } else if (bare_variable(0) && at(Token::comma, 1) && bare_variable(2) &&
                   at(Token::declare, 3)) {
            pipeline.declared = {tokens_[position_].text, tokens_[position_ + 2].text};
            position_ += 4;
        }
        for (;;) {
            Command command;
            while (position_ < tokens_.size() && !at(Token::pipe) && !at(Token::close))
                command.operands.push_back(parse_operand(depth));
            if (command.operands.empty()) template_error("missing value in \"" + text_ + "\"");
            pipeline.commands.push_back(std::move(command));
            if (!at(Token::pipe)) break;
            ++position_;
        }
        return pipeline;
    }

    Operand parse_operand(int depth) {
        const Token& token = tokens_[position_];
        Operand operand{Operand::literal, {}, {}, nullptr, nullptr};
        switch (token.kind) {
        case Token::field:
            operand.kind = Operand::field;
            operand.chain = token.chain;
            break;
        case Token::variable:
            operand.kind = Operand::variable;
            operand.name = token.text;
            operand.chain = token.chain;
            break;
        case Token::string:
            operand.value = token.text;
            break;
        case Token::number: {
            auto parsed = json::parse(token.text.front() == '+' ? token.text.substr(1) : token.text,
                                      nullptr, false);
            if (parsed.is_discarded()) template_error("bad number " + token.text);
            operand.value = parsed;
            break;
        }
        case Token::word:
            if (token.text == "true" || token.text == "false") {
                operand.value = token.text == "true";
            } else if (token.text != "nil") {
                operand.kind = Operand::function;
                operand.name = token.text;
            }
            break;
        case Token::open: {
            ++position_;
            operand.kind = Operand::pipeline;
            operand.inner = std::make_shared<Pipeline>(parse_pipeline(depth + 1));
            if (!at(Token::close)) template_error("unclosed \"(\" in \"" + text_ + "\"");
            break;
        }
        default:
            unexpected();
        }
        ++position_;
        return operand;
    }

    std::string text_;
    std::vector<Token> tokens_;
    std::size_t position_ = 0;
};

// --- splitting the text and building the tree -------------------------------

struct Piece {
    bool action;
    std::string text;
};

std::vector<Piece> split_pieces(const std::string& text) {
    std::vector<Piece> pieces;
    std::size_t position = 0;
    auto trim_back = [&pieces] {
        if (pieces.empty() || pieces.back().action) return;
        auto& literal = pieces.back().text;
        literal.erase(literal.find_last_not_of(" \t\r\n") + 1);
    };
    bool trim_next = false;
    while (position < text.size()) {
        auto open = text.find("{{", position);
        std::string literal =
            text.substr(position, open == std::string::npos ? std::string::npos : open - position);
        if (trim_next) literal.erase(0, literal.find_first_not_of(" \t\r\n"));
        if (!literal.empty()) pieces.push_back({false, literal});
        if (open == std::string::npos) break;
        auto close = text.find("}}", open + 2);
        if (close == std::string::npos) template_error("\"{{\" without \"}}\"");
        std::string inside = text.substr(open + 2, close - open - 2);
        // "{{- " and " -}}" trim the white space beside the action.
        if (inside.starts_with("- ") || inside == "-") {
            trim_back();
            inside.erase(0, 1);
        }
        trim_next = inside.size() >= 2 && inside.ends_with(" -");
        if (trim_next) inside.pop_back();
        pieces.push_back({true, inside});
        position = close + 2;
    }
    return pieces;
}

std::string trim(const std::string& text) {
    auto begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos) return {};
    return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

// The keyword an action starts with ("if", "end"...), and what follows it.
std::pair<std::string, std::string> keyword_of(const std::string& action) {
    static const char* keywords[] = {"if", "range", "with", "else", "end"};
    for (const char* keyword : keywords) {
        std::string word = keyword;
        if (action == word) return {word, ""};
        if (action.starts_with(word) && !is_word_char(action[word.size()]))
            return {word, trim(action.substr(word.size()))};
    }
    return {"", action};
}

class TreeBuilder {
  public:
    explicit TreeBuilder(std::vector<Piece> pieces) : pieces_(std::move(pieces)) {}

    std::vector<Node> build() {
        auto [nodes, stop] = parse_list(0);
        if (!stop.empty()) template_error("unexpected {{" + stop + "}}");
        return nodes;
    }

  private:
    // Nodes up to an {{else...}} or {{end}} (returned, with else's rest in
    // else_rest_), or to the end of the text (returns "").
    std::pair<std::vector<Node>, std::string> parse_list(int depth) {
        if (depth > max_depth) template_error("blocks nested too deeply");
        std::vector<Node> nodes;
        while (position_ < pieces_.size()) {
            const Piece& piece = pieces_[position_++];
            if (!piece.action) {
                nodes.push_back({Node::text, piece.text, {}, {}, {}});
                continue;
            }
            std::string action = trim(piece.text);
            if (action.starts_with("/*")) continue;
            auto [keyword, rest] = keyword_of(action);
            if (keyword == "end" || keyword == "else") {
                else_rest_ = rest;
                return {std::move(nodes), keyword};
            }
            if (keyword.empty()) {
                nodes.push_back({Node::action, {}, PipelineParser(action).parse(), {}, {}});
                continue;
            }
            Node::Kind kind = keyword == "if"      ? Node::if_block
                              : keyword == "range" ? Node::range_block
                                                   : Node::with_block;
            nodes.push_back(parse_block(kind, rest, depth + 1));
        }
        return {std::move(nodes), ""};
    }

    Node parse_block(Node::Kind kind, const std::string& head, int depth) {
        if (head.empty()) template_error("missing value after a block keyword");
        Node node{kind, {}, PipelineParser(head).parse(), {}, {}};
        auto [body, stop] = parse_list(depth);
        node.body = std::move(body);
        if (stop.empty()) template_error("unexpected end of the format: missing {{end}}");
        if (stop == "end") return node;
        if (else_rest_.starts_with("if") && keyword_of(else_rest_).first == "if") {
            // {{else if X}}: a nested block that ends at the same {{end}}.
            node.otherwise.push_back(
                parse_block(Node::if_block, keyword_of(else_rest_).second, depth + 1));
            return node;
        }
        if (!else_rest_.empty()) template_error("unexpected \"" + else_rest_ + "\" after else");
        auto [otherwise, last] = parse_list(depth);
        if (last != "end") template_error("missing {{end}} after {{else}}");
        node.otherwise = std::move(otherwise);
        return node;
    }

    std::vector<Piece> pieces_;
    std::size_t position_ = 0;
    std::string else_rest_;
};

// --- evaluating ---------------------------------------------------------

// As JSON; bytes that are not UTF-8 (a format's literal may hold any) become
// U+FFFD instead of an exception.
std::string dump(const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Go's default formatting of a value: strings bare, lists as [a b], maps
// as map[k:v], nothing as <no value>.
std::string go_text(const json& value) {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_null()) return "<no value>";
    if (value.is_array()) {
        std::string out = "[";
        for (std::size_t i = 0; i < value.size(); ++i)
            out += (i ? " " : "") + go_text(value[i]);
        return out + "]";
    }
    if (value.is_object()) {
        std::string out = "map[";
        bool first = true;
        for (auto& [key, item] : value.items()) {
            out += (first ? "" : " ") + key + ":" + go_text(item);
            first = false;
        }
        return out + "]";
    }
    return dump(value);
}

bool truth(const json& value) {
    if (value.is_null()) return false;
    if (value.is_boolean()) return value.get<bool>();
    if (value.is_number()) return value.get<double>() != 0;
    return !value.empty();
}

// Go's json.Marshal escapes <, > and & (they can only be inside strings).
std::string go_json(const json& value) {
    std::string out;
    for (char c : dump(value))
        out += c == '<'   ? "\\u003c"
               : c == '>' ? "\\u003e"
               : c == '&' ? "\\u0026"
                          : std::string(1, c);
    return out;
}

int compare(const json& a, const json& b, const std::string& function) {
    if (a.is_number() && b.is_number()) {
        double x = a.get<double>(), y = b.get<double>();
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.is_string() && b.is_string()) return a.get<std::string>().compare(b.get<std::string>());
    if (function == "eq" || function == "ne") return a == b ? 0 : 1;
    template_error(function + ": incompatible types for comparison");
}

std::string printf_text(const std::string& format, const std::vector<json>& args) {
    std::string out;
    std::size_t next = 0;
    for (std::size_t i = 0; i < format.size(); ++i) {
        if (format[i] != '%' || i + 1 >= format.size()) {
            out += format[i];
            continue;
        }
        ++i;
        bool left = false;
        while (i < format.size() && format[i] == '-') {
            left = true;
            ++i;
        }
        std::size_t width = 0;
        while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i])))
            width = std::min<std::size_t>(width * 10 + (format[i++] - '0'), 4096);
        if (i >= format.size()) break;
        char verb = format[i];
        if (verb == '%') {
            out += '%';
            continue;
        }
        if (next >= args.size()) {
            out += "%!" + std::string(1, verb) + "(MISSING)";
            continue;
        }
        const json& arg = args[next++];
        std::string text = verb == 'q' ? dump(go_text(arg))
                           : verb == 'd' && arg.is_number()
                               ? std::to_string(static_cast<long long>(arg.get<double>()))
                               : go_text(arg);
        if (text.size() < width)
            text = left ? text + std::string(width - text.size(), ' ')
                        : std::string(width - text.size(), ' ') + text;
        out += text;
    }
    return out;
}

std::string string_argument(const json& value, const std::string& function) {
    if (!value.is_string()) template_error(function + ": expected a string, got " + go_text(value));
    return value.get<std::string>();
}

std::size_t count_argument(const json& value, const std::string& function) {
    if (!value.is_number() || value.get<double>() < 0)
        template_error(function + ": expected a count, got " + go_text(value));
    return static_cast<std::size_t>(std::min(value.get<double>(), 1e6));
}

json call(const std::string& name, const std::vector<json>& args) {
    auto need = [&](std::size_t count) {
        if (args.size() != count)
            template_error("wrong number of args for " + name + ": want " + std::to_string(count) +
                           " got " + std::to_string(args.size()));
    };
    if (name == "json") return need(1), json(go_json(args[0]));
    if (name == "len") {
        need(1);
        if (args[0].is_string()) return args[0].get<std::string>().size();
        if (args[0].is_array() || args[0].is_object()) return args[0].size();
        template_error("len of " + go_text(args[0]));
    }
    if (name == "index") {
        if (args.empty()) template_error("index needs a value");
        json value = args[0];
        for (std::size_t i = 1; i < args.size(); ++i) {
            if (value.is_object() && args[i].is_string()) {
                auto found = value.find(args[i].get<std::string>());
                // A missing key gives the zero value: "" for Docker's label maps.
                value = found == value.end() ? json("") : *found;
            } else if (value.is_array() && args[i].is_number_integer() &&
                       args[i].get<long long>() >= 0 && args[i].get<std::size_t>() < value.size()) {
                value = json(value[args[i].get<std::size_t>()]);
            } else {
                template_error("index of " + go_text(value) + " with " + go_text(args[i]));
            }
        }
        return value;
    }
    if (name == "print" || name == "println") {
        std::string out;
        for (std::size_t i = 0; i < args.size(); ++i) {
            bool space =
                name == "println" || (i > 0 && !args[i].is_string() && !args[i - 1].is_string());
            out += (i > 0 && space ? " " : "") + go_text(args[i]);
        }
        return name == "println" ? out + "\n" : out;
    }
    if (name == "printf") {
        if (args.empty()) template_error("printf needs a format");
        return printf_text(string_argument(args[0], name), {args.begin() + 1, args.end()});
    }
    if (name == "eq") {
        if (args.size() < 2) template_error("eq needs two values");
        for (std::size_t i = 1; i < args.size(); ++i)
            if (compare(args[0], args[i], name) == 0) return true;
        return false;
    }
    if (name == "ne" || name == "lt" || name == "le" || name == "gt" || name == "ge") {
        need(2);
        int order = compare(args[0], args[1], name);
        return name == "ne"   ? order != 0
               : name == "lt" ? order < 0
               : name == "le" ? order <= 0
               : name == "gt" ? order > 0
                              : order >= 0;
    }
    if (name == "and" || name == "or") {
        if (args.empty()) template_error(name + " needs a value");
        for (const auto& arg : args)
            if (truth(arg) == (name == "or")) return arg;
        return args.back();
    }
    if (name == "not") return need(1), json(!truth(args[0]));
    if (name == "join") {
        need(2);
        if (!args[0].is_array()) template_error("join: expected a list, got " + go_text(args[0]));
        std::string out, separator = string_argument(args[1], name);
        for (std::size_t i = 0; i < args[0].size(); ++i)
            out += (i ? separator : "") + go_text(args[0][i]);
        return out;
    }
    if (name == "split") {
        need(2);
        std::string text = string_argument(args[0], name),
                    separator = string_argument(args[1], name);
        json parts = json::array();
        if (separator.empty()) {
            for (char c : text)
                parts.push_back(std::string(1, c));
            return parts;
        }
        std::size_t start = 0, found;
        while ((found = text.find(separator, start)) != std::string::npos) {
            parts.push_back(text.substr(start, found - start));
            start = found + separator.size();
        }
        parts.push_back(text.substr(start));
        return parts;
    }
    if (name == "lower" || name == "upper" || name == "title") {
        need(1);
        std::string text = string_argument(args[0], name);
        bool word_start = true;
        for (char& c : text) {
            auto u = static_cast<unsigned char>(c);
            if (name == "lower") c = static_cast<char>(std::tolower(u));
            if (name == "upper" || (name == "title" && word_start))
                c = static_cast<char>(std::toupper(u));
            word_start = std::isspace(u);
        }
        return text;
    }
    if (name == "pad") {
        need(3);
        return std::string(count_argument(args[1], name), ' ') + string_argument(args[0], name) +
               std::string(count_argument(args[2], name), ' ');
    }
    if (name == "truncate") {
        need(2);
        std::string text = string_argument(args[0], name);
        return text.substr(0, std::min(text.size(), count_argument(args[1], name)));
    }
    template_error("function \"" + name + "\" not defined");
}

class Evaluator {
  public:
    Evaluator(const json& root, const json& methods) : root_(root), methods_(methods) {}

    void run(const std::vector<Node>& nodes, const json& dot, std::string& out) {
        std::size_t scope = variables_.size();
        for (const auto& node : nodes)
            run_node(node, dot, out);
        variables_.resize(scope);
    }

  private:
    void run_node(const Node& node, const json& dot, std::string& out) {
        switch (node.kind) {
        case Node::text:
            out += node.literal;
            return;
        case Node::action: {
            json value = pipeline(node.pipeline, dot);
            if (node.pipeline.declared.empty())
                out += go_text(value);
            else
                declare(node.pipeline.declared.front(), value);
            return;
        }
        case Node::if_block:
        case Node::with_block: {
            std::size_t scope = variables_.size();
            json value = pipeline(node.pipeline, dot);
            if (!node.pipeline.declared.empty()) declare(node.pipeline.declared.front(), value);
            if (truth(value))
                run(node.body, node.kind == Node::with_block ? value : dot, out);
            else
                run(node.otherwise, dot, out);
            variables_.resize(scope);
            return;
        }
        case Node::range_block:
            range(node, dot, out);
            return;
        }
    }

    void range(const Node& node, const json& dot, std::string& out) {
        json value = pipeline(node.pipeline, dot);
        if (!value.is_null() && !value.is_array() && !value.is_object())
            template_error("range can't iterate over " + go_text(value));
        if (!truth(value)) {
            run(node.otherwise, dot, out);
            return;
        }
        const auto& declared = node.pipeline.declared;
        std::size_t index = 0;
        for (auto item = value.begin(); item != value.end(); ++item, ++index) {
            std::size_t scope = variables_.size();
            if (declared.size() == 1) declare(declared[0], *item);
            if (declared.size() == 2) {
                declare(declared[0], value.is_object() ? json(item.key()) : json(index));
                declare(declared[1], *item);
            }
            run(node.body, *item, out);
            variables_.resize(scope);
        }
    }

    void declare(const std::string& name, const json& value) {
        variables_.emplace_back(name, value);
    }

    json variable(const std::string& name) const {
        if (name == "$") return root_;
        for (auto it = variables_.rbegin(); it != variables_.rend(); ++it)
            if (it->first == name) return it->second;
        template_error("undefined variable \"" + name + "\"");
    }

    static json walk(json value, const std::vector<std::string>& chain) {
        for (const auto& key : chain) {
            if (value.is_null()) return value;
            if (!value.is_object())
                template_error("can't evaluate field " + key + " in " + go_text(value));
            auto found = value.find(key);
            if (found == value.end()) template_error("no field \"" + key + "\"");
            value = json(*found);
        }
        return value;
    }

    json operand(const Operand& operand, const json& dot) {
        switch (operand.kind) {
        case Operand::field:
            return walk(dot, operand.chain);
        case Operand::variable:
            return walk(variable(operand.name), operand.chain);
        case Operand::pipeline:
            return pipeline(*operand.inner, dot);
        case Operand::function:
            return call(operand.name, {});
        case Operand::literal:
            break;
        }
        return operand.value;
    }

    json command(const Command& command, const json& dot, const json* piped) {
        const Operand& first = command.operands.front();
        std::vector<json> args;
        for (std::size_t i = 1; i < command.operands.size(); ++i)
            args.push_back(operand(command.operands[i], dot));
        if (piped) args.push_back(*piped);
        if (first.kind == Operand::function) return call(first.name, args);
        if (first.kind == Operand::field && first.chain.size() == 1 && !args.empty() &&
            methods_.contains(first.chain[0])) {
            args.insert(args.begin(), methods_[first.chain[0]]);
            return call("index", args);
        }
        json value = operand(first, dot);
        if (args.empty()) return value;
        // {{.Label "key"}}: Docker's methods that take a key read a map.
        if ((first.kind == Operand::field || first.kind == Operand::variable) &&
            value.is_object()) {
            args.insert(args.begin(), value);
            return call("index", args);
        }
        template_error("can't give arguments to a value that is not a function");
    }

    json pipeline(const Pipeline& pipeline, const json& dot) {
        json value;
        bool first = true;
        for (const auto& each : pipeline.commands) {
            value = command(each, dot, first ? nullptr : &value);
            first = false;
        }
        return value;
    }

    const json& root_;
    const json& methods_;
    std::vector<std::pair<std::string, json>> variables_;
};

// "\t" and "\n" as typed on a command line are a tab and a newline.
std::string unescape(const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == 't' || text[i + 1] == 'n')) {
            out += text[i + 1] == 't' ? '\t' : '\n';
            ++i;
        } else {
            out += text[i];
        }
    }
    return out;
}

// The field a table column shows: the last one the action names.
const std::vector<std::string>* column_field(const Pipeline& pipeline) {
    const std::vector<std::string>* found = nullptr;
    for (const auto& command : pipeline.commands)
        for (const auto& operand : command.operands) {
            if (operand.kind == Operand::field && !operand.chain.empty()) found = &operand.chain;
            if (operand.kind == Operand::pipeline)
                if (auto inner = column_field(*operand.inner)) found = inner;
        }
    return found;
}

} // namespace

Template::Template(std::string text) {
    if (text.starts_with("table")) {
        table_ = true;
        text = trim(text.substr(5));
        if (text.empty())
            fail("--format table: give the columns, e.g. \"table {{.ID}}\\t{{.Tag}}\"");
    }
    nodes_ = std::make_shared<const std::vector<Node>>(
        TreeBuilder(split_pieces(unescape(text))).build());
}

std::string Template::render(const json& data, const json& methods) const {
    std::string out;
    Evaluator(data, methods).run(*nodes_, data, out);
    return out;
}

std::string Template::header(const std::vector<std::pair<std::string, std::string>>& titles) const {
    std::string out;
    for (const auto& node : *nodes_) {
        if (node.kind == Node::text) {
            out += node.literal;
            continue;
        }
        if (node.kind != Node::action) continue;
        // {{.Label "com.x"}}: Docker heads the column with the key.
        const auto& operands = node.pipeline.commands.front().operands;
        if (operands.size() == 2 && operands[0].kind == Operand::field &&
            operands[1].kind == Operand::literal && operands[1].value.is_string()) {
            out += operands[1].value.get<std::string>();
            continue;
        }
        auto chain = column_field(node.pipeline);
        if (!chain) continue;
        std::string field;
        for (const auto& key : *chain)
            field += (field.empty() ? "" : ".") + key;
        std::string title;
        for (const auto& [name, shown] : titles)
            if (name == field) title = shown;
        if (title.empty())
            for (char c : field)
                title += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        out += title;
    }
    return out;
}

} // namespace berth::cli
