// stb_guard.h (private to src/data) — checks of image bytes that stb_image 2.27 (Debian's
// libstb-dev) gets wrong, made before the bytes are handed to it (found by fuzz_image_decode).
//
// - JPEG: each Huffman table (DHT segment) is built from its 16 code counts without checking that
//   they add up to at most 256: a table declaring more writes past its 257-entry size array and
//   256-entry value array (a heap overflow, even in stbi_info; upstream checks since 2.28). The
//   check follows the segments to the first scan, then takes every FF C4 for a table (at most
//   4096 of them; more is refused: a real file has one per progressive scan).
// - PNM: the header's width, height and maxval are parsed into an int without an overflow check
//   (undefined behaviour; upstream checks since 2.28).
// - PNG: an image data chunk (IDAT) is allocated at its declared length, up to 2 GiB, before it
//   is read: a 100-byte file can claim gigabytes. A chunk longer than the rest of the file is
//   refused (a file that ends early is damaged anyway).
//
//   if (auto why = stb_defect(bytes)) throw UserError("image is damaged (" + *why + ")");
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ptft {

// What in `bytes` stb 2.27 would mishandle ("a JPEG Huffman table of 4080 codes; at most 256 are
// possible"), or nullopt.
std::optional<std::string> stb_defect(std::string_view bytes);

}  // namespace ptft
