// e2e: the command lines README.md and docs/cli.md quote stay true.
//   * Every `build/ptft ...` line of README.md's shell blocks parses (PTFT_PARSE_ONLY=1: the
//     command line is parsed and checked, nothing runs) as a shell runs it.
//   * Every `ptft ...` synopsis or quote in README.md and docs/cli.md names a real command, and
//     every --option it shows is in that command's --help.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "run_ptft.h"

namespace {
using e2e::contains;

const std::string kReadme = PTFT_SOURCE_DIR "/README.md";
const std::string kCli = PTFT_SOURCE_DIR "/docs/cli.md";

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> out;
  std::istringstream in(e2e::read_text(path));
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// README's shell-block lines that run build/ptft, continuation lines joined, comments dropped.
std::vector<std::string> readme_commands() {
  std::vector<std::string> out;
  bool in_block = false;
  std::string pending;
  for (std::string line : lines_of(kReadme)) {
    if (line.rfind("```", 0) == 0) {
      in_block = !in_block && line != "```";
      continue;
    }
    if (!in_block) continue;
    if (const auto hash = line.find("  #"); hash != std::string::npos) line.resize(hash);
    while (!line.empty() && (line.back() == ' ' || line.back() == '&')) line.pop_back();
    const bool more = !line.empty() && line.back() == '\\';
    if (more) line.pop_back();
    pending += line;
    if (more) continue;
    if (pending.rfind("build/ptft ", 0) == 0) out.push_back(pending);
    pending.clear();
  }
  return out;
}

TEST(DocsCommandsE2E, ReadmeCommandLinesParse) {
  const std::vector<std::string> commands = readme_commands();
  ASSERT_GE(commands.size(), 15u) << "the README's examples were not found";
  for (const std::string& c : commands) {
    const std::string line = "PTFT_PARSE_ONLY=1 '" + e2e::binary() + "'" + c.substr(std::string("build/ptft").size());
    auto r = e2e::run_program("/bin/sh", {"-c", line});
    EXPECT_EQ(r.exit_code, 0) << c << "\n" << r.text();
  }
}

// "ptft CMD [SUB] ..." quoted in the docs: in code blocks (a line starting with it) and in
// `code spans`. Misspellings the docs quote on purpose are left out.
std::vector<std::string> quoted_ptft_lines(const std::string& path) {
  static const std::set<std::string> on_purpose = {"ptft pretrian", "ptft train", "ptft genrate"};
  std::vector<std::string> out;
  const std::regex span("`(ptft [^`]*)`");
  bool in_block = false;
  for (const std::string& line : lines_of(path)) {
    if (line.rfind("```", 0) == 0) {
      in_block = !in_block;
      continue;
    }
    const std::string trimmed = line.substr(std::min(line.size(), line.find_first_not_of(' ')));
    if (in_block && trimmed.rfind("ptft ", 0) == 0) out.push_back(trimmed);
    for (std::sregex_iterator it(line.begin(), line.end(), span), end; it != end; ++it) {
      const std::string q = (*it)[1];
      bool skip = false;
      for (const auto& p : on_purpose) skip = skip || q.rfind(p, 0) == 0;
      if (!skip) out.push_back(q);
    }
  }
  return out;
}

// The command path of a quote ({"tokenizer", "encode"}), alternatives split ("pretrain|finetune").
std::vector<std::vector<std::string>> command_paths(const std::string& quote) {
  std::istringstream words(quote);
  std::string w;
  words >> w;  // ptft
  std::vector<std::vector<std::string>> paths = {{}};
  while (paths.front().size() < 2 && words >> w && std::regex_match(w, std::regex("[a-z][a-z-]*(\\|[a-z][a-z-]*)*"))) {
    std::vector<std::vector<std::string>> next;
    std::istringstream alts(w);
    for (std::string a; std::getline(alts, a, '|');)
      for (auto p : paths) {
        p.push_back(a);
        next.push_back(p);
      }
    paths = next;
  }
  return paths;
}

TEST(DocsCommandsE2E, QuotedCommandsAndOptionsExist) {
  std::map<std::string, std::string> help;  // "tokenizer encode" -> its --help
  auto help_of = [&](const std::vector<std::string>& path) -> const std::string& {
    std::string key;
    for (const auto& p : path) key += (key.empty() ? "" : " ") + p;
    if (!help.count(key)) {
      auto r = e2e::run_ptft(e2e::concat(path, {"--help"}));
      help[key] = r.exit_code == 0 ? r.out + r.err : "";
    }
    return help[key];
  };
  size_t checked = 0;
  for (const std::string& file : {kReadme, kCli})
    for (const std::string& quote : quoted_ptft_lines(file)) {
      // Options after " -- " belong to the command ptft launch runs.
      const std::string own = quote.substr(0, quote.find(" -- "));
      for (const auto& path : command_paths(own)) {
        if (path.empty()) continue;
        // A word after the command that is not one of its subcommands is an argument (ptft report RUN).
        std::vector<std::string> cmd = path;
        while (cmd.size() > 1 && help_of(cmd).empty()) cmd.pop_back();
        const std::string& h = help_of(cmd);
        ASSERT_FALSE(h.empty()) << file << ": `" << quote << "`: ptft " << cmd.front() << " is not a command";
        const std::regex option("(^|[ \\[(|])(--[a-z][a-z0-9-]*)");
        for (std::sregex_iterator it(own.begin(), own.end(), option), end; it != end; ++it) {
          const std::string opt = (*it)[2];
          EXPECT_TRUE(std::regex_search(h, std::regex("(^|[ ,])" + opt + "([ ,=]|$)", std::regex::multiline)))
              << file << ": `" << quote << "`: " << opt << " is not an option of ptft " << cmd.front()
              << (cmd.size() > 1 ? " " + cmd[1] : "");
          ++checked;
        }
      }
    }
  EXPECT_GE(checked, 150u) << "fewer options than the docs quote: the extraction broke";
}

}  // namespace
