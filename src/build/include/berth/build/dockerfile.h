// The Dockerfile language as Docker documents it, parsed into instructions:
// parser directives (`# syntax`, `# escape`), comments, line continuations,
// flags, the JSON and shell forms and heredocs. The parser checks what it
// can without build state (known instructions, known flags); variables are
// expanded later by the builder, which knows their values. Errors name the
// line: "Dockerfile:12: unknown instruction FOO".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::build {

struct InstructionFlag {
    std::string name;                 // "from" for --from=stage
    std::optional<std::string> value; // nullopt for a bare --link
};

struct Heredoc {
    std::string delimiter; // "EOF"
    std::string body;      // lines after the instruction, each with its '\n'
    bool expand = true;    // false when the delimiter was quoted: <<"EOF"
};

struct Instruction {
    int line = 0;                       // first line, counting from 1
    std::string keyword;                // upper case: "RUN"
    std::vector<InstructionFlag> flags; // the leading --name[=value] words
    std::string arguments;              // what follows the flags, continuations joined
    bool json_form = false;             // arguments were a JSON array of strings
    std::vector<std::string> json_arguments;
    std::vector<Heredoc> heredocs;
    std::string text; // "RUN apt-get update" as written (joined), for history

    const InstructionFlag* flag(std::string_view name) const;
};

struct Dockerfile {
    char escape = '\\';
    std::string syntax; // the `# syntax=` directive, recorded but not acted on
    std::vector<Instruction> instructions;
};

// `name` is shown in errors ("Dockerfile", or the -f path).
Dockerfile parse_dockerfile(std::string_view text, const std::string& name = "Dockerfile");

// One instruction's text ("RUN echo hi"), as ONBUILD stores its trigger.
Instruction parse_instruction(std::string_view text, int line, char escape,
                              const std::string& name = "Dockerfile");

// The instructions berth knows, upper case.
bool is_known_instruction(std::string_view keyword);

} // namespace berth::build
