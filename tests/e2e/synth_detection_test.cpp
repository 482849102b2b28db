// End-to-end: `ptft data synth-detection` writes the Ultralytics layout from the real
// Fashion-MNIST files, and refuses an unknown class with exit status 1.
#include <gtest/gtest.h>

#include "run_ptft.h"

namespace e2e {
namespace {

TEST(SynthDetectionE2E, WritesScenesAndRefusesUnknownClasses) {
  if (!sfs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed (scripts/setup.sh)";
  TempDir tmp("synth-e2e");
  auto r = run_ptft({"data", "synth-detection", "--out", tmp.path("scenes"), "--classes", "Bag,Sneaker", "--train", "3",
                     "--val", "1", "--size", "64"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  EXPECT_NE(r.err.find("wrote 3 train scenes"), std::string::npos) << r.err;
  EXPECT_TRUE(sfs::exists(tmp.path("scenes/images/train/000002.png")));
  EXPECT_TRUE(sfs::exists(tmp.path("scenes/labels/val/000000.txt")));
  EXPECT_NE(read_text(tmp.path("scenes/data.yaml")).find("1: \"Sneaker\""), std::string::npos);
  auto bad = run_ptft({"data", "synth-detection", "--out", tmp.path("bad"), "--classes", "Bag,Cat"});
  EXPECT_EQ(bad.exit_code, 1) << bad.text();
  EXPECT_NE(bad.err.find("'Cat' is not a class of the source"), std::string::npos) << bad.err;
  EXPECT_FALSE(sfs::exists(tmp.path("bad")));
}

}  // namespace
}  // namespace e2e
