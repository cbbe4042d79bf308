#include "go_template_functions.h"

#include "berth/base/error.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace berth::cli::go_template_parts {

using nlohmann::json;

void template_error(const std::string& what) {
    fail("--format: " + what);
}

// As JSON; bytes that are not UTF-8 (a format's literal may hold any) become
// U+FFFD instead of an exception.
static std::string dump(const json& value) {
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
static std::string go_json(const json& value) {
    std::string out;
    for (char c : dump(value))
        out += c == '<'   ? "\\u003c"
               : c == '>' ? "\\u003e"
               : c == '&' ? "\\u0026"
                          : std::string(1, c);
    return out;
}

static int compare(const json& a, const json& b, const std::string& function) {
    if (a.is_number() && b.is_number()) {
        double x = a.get<double>(), y = b.get<double>();
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.is_string() && b.is_string()) return a.get<std::string>().compare(b.get<std::string>());
    if (function == "eq" || function == "ne") return a == b ? 0 : 1;
    template_error(function + ": incompatible types for comparison");
}

static std::string printf_text(const std::string& format, const std::vector<json>& args) {
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

static std::string string_argument(const json& value, const std::string& function) {
    if (!value.is_string()) template_error(function + ": expected a string, got " + go_text(value));
    return value.get<std::string>();
}

static std::size_t count_argument(const json& value, const std::string& function) {
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

} // namespace berth::cli::go_template_parts
