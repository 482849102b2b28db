// Tests for ptft/data/image_config.h: the data.images section bound from YAML (defaults,
// nested augment keys, typos) and validate()'s messages, and the class-selection JSON.
#include "ptft/data/image_config.h"

#include <gtest/gtest.h>

#include "ptft/core/config.h"
#include "ptft/core/error.h"
#include "ptft/run/run_config.h"

namespace ptft {
namespace {

std::string bind_error(const std::string& yaml) {
  try {
    RunConfig cfg;
    config::bind(config::Document::from_string(yaml, "run.yaml"), cfg);
  } catch (const UserError& e) {
    return e.message() + " | hint: " + e.hint();
  }
  return "no error";
}

TEST(ImageConfig, BindsUnderDataImages) {
  RunConfig cfg;
  config::bind(config::Document::from_string(
                   "data:\n  train: x.csv\n  images:\n    size: 32\n    classes: [cat, dog]\n"
                   "    augment: {hflip: 0.5, resized_crop: [0.35, 1.0]}\n",
                   "run.yaml"),
               cfg);
  EXPECT_EQ(cfg.data.images.size, 32);
  EXPECT_EQ(cfg.data.images.classes, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_DOUBLE_EQ(cfg.data.images.augment.hflip, 0.5);
  EXPECT_EQ(cfg.data.images.augment.resized_crop, (std::vector<double>{0.35, 1.0}));
  EXPECT_TRUE(cfg.data.images.augment.active());
  EXPECT_EQ(cfg.data.images.channels, 0);  // defaults kept
  EXPECT_FALSE(ImageDataConfig{}.augment.active());
  const std::string help = config::describe(cfg);
  EXPECT_NE(help.find("data.images.augment.pad_crop = 0"), std::string::npos) << help;
}

TEST(ImageConfig, ValidationNamesTheKey) {
  const std::string pre = "data:\n  images:\n";
  EXPECT_NE(bind_error(pre + "    channels: 2\n").find("data.images.channels must be 1 or 3"), std::string::npos);
  EXPECT_NE(bind_error(pre + "    size: -1\n").find("data.images.size must be >= 0"), std::string::npos);
  EXPECT_NE(bind_error(pre + "    val_fraction: 1.0\n").find("data.images.val_fraction must be in [0, 1)"),
            std::string::npos);
  EXPECT_NE(bind_error(pre + "    mean: [0.5, 0.5]\n").find("data.images.mean has 2 values"), std::string::npos);
  EXPECT_NE(bind_error(pre + "    channels: 1\n    std: [0.2, 0.2, 0.2]\n")
                .find("data.images.std has 3 values, but the images have 1 channel"),
            std::string::npos);
  EXPECT_EQ(bind_error(pre + "    mean: [0.1, 0.2, 0.3]\n    std: [0.5, 0.5, 0.5]\n    channels: 3\n"), "no error");
  EXPECT_NE(bind_error(pre + "    std: [0.0]\n").find("data.images.std values must be > 0"), std::string::npos);
  EXPECT_NE(bind_error(pre + "    classes: [cat, cat]\n").find("names 'cat' twice"), std::string::npos);
  EXPECT_NE(bind_error(pre + "    augment: {hflip: 1.5}\n").find("data.images.augment.hflip must be a probability"),
            std::string::npos);
  EXPECT_NE(bind_error(pre + "    augment: {resized_crop: [0.5]}\n").find("resized_crop must be [lo, hi]"),
            std::string::npos);
  EXPECT_NE(bind_error(pre + "    augment: {jitter: 1.0}\n").find("jitter must be in [0, 1)"), std::string::npos);
  const std::string typo = bind_error(pre + "    augment: {hflp: 0.5}\n");
  EXPECT_NE(typo.find("data.images.augment.hflp"), std::string::npos) << typo;
  EXPECT_NE(typo.find("hflip"), std::string::npos) << typo;
}

TEST(ImageConfig, ClassSelectionJson) {
  ImageClassSelection sel{{"a", "b", "c"}, {"c", "a"}};
  nlohmann::json j = sel;
  EXPECT_EQ(j.dump(), R"({"class_names":["a","b","c"],"classes":["c","a"]})");
  auto back = j.get<ImageClassSelection>();
  EXPECT_EQ(back.class_names, sel.class_names);
  EXPECT_EQ(back.classes, sel.classes);
  EXPECT_TRUE(nlohmann::json::object().get<ImageClassSelection>().classes.empty());
  EXPECT_THROW((nlohmann::json{{"classes", "a"}}.get<ImageClassSelection>()), UserError);
  EXPECT_THROW(nlohmann::json::array().get<ImageClassSelection>(), UserError);
}

}  // namespace
}  // namespace ptft
