// Tests for ptft/data/image_source.h (through open_data_source): folder and CSV data sets with
// PNGs written here (a corrupt one included), IDX files written here and the real
// Fashion-MNIST, class selection and order, few-shot cuts, the fixed val hold-out, batch
// addressing (determinism, ranks, accumulation) and normalisation against hand numbers.
#include "ptft/data/image_source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "../common/temp_dir.h"
#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/data/image_io.h"

namespace ptft {
namespace {

const std::string kFmnist = "/usr/share/datasets/fashion-mnist/";

DataContext context(const ImageDataConfig& cfg, uint64_t seed = 1337, int rank = 0, int world = 1) {
  DataContext ctx;
  ctx.seed = seed;
  ctx.rank = rank;
  ctx.world_size = world;
  ctx.images = std::make_shared<ImageDataConfig>(cfg);
  return ctx;
}

std::unique_ptr<ImageSource> open(const std::string& spec, const std::string& split, const ImageDataConfig& cfg = {},
                                  uint64_t seed = 1337, int rank = 0, int world = 1) {
  auto src = open_data_source(spec, split, context(cfg, seed, rank, world), "data.train");
  auto* img = dynamic_cast<ImageSource*>(src.get());
  EXPECT_NE(img, nullptr) << spec;
  src.release();
  return std::unique_ptr<ImageSource>(img);
}

std::string error_of(const std::string& spec, const ImageDataConfig& cfg = {}, const std::string& split = "train") {
  try {
    open_data_source(spec, split, context(cfg), "data.train");
  } catch (const UserError& e) {
    return e.message() + " | hint: " + e.hint();
  }
  return "no error";
}

// Image i of class k: a constant RGB colour (10 k + i, 100 + i, 200), 6 x 6 pixels.
torch::Tensor colour(int k, int i) {
  auto img = torch::empty({6, 6, 3}, torch::kUInt8);
  img.select(2, 0).fill_(10 * k + i);
  img.select(2, 1).fill_(100 + i);
  img.select(2, 2).fill_(200);
  return img;
}

// DIR/{bird,cat,dog}/i.png with 3, 4, 5 images.
std::string write_folder(const std::string& root) {
  const std::vector<std::string> classes = {"bird", "cat", "dog"};
  for (int k = 0; k < 3; ++k) {
    std::filesystem::create_directories(root + "/" + classes[k]);
    for (int i = 0; i < 3 + k; ++i) write_png(root + "/" + classes[k] + "/" + std::to_string(i) + ".png", colour(k, i));
  }
  return root;
}

// An IDX pair DIR/NAME-{images-idx3,labels-idx1}-ubyte: image i is filled with i % 256 (row 0
// col 0 holds i / 256 to keep them distinct), label i % classes.
std::string write_idx(const std::string& dir, const std::string& name, int n, int classes, int side = 4) {
  auto header = [](uint32_t magic_dims, const std::vector<uint32_t>& dims) {
    std::string s = {0, 0, 8, static_cast<char>(magic_dims)};
    for (uint32_t d : dims)
      for (int shift : {24, 16, 8, 0}) s += static_cast<char>((d >> shift) & 0xFF);
    return s;
  };
  std::string images = header(3, {static_cast<uint32_t>(n), static_cast<uint32_t>(side), static_cast<uint32_t>(side)});
  std::string labels = header(1, {static_cast<uint32_t>(n)});
  for (int i = 0; i < n; ++i) {
    std::string img(static_cast<std::size_t>(side * side), static_cast<char>(i % 256));
    img[0] = static_cast<char>(i / 256);
    images += img;
    labels += static_cast<char>(i % classes);
  }
  fs::write_file_atomic(dir + "/" + name + "-labels-idx1-ubyte", labels);
  fs::write_file_atomic(dir + "/" + name + "-images-idx3-ubyte", images);
  return dir + "/" + name + "-images-idx3-ubyte";
}

bool same_batch(const Batch& a, const Batch& b) {
  return a.weight == b.weight && torch::equal(a.data.at("x"), b.data.at("x")) && torch::equal(a.data.at("y"), b.data.at("y"));
}

TEST(ImageSource, FolderClassesPixelsAndLabels) {
  test::TempDir tmp("imgdir");
  const std::string root = write_folder(tmp.path + "/pets");
  fs::write_file_atomic(root + "/cat/notes.txt", "not an image");
  auto src = open(root, "test");
  EXPECT_EQ(src->class_names(), (std::vector<std::string>{"bird", "cat", "dog"}));
  EXPECT_EQ(src->size(), 12);
  EXPECT_EQ(src->class_counts(), (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(src->preprocess().size, 6);
  EXPECT_EQ(src->preprocess().channels, 3);
  EXPECT_NE(src->describe().find("1 non-image files ignored"), std::string::npos) << src->describe();
  ASSERT_EQ(src->eval_batches(5), 3);
  Batch b = src->eval_batch(2, 5);  // examples 10, 11: dog/3.png, dog/4.png (sorted by path)
  EXPECT_EQ(b.weight, 2);
  ASSERT_EQ(b.data.at("x").sizes(), (std::vector<int64_t>{2, 3, 6, 6}));
  EXPECT_TRUE(torch::equal(b.data.at("y"), torch::tensor({2, 2}, torch::kLong)));
  EXPECT_EQ(src->example_keys()[11], "dog/4.png");
  // Normalised with the default 0.5 / 0.5: (v / 255 - 0.5) / 0.5.
  EXPECT_NEAR(b.data.at("x")[1][0][3][3].item<float>(), (24 / 255.0 - 0.5) / 0.5, 1e-6);
  EXPECT_NEAR(b.data.at("x")[1][2][0][0].item<float>(), (200 / 255.0 - 0.5) / 0.5, 1e-6);
}

TEST(ImageSource, CorruptImageIsAnErrorOrSkipped) {
  test::TempDir tmp("imgbad");
  const std::string root = write_folder(tmp.path + "/pets");
  fs::write_file_atomic(root + "/cat/broken.png", "\x89PNG\r\n\x1a\n not really");
  const std::string e = error_of(root);
  EXPECT_NE(e.find(root + "/cat/broken.png"), std::string::npos) << e;
  EXPECT_NE(e.find("skip_corrupt"), std::string::npos) << e;
  ImageDataConfig cfg;
  cfg.skip_corrupt = true;
  auto src = open(root, "test", cfg);
  EXPECT_EQ(src->size(), 12);
  EXPECT_EQ(src->skipped(), 1);
  EXPECT_NE(src->describe().find("1 unreadable skipped: " + root + "/cat/broken.png"), std::string::npos)
      << src->describe();
}

TEST(ImageSource, ClassSelectionOrderAndTypos) {
  test::TempDir tmp("imgsel");
  const std::string root = write_folder(tmp.path + "/pets");
  ImageDataConfig cfg;
  cfg.classes = {"dog", "bird"};
  auto src = open(root, "test", cfg);
  EXPECT_EQ(src->class_names(), cfg.classes);
  EXPECT_EQ(src->class_counts(), (std::vector<int64_t>{5, 3}));  // dog = 0, bird = 1, no cats
  for (const auto& key : src->example_keys()) EXPECT_EQ(key.rfind("cat/", 0), std::string::npos) << key;
  cfg.classes = {"dgo"};
  const std::string e = error_of(root, cfg);
  EXPECT_NE(e.find("data.images.classes: 'dgo' is not a class of " + root + " (classes: bird, cat, dog)"),
            std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'dog'?"), std::string::npos) << e;
}

TEST(ImageSource, CsvWithHeaderNamesAndIntegers) {
  test::TempDir tmp("imgcsv");
  const std::string root = write_folder(tmp.path + "/pets");
  fs::write_file_atomic(tmp.path + "/names.csv",
                        "path,label\npets/dog/0.png,dog\n\"pets/cat/1.png\",cat\r\n\npets/dog/2.png, dog\n");
  auto named = open(tmp.path + "/names.csv", "test");
  EXPECT_EQ(named->class_names(), (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(named->size(), 3);
  EXPECT_TRUE(torch::equal(named->eval_batch(0, 8).data.at("y"), torch::tensor({1, 0, 1}, torch::kLong)));
  EXPECT_NE(named->describe().find("CSV"), std::string::npos);
  // Integer labels (no header): label i = class i, named by class_names.
  fs::write_file_atomic(tmp.path + "/ints.csv", root + "/bird/0.png,2\npets/cat/0.png,0\n");
  ImageDataConfig cfg;
  cfg.class_names = {"zero", "one", "two"};
  auto ints = open(tmp.path + "/ints.csv", "test", cfg);
  EXPECT_EQ(ints->class_names(), cfg.class_names);
  EXPECT_TRUE(torch::equal(ints->eval_batch(0, 8).data.at("y"), torch::tensor({2, 0}, torch::kLong)));
  EXPECT_EQ(ints->class_counts(), (std::vector<int64_t>{1, 0, 1}));
  cfg.class_names = {"zero", "one"};
  EXPECT_NE(error_of(tmp.path + "/ints.csv", cfg).find("class_names has 2 names, but"), std::string::npos);
  // A malformed row and a missing image name their place.
  fs::write_file_atomic(tmp.path + "/bad.csv", "pets/dog/0.png,dog\npets/dog/1.png\n");
  EXPECT_NE(error_of(tmp.path + "/bad.csv").find(tmp.path + "/bad.csv:2: expected `path,label`"), std::string::npos);
  fs::write_file_atomic(tmp.path + "/gone.csv", "pets/dog/0.png,dog\npets/dog/9.png,dog\n");
  const std::string e = error_of(tmp.path + "/gone.csv");
  EXPECT_NE(e.find("pets/dog/9.png' does not exist"), std::string::npos) << e;
}

TEST(ImageSource, SizeChannelsAndCacheLimit) {
  test::TempDir tmp("imgsize");
  const std::string root = write_folder(tmp.path + "/pets");
  ImageDataConfig cfg;
  cfg.size = 4;
  cfg.channels = 1;
  cfg.mean = {0.2};
  cfg.std = {0.1};
  auto src = open(root, "test", cfg);
  EXPECT_EQ(src->preprocess().channels, 1);
  EXPECT_EQ(src->preprocess().mean, (std::vector<double>{0.2}));
  Batch b = src->eval_batch(8, 1);  // dog/1.png: (21, 101, 200) -> grey 88.37 -> 88
  ASSERT_EQ(b.data.at("x").sizes(), (std::vector<int64_t>{1, 1, 4, 4}));
  const double grey = std::round(0.299 * 21 + 0.587 * 101 + 0.114 * 200);
  EXPECT_NEAR(b.data.at("x")[0][0][1][1].item<float>(), (grey / 255.0 - 0.2) / 0.1, 1e-5);
  // Mixed sizes with size 0 are an error naming the odd image.
  write_png(root + "/dog/9.png", torch::zeros({8, 8, 3}, torch::kUInt8));
  const std::string e = error_of(root);
  EXPECT_NE(e.find(root + "/dog/9.png' is 8x8, but the images before it are 6x6"), std::string::npos) << e;
  // Too large for the cache: said before decoding.
  ImageDataConfig big;
  big.size = 1024;
  big.cache_mb = 1;
  EXPECT_NE(error_of(root, big).find("above data.images.cache_mb = 1"), std::string::npos);
  ImageDataConfig bad_mean;
  bad_mean.mean = {0.1, 0.2, 0.3};
  bad_mean.channels = 0;
  EXPECT_NE(error_of(write_idx(tmp.path, "grey", 8, 2), bad_mean).find("data.images.mean has 3 values, but the images have 1 channel"),
            std::string::npos);
}

TEST(ImageSource, IdxSplitIsFixedAndDisjoint) {
  test::TempDir tmp("imgidx");
  const std::string spec = write_idx(tmp.path, "toy", 1000, 4);
  ImageDataConfig cfg;
  cfg.val_fraction = 0.2;
  auto train = open(spec, "train", cfg, 1);
  auto val = open(spec, "val", cfg, 1);
  EXPECT_EQ(train->size() + val->size(), 1000);
  EXPECT_GT(val->size(), 150);
  EXPECT_LT(val->size(), 250);
  std::vector<std::string> all = train->example_keys();
  all.insert(all.end(), val->example_keys().begin(), val->example_keys().end());
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 1000u);  // disjoint, complete
  // The same split for another seed (pre-train, fine-tune and scratch never mix splits).
  EXPECT_EQ(open(spec, "val", cfg, 99)->example_keys(), val->example_keys());
  EXPECT_EQ(open(spec, "train", cfg, 99)->example_keys(), train->example_keys());
  // Without val_fraction, "val" is the whole file; another split ("test") always is.
  EXPECT_EQ(open(spec, "val")->size(), 1000);
  EXPECT_EQ(open(spec, "test", cfg)->size(), 1000);
  EXPECT_NE(train->describe().find("held out for val"), std::string::npos) << train->describe();
}

TEST(ImageSource, PerClassCutsOnlyTrainingBySeed) {
  test::TempDir tmp("imgfew");
  const std::string spec = write_idx(tmp.path, "toy", 400, 4);
  ImageDataConfig cfg;
  cfg.per_class = 5;
  cfg.val_fraction = 0.25;
  auto a = open(spec, "train", cfg, 1);
  EXPECT_EQ(a->class_counts(), (std::vector<int64_t>{5, 5, 5, 5}));
  EXPECT_EQ(open(spec, "train", cfg, 1)->example_keys(), a->example_keys());  // same seed, same images
  EXPECT_NE(open(spec, "train", cfg, 2)->example_keys(), a->example_keys());
  auto val = open(spec, "val", cfg, 1);
  EXPECT_GT(val->size(), 60);  // never cut
  for (const auto& k : a->example_keys())  // the few shots come from the training share
    EXPECT_EQ(std::count(val->example_keys().begin(), val->example_keys().end(), k), 0) << k;
  cfg.per_class = 1000;  // more than there are: all of them
  EXPECT_EQ(open(spec, "train", cfg, 1)->size(), 400 - val->size());
}

TEST(ImageSource, AddressedBatchesAreDeterministicAndSplitByRank) {
  test::TempDir tmp("imgaddr");
  const std::string spec = write_idx(tmp.path, "toy", 300, 3, 8);
  ImageDataConfig cfg;
  cfg.channels = 3;
  cfg.augment.hflip = 0.5;
  cfg.augment.pad_crop = 2;
  cfg.augment.jitter = 0.2;
  auto a = open(spec, "train", cfg), b = open(spec, "train", cfg);
  Batch first = a->train_batch({3, 1, 16, 2});
  EXPECT_EQ(first.data.at("x").sizes(), (std::vector<int64_t>{16, 3, 8, 8}));
  EXPECT_EQ(first.weight, 16);
  EXPECT_TRUE(same_batch(first, b->train_batch({3, 1, 16, 2})));
  a->train_batch({50, 0, 16, 2});                                  // out of order
  EXPECT_TRUE(same_batch(first, a->train_batch({3, 1, 16, 2})));  // a pure function of the address
  EXPECT_FALSE(same_batch(first, a->train_batch({3, 0, 16, 2})));
  // Two ranks of 8 read exactly the one-rank batch of 16, augmentation included.
  auto r0 = open(spec, "train", cfg, 1337, 0, 2), r1 = open(spec, "train", cfg, 1337, 1, 2);
  auto one = a->train_batch({7, 0, 16, 1});
  auto p0 = r0->train_batch({7, 0, 8, 1}), p1 = r1->train_batch({7, 0, 8, 1});
  EXPECT_TRUE(torch::equal(torch::cat({p0.data.at("x"), p1.data.at("x")}), one.data.at("x")));
  EXPECT_TRUE(torch::equal(torch::cat({p0.data.at("y"), p1.data.at("y")}), one.data.at("y")));
  // One epoch (300 examples) visits every example once.
  auto plain = open(spec, "train");
  std::vector<float> seen;
  for (int64_t step = 0; step < 300 / 20; ++step) {
    auto x = plain->train_batch({step, 0, 20, 1}).data.at("x");  // pixel (1, 1) = i % 256, (0, 0) = i / 256
    for (int64_t j = 0; j < 20; ++j)
      seen.push_back(x[j][0][0][0].item<float>() * 1000 + x[j][0][1][1].item<float>());
  }
  EXPECT_EQ(std::set<float>(seen.begin(), seen.end()).size(), 300u);
  // Evaluation: in order, no augmentation, last batch partial.
  auto ev = a->eval_batch(18, 16);  // examples 288..299
  EXPECT_EQ(ev.weight, 12);
  EXPECT_NEAR(ev.data.at("x")[0][2][1][1].item<float>(), (288 % 256 / 255.0 - 0.5) / 0.5, 1e-6);
}

TEST(ImageSource, DispatchAndUnknownSources) {
  test::TempDir tmp("imgdispatch");
  EXPECT_TRUE(is_image_data_path(tmp.path));
  EXPECT_TRUE(is_image_data_path("a/train-images-idx3-ubyte.gz"));
  EXPECT_TRUE(is_image_data_path("list.CSV"));
  EXPECT_FALSE(is_image_data_path("notes.txt"));
  EXPECT_NE(error_of(tmp.path).find("has no class sub-folders"), std::string::npos);
  fs::write_file_atomic(tmp.path + "/notes.txt", "x");
  EXPECT_NE(error_of(tmp.path + "/notes.txt").find("no reader recognises"), std::string::npos);
  // IDX images without their labels file.
  const std::string spec = write_idx(tmp.path, "lonely", 4, 2);
  std::filesystem::remove(tmp.path + "/lonely-labels-idx1-ubyte");
  EXPECT_NE(error_of(spec).find("have no labels file"), std::string::npos);
}

TEST(ImageSource, RealFashionMnist) {
  if (!std::filesystem::exists(kFmnist + "train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed (scripts/setup.sh)";
  ImageDataConfig cfg;
  cfg.val_fraction = 0.1;
  cfg.class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
  auto val = open(kFmnist + "train-images-idx3-ubyte.gz", "val", cfg);
  EXPECT_GT(val->size(), 5700);
  EXPECT_LT(val->size(), 6300);
  EXPECT_EQ(val->class_names()[9], "Ankle boot");
  auto test = open(kFmnist + "t10k-images-idx3-ubyte.gz", "test", cfg);
  EXPECT_EQ(test->size(), 10000);
  EXPECT_EQ(test->eval_batch(0, 4).data.at("y")[0].item<int64_t>(), 9);
  cfg.classes = {"Shrit"};
  const std::string e = error_of(kFmnist + "t10k-images-idx3-ubyte.gz", cfg);
  EXPECT_NE(e.find("'Shrit' is not a class of"), std::string::npos) << e;
  EXPECT_NE(e.find("(classes: T-shirt/top, Trouser, Pullover"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'Shirt'?"), std::string::npos) << e;
}

}  // namespace
}  // namespace ptft
