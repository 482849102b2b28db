// tests/common/files.h — whole files as text or JSON, for tests that write or edit model
// directories by hand.
//
//   auto cfg = test::read_json(dir + "/config.json");
//   cfg["n_layer"] = 3;
//   test::write_json(dir + "/config.json", cfg);
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace ptft::test {

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

inline nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_text(path)); }
inline void write_json(const std::string& path, const nlohmann::json& j) { write_text(path, j.dump(2)); }

}  // namespace ptft::test
