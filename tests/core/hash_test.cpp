// Tests for ptft/core/hash.h: FNV-1a 64 against the published test vectors.
#include "ptft/core/hash.h"

#include <gtest/gtest.h>

TEST(Fnv1a64, KnownVectors) {
  // From the FNV reference test suite (isthe.com/chongo/src/fnv/test_fnv.c).
  EXPECT_EQ(ptft::fnv1a64_hex(""), "cbf29ce484222325");
  EXPECT_EQ(ptft::fnv1a64_hex("a"), "af63dc4c8601ec8c");
  EXPECT_EQ(ptft::fnv1a64_hex("foobar"), "85944171f73967e8");
}

TEST(Fnv1a64, ChainsLikeConcatenation) {
  const uint64_t s = ptft::fnv1a64("bar", ptft::fnv1a64("foo"));
  EXPECT_EQ(ptft::hex64(s), ptft::fnv1a64_hex("foobar"));
  EXPECT_EQ(ptft::hex64(0), "0000000000000000");
  EXPECT_EQ(ptft::fnv1a64_hex(std::string_view("\0\xff", 2)).size(), 16u);
}
