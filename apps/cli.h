// What the apps share about their command lines: parsing, with unknown options reported first
// and the closest known ones suggested ("did you mean '--epochs'?"; Debian 12's CLI11 2.1.2 has
// no suggestions of its own), and how a command is printed so that it can be pasted into a
// shell. Header-only: apps/CMakeLists.txt makes an
// executable of every .cpp.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace locdet::apps {

// `word` as one shell word: unchanged when it holds only safe characters, else single-quoted.
inline std::string shell_quote(const std::string& word) {
  const bool safe = !word.empty() && word.find_first_not_of(
                                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789_-./=:,+@%") == std::string::npos;
  if (safe) return word;
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// The absolute path of the running program (what to paste to run it again from anywhere);
// argv[0] when the system does not say.
inline std::string program_path(const char* argv0) {
  std::error_code error;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::string(argv0) : exe.string();
}

// Edit distance (insertions, deletions, substitutions, swaps of neighbours).
inline size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

// The app's long option names closest to `unknown` ("--epoch" -> "--epochs"), best first.
inline std::vector<std::string> similar_options(const CLI::App& app, const std::string& unknown) {
  const std::string word = unknown.substr(0, unknown.find('='));
  std::vector<std::pair<size_t, std::string>> near;
  for (const CLI::Option* option : app.get_options()) {
    for (const std::string& name : option->get_lnames()) {
      const std::string flag = "--" + name;
      const size_t distance = edit_distance(word, flag);
      const bool prefix = word.size() > 3 && flag.compare(0, word.size(), word) == 0;
      if (distance <= std::max<size_t>(1, name.size() / 4) || prefix) near.emplace_back(distance, flag);
    }
  }
  std::sort(near.begin(), near.end());
  std::vector<std::string> names;
  for (const auto& entry : near)
    if (names.size() < 3) names.push_back(entry.second);
  return names;
}

inline std::string program_name(const CLI::App& app) {
  const std::string name = app.get_name();  // argv[0] unless the app was named
  return name.substr(name.find_last_of('/') == std::string::npos ? 0 : name.find_last_of('/') + 1);
}

// "PROGRAM: unknown option '--epoch'; did you mean '--epochs'?"
inline std::string unknown_option_message(const CLI::App& app, const std::string& option) {
  std::string text = program_name(app) + ": unknown option '" + option + "'";
  const std::vector<std::string> near = similar_options(app, option);
  for (size_t i = 0; i < near.size(); ++i)
    text += (i == 0 ? "; did you mean '" : i + 1 == near.size() ? "' or '" : "', '") + near[i];
  return text + (near.empty() ? "\n" : "'?\n");
}

// Installs the failure message on `app`: CLI11's message after the program's name, or for
// stray values a hint that every value belongs to an option; then the hint to run --help.
inline void explain_parse_errors(CLI::App& app) {
  app.failure_message([](const CLI::App* parser, const CLI::Error& error) {
    const std::string program = program_name(*parser);
    std::string text;
    if (error.get_exit_code() == static_cast<int>(CLI::ExitCodes::ExtrasError)) {
      std::string what = error.what();
      what = what.substr(what.find(':') == std::string::npos ? 0 : what.find(':') + 1);
      text = program + ": unexpected argument(s):" + what +
             " (every value belongs to an option, e.g. --epochs 3)\n";
    } else {
      text = program + ": " + error.what() + "\n";
    }
    return text + "Run " + program + " --help for the options.\n";
  });
}

// Parses the command line as CLI11_PARSE does, but reports unknown options first (CLI11 would
// report a missing required option instead: "--out is required" for a mistyped --ouut).
// Returns -1 when the program should go on, else its exit code (0 after --help).
inline int parse_command_line(CLI::App& app, int argc, char** argv) {
  explain_parse_errors(app);
  std::string unknown;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.size() > 2 && arg.compare(0, 2, "--") == 0 &&
        app.get_option_no_throw(arg.substr(0, arg.find('='))) == nullptr)
      unknown += unknown_option_message(app, arg.substr(0, arg.find('=')));
  }
  if (!unknown.empty()) {
    std::fprintf(stderr, "%sRun %s --help for the options.\n", unknown.c_str(), program_name(app).c_str());
    return static_cast<int>(CLI::ExitCodes::ExtrasError);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  return -1;
}

}  // namespace locdet::apps
