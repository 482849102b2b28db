// core/json_depth.h: nesting is counted outside strings and refused past kMaxJsonDepth, before
// nlohmann::json's recursive copy or dump can overflow the stack on it.
#include "ptft/core/json_depth.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../common/user_error.h"

namespace ptft {
namespace {

TEST(JsonDepth, CountsArraysAndObjectsOutsideStrings) {
  EXPECT_EQ(json_depth("1"), 0u);
  EXPECT_EQ(json_depth(R"({"a": [1, {"b": []}]})"), 4u);
  EXPECT_EQ(json_depth(R"({"a": "[[[[{{{{", "b": "\"[["})"), 1u);  // brackets (and escaped quotes) in strings
  EXPECT_EQ(json_depth("[[]][[[]]]"), 3u);                            // siblings: the deepest one
}

TEST(JsonDepth, RefusesWhatWouldOverflowTheStack) {
  const size_t n = 100000;  // 200 KB: enough to crash nlohmann's recursive dump
  const std::string deep = std::string(n, '[') + std::string(n, ']');
  EXPECT_GT(json_depth(deep), kMaxJsonDepth);
  const std::string err = test::user_error_of([&] { require_json_depth(deep, "'x.json'"); });
  EXPECT_NE(err.find("'x.json' nests JSON arrays/objects more than 1000 levels deep"), std::string::npos) << err;
  // At the limit: accepted, and nlohmann copies and prints it.
  const std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  require_json_depth(ok, "ok");
  const nlohmann::json j = nlohmann::json::parse(ok);
  const nlohmann::json copy = j;
  EXPECT_EQ(copy.dump(), ok);
}

}  // namespace
}  // namespace ptft
