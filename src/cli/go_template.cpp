#include "go_template.h"

#include "go_template_functions.h"

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

using go_template_parts::call;
using go_template_parts::go_text;
using go_template_parts::template_error;
using go_template_parts::truth;

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
