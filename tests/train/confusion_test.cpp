// ConfusionMatrix against hand-computed metrics (the same definitions as scikit-learn's
// confusion_matrix, precision/recall with zero_division=0 and macro f1_score).
#include "ptft/train/confusion.h"

#include <gtest/gtest.h>

#include "ptft/core/error.h"

namespace ptft {
namespace {

torch::Tensor ids(std::vector<int64_t> v) { return torch::tensor(v, torch::kLong); }

// truth 0 0 0 1 1 2 (+ class 3 never seen), predicted 0 0 1 1 2 2:
//   rows (truth): 0: [2 1 0 0]  1: [0 1 1 0]  2: [0 0 1 0]  3: [0 0 0 0]
TEST(ConfusionMatrix, MetricsMatchHandComputedValues) {
  ConfusionMatrix cm(4);
  cm.add(ids({0, 0, 1}), ids({0, 0, 0}));
  cm.add(ids({1, 2, 2}), ids({1, 1, 2}));
  EXPECT_EQ(cm.total(), 6);
  EXPECT_EQ(cm.at(0, 0), 2);
  EXPECT_EQ(cm.at(0, 1), 1);
  EXPECT_EQ(cm.at(1, 2), 1);
  EXPECT_NEAR(cm.accuracy(), 4.0 / 6.0, 1e-12);
  EXPECT_NEAR(cm.precision(0), 1.0, 1e-12);
  EXPECT_NEAR(cm.precision(1), 0.5, 1e-12);
  EXPECT_NEAR(cm.precision(2), 0.5, 1e-12);
  EXPECT_EQ(cm.precision(3), 0.0);  // never predicted
  EXPECT_NEAR(cm.recall(0), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(cm.recall(1), 0.5, 1e-12);
  EXPECT_NEAR(cm.recall(2), 1.0, 1e-12);
  EXPECT_EQ(cm.recall(3), 0.0);  // no examples
  EXPECT_NEAR(cm.f1(0), 0.8, 1e-12);
  EXPECT_NEAR(cm.f1(2), 2.0 / 3.0, 1e-12);
  // Class 3 occurs neither in truth nor predictions: not averaged.
  EXPECT_NEAR(cm.macro_f1(), (0.8 + 0.5 + 2.0 / 3.0) / 3.0, 1e-12);

  auto j = cm.to_json(true);
  EXPECT_EQ(j["confusion"], nlohmann::json::parse("[[2,1,0,0],[0,1,1,0],[0,0,1,0],[0,0,0,0]]"));
  EXPECT_EQ(j["support"], nlohmann::json::parse("[3,2,1,0]"));
  EXPECT_FALSE(cm.to_json(false).contains("confusion"));
  EXPECT_EQ(ConfusionMatrix::from_rows(j["confusion"]).to_json(true), j);
  EXPECT_THROW(ConfusionMatrix::from_rows(nlohmann::json::parse("[[1,2],[3]]")), UserError);
}

TEST(ConfusionMatrix, TableNamesClassesAndShowsTheMatrix) {
  ConfusionMatrix cm(2);
  cm.add(ids({0, 1, 1}), ids({0, 0, 1}));
  const std::string t = cm.table({"T-shirt/top", "Shirt"});
  EXPECT_NE(t.find("T-shirt/top"), std::string::npos) << t;
  EXPECT_NE(t.find("accuracy 0.6667"), std::string::npos) << t;
  EXPECT_NE(t.find("confusion matrix"), std::string::npos) << t;
}

TEST(ConfusionMatrix, RejectsIdsOutOfRange) {
  ConfusionMatrix cm(2);
  EXPECT_ANY_THROW(cm.add(ids({2}), ids({0})));
  EXPECT_ANY_THROW(cm.add(ids({0, 1}), ids({0})));
}

}  // namespace
}  // namespace ptft
