// A command run on a fresh pseudo-terminal and driven like a person at a
// keyboard: type keys, wait for text to appear, see how it exits. For the
// -it paths of `berth run`, `attach` and `exec`.
#pragma once

#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace berth_test {

class PtySession {
  public:
    // Starts argv (a path or a name in $PATH) with the pty's slave as its
    // controlling terminal and stdio, sized rows x columns.
    explicit PtySession(const std::vector<std::string>& argv, unsigned short rows = 24,
                        unsigned short columns = 80);
    ~PtySession(); // kills the command if it still runs
    PtySession(const PtySession&) = delete;
    PtySession& operator=(const PtySession&) = delete;

    void type(std::string_view keys);
    // Reads output until `text` has appeared in it; false after timeout_ms.
    bool wait_for(std::string_view text, int timeout_ms = 10000);
    // The command's exit code (128 + signal if killed); -1 if it did not end
    // within timeout_ms (it is then killed).
    int wait_exit(int timeout_ms = 10000);
    // Everything the command wrote so far.
    const std::string& output() const { return output_; }

  private:
    void read_available(int timeout_ms);

    int master_ = -1;
    pid_t child_ = -1;
    std::string output_;
};

} // namespace berth_test
