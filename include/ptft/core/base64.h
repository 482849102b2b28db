// ptft/core/base64.h — RFC 4648 base64, for binary blobs (RNG states) inside JSON files.
//
//   std::string s = base64_encode(bytes);  std::string back = base64_decode(s, "trainer_state.json");
#pragma once

#include <string>

namespace ptft {

std::string base64_encode(const std::string& bytes);
// UserError naming `source` for characters outside the alphabet or bad padding.
std::string base64_decode(const std::string& text, const std::string& source);

}  // namespace ptft
