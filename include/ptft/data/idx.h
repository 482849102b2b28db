// ptft/data/idx.h — IDX files (MNIST, Fashion-MNIST, KMNIST ...), plain or gzip-compressed.
//
// Format (big-endian): 2 zero bytes, a type byte (only 0x08 = unsigned byte is read here), the
// number of dimensions D, then D uint32 sizes, then the values in row-major order. Images are
// "*-images-idx3-ubyte" (N, H, W), labels "*-labels-idx1-ubyte" (N), each optionally ".gz".
// Every check failure is a UserError naming the file: bad magic, another value type, zero or
// absurd sizes, truncated data (or gzip stream), bytes after the data (ptft/data/idx_array.h,
// the torch-free reader under read_idx).
//
//   torch::Tensor images = read_idx("train-images-idx3-ubyte.gz");     // (60000, 28, 28) uint8
//   torch::Tensor labels = read_idx(idx_labels_path("train-images-idx3-ubyte.gz"));   // (60000)
#pragma once

#include <torch/torch.h>

#include <string>

namespace ptft {

// The array in `path` as a uint8 tensor of its dimensions.
torch::Tensor read_idx(const std::string& path);

// Whether the file name is an IDX images file: "*-images-idx3-ubyte" or "*-images.idx3-ubyte"
// (optionally ".gz").
bool is_idx_images_path(const std::string& path);
// The labels file next to an images file: "-images-idx3-" -> "-labels-idx1-" (".gz" kept).
// When that file does not exist but the other compression of it does, that one. InternalError
// when `images_path` is not an IDX images name.
std::string idx_labels_path(const std::string& images_path);

}  // namespace ptft
