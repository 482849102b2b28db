#include "ptft/core/error.h"

namespace ptft {

std::string Error::full() const {
  if (hint_.empty()) return what_;
  return what_ + "\n  hint: " + hint_;
}

}  // namespace ptft
