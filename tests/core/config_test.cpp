// Tests for ptft/core/config.h: binding, --set overrides, every user error's text, the
// emit/bind round trip, nearest() and describe().
#include "ptft/core/config.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace ptft {
namespace {

namespace cfg = ptft::config;

struct LoraConfig {
  int64_t r = 8;                                  // adapter rank
  double alpha = 16.0;                            // scale = alpha / r
  std::vector<std::string> targets = {"c_attn"};  // module-name patterns
  template <class V> void visit(V& v) {
    v("r", r, "adapter rank");
    v("alpha", alpha, "scale = alpha / r");
    v("targets", targets, "module-name patterns that get adapters");
  }
  void validate() const {
    if (r <= 0) throw UserError("r must be positive, got " + std::to_string(r), "use r >= 1");
  }
};

struct TrainConfig {
  int64_t steps = 2000;
  std::string schedule = "cosine";
  LoraConfig lora;
  YAML::Node extra;
  template <class V> void visit(V& v) {
    v("steps", steps, "optimizer steps");
    v.choice("schedule", schedule, {"cosine", "linear", "constant"}, "LR schedule after warmup");
    v("lora", lora, "LoRA adapters");
    v("extra", extra, "free-form");
  }
};

// Every supported field type.
struct AllTypes {
  bool flag = false;
  int small = 3;
  int64_t big = 1;
  double lr = 3e-4;
  float beta = 0.95f;
  std::string name = "run";
  std::vector<std::string> names = {"a", "b"};
  std::vector<int64_t> ids = {1, 2, 3};
  std::vector<double> betas = {0.9, 0.999};
  std::map<std::string, std::string> env = {{"K", "v"}};
  template <class V> void visit(V& v) {
    v("flag", flag, "a bool");
    v("small", small, "an int32");
    v("big", big, "an int64");
    v("lr", lr, "a double");
    v("beta", beta, "a float");
    v("name", name, "a string");
    v("names", names, "strings");
    v("ids", ids, "integers");
    v("betas", betas, "numbers");
    v("env", env, "string map");
  }
};

struct RootConfig {
  TrainConfig train;
  AllTypes misc;
  template <class V> void visit(V& v) {
    v("train", train, "training loop");
    v("misc", misc, "everything else");
  }
};

struct Caught {
  bool thrown = false;
  std::string message, hint;
};

// Runs `f`; returns the UserError it threw (message + hint), or thrown == false.
template <class F>
Caught user_error(F&& f) {
  try {
    f();
  } catch (const UserError& e) {
    return {true, e.message(), e.hint()};
  }
  return {};
}

#define EXPECT_HAS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << "in: " << (haystack)

template <class T>
T bound(const std::string& yaml, const std::string& prefix = "") {
  T out;
  cfg::bind(cfg::Document::from_string(yaml, "config.yaml"), out, prefix);
  return out;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }
bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// --- binding -------------------------------------------------------------------------------

TEST(ConfigBind, AbsentKeysKeepDefaults) {
  const auto t = bound<TrainConfig>("steps: 10\n");
  EXPECT_EQ(t.steps, 10);
  EXPECT_EQ(t.schedule, "cosine");
  EXPECT_EQ(t.lora.r, 8);
  EXPECT_DOUBLE_EQ(t.lora.alpha, 16.0);
  EXPECT_EQ(t.lora.targets, std::vector<std::string>{"c_attn"});
  EXPECT_FALSE(t.extra.IsDefined() && !t.extra.IsNull());

  TrainConfig d;
  cfg::bind(cfg::Document::empty(), d);
  EXPECT_EQ(d.steps, 2000);
}

TEST(ConfigBind, NestedSectionsAndPrefix) {
  const std::string yaml =
      "train:\n"
      "  steps: 5\n"
      "  schedule: linear\n"
      "  lora:\n"
      "    r: 4\n"
      "    targets: [c_attn, c_proj]\n";
  const auto root = bound<RootConfig>(yaml);
  EXPECT_EQ(root.train.steps, 5);
  EXPECT_EQ(root.train.schedule, "linear");
  EXPECT_EQ(root.train.lora.r, 4);
  EXPECT_DOUBLE_EQ(root.train.lora.alpha, 16.0);
  EXPECT_EQ(root.train.lora.targets, (std::vector<std::string>{"c_attn", "c_proj"}));

  const auto lora = bound<LoraConfig>(yaml, "train.lora");
  EXPECT_EQ(lora.r, 4);
  const auto absent = bound<LoraConfig>(yaml, "finetune.lora");
  EXPECT_EQ(absent.r, 8);
}

// fuzz_config_yaml: binding at a prefix walked the document with YAML::Node assignment, which
// wrote each section into the root: after bind(doc, x, "train"), doc.root() was train's map and
// a later bind(doc, y, "misc") found nothing.
TEST(ConfigBind, BindingAtAPrefixLeavesTheDocumentWhole) {
  const auto doc = cfg::Document::from_string("train:\n  steps: 5\n  lora: {r: 4}\nmisc: {names: [x, y]}\n");
  LoraConfig lora;
  cfg::bind(doc, lora, "train.lora");
  EXPECT_EQ(lora.r, 4);
  AllTypes misc;
  cfg::bind(doc, misc, "misc");
  EXPECT_EQ(misc.names, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(cfg::emit_inline(doc.root()), "{train: {steps: 5, lora: {r: 4}}, misc: {names: [x, y]}}");
}

TEST(ConfigBind, AllFieldTypes) {
  const auto a = bound<AllTypes>(
      "flag: true\nsmall: -7\nbig: 1e3\nlr: 1.0e-3\nbeta: 0.5\nname: 123\n"
      "names: [x]\nids: [4, 0x10]\nbetas: [0.1, .inf]\nenv: {A: '1', B: two}\n");
  EXPECT_TRUE(a.flag);
  EXPECT_EQ(a.small, -7);
  EXPECT_EQ(a.big, 1000);  // integral floats are integers
  EXPECT_EQ(a.lr, 1e-3);
  EXPECT_EQ(a.beta, 0.5f);
  EXPECT_EQ(a.name, "123");  // strings accept any scalar
  EXPECT_EQ(a.names, std::vector<std::string>{"x"});
  EXPECT_EQ(a.ids, (std::vector<int64_t>{4, 16}));
  EXPECT_EQ(a.betas[0], 0.1);
  EXPECT_TRUE(std::isinf(a.betas[1]));
  EXPECT_EQ(a.env, (std::map<std::string, std::string>{{"A", "1"}, {"B", "two"}}));
}

TEST(ConfigBind, RawNodeKeptAsIs) {
  const auto t = bound<TrainConfig>("extra:\n  anything: [1, {b: c}]\n  'n': ~\n");
  ASSERT_TRUE(t.extra.IsMap());
  EXPECT_EQ(t.extra["anything"][1]["b"].as<std::string>(), "c");
  EXPECT_TRUE(t.extra["n"].IsNull());
  EXPECT_EQ(t.extra.Mark().line, 1);  // marks survive, so a later validator can cite lines
  // Unknown keys inside the raw subtree are not this layer's business.
  EXPECT_FALSE(user_error([] { bound<TrainConfig>("extra: {whatever: 1}\n"); }).thrown);
}

TEST(ConfigBind, RebindingRawNodeDoesNotWriteIntoTheOldDocument) {
  const auto doc1 = cfg::Document::from_string("extra: {a: 1}\n");
  const auto doc2 = cfg::Document::from_string("extra: {b: 2}\n");
  TrainConfig t;
  cfg::bind(doc1, t);
  cfg::bind(doc2, t);
  EXPECT_TRUE(t.extra["b"].IsDefined());
  EXPECT_EQ(cfg::emit_inline(doc1.root()), "{extra: {a: 1}}");
}

TEST(ConfigBind, ErrorLeavesOutputUnchanged) {
  TrainConfig t;
  t.steps = 7;
  const auto e = user_error([&] {
    cfg::bind(cfg::Document::from_string("steps: 9\nschedule: nope\n"), t);
  });
  EXPECT_TRUE(e.thrown);
  EXPECT_EQ(t.steps, 7);
}

// --- documents -----------------------------------------------------------------------------

TEST(ConfigDocument, MissingFile) {
  const auto e = user_error([] { cfg::Document::from_file("/nonexistent/run.yaml"); });
  ASSERT_TRUE(e.thrown);
  EXPECT_HAS(e.message, "/nonexistent/run.yaml");
}

TEST(ConfigDocument, SyntaxErrorHasLineAndColumn) {
  const auto e = user_error([] { cfg::Document::from_string("a: 1\nb: [1, 2\n", "bad.yaml"); });
  ASSERT_TRUE(e.thrown);
  EXPECT_HAS(e.message, "bad.yaml:");
  EXPECT_HAS(e.message, "invalid YAML");
  EXPECT_HAS(e.hint, "near line");
}

// fuzz_config_yaml: yaml-cpp 0.7's LoadAll looped forever, allocating, on a stray ','
// (jbeder/yaml-cpp#1040); now an error at the comma. Several documents are still counted.
TEST(ConfigDocument, StrayCommaIsAnErrorNotAHang) {
  for (const char* text : {",", "  ,", "train: {steps: 1},", "train: {steps: 1}\n,\n"}) {
    const auto e = user_error([&] { cfg::Document::from_string(text, "comma.yaml"); });
    ASSERT_TRUE(e.thrown) << text;
    EXPECT_HAS(e.message, "comma.yaml:");
    EXPECT_HAS(e.message, "invalid YAML");
  }
  EXPECT_HAS(user_error([] { cfg::Document::from_string(",", "c.yaml"); }).message,
             "c.yaml:1:1: invalid YAML: unexpected ','");
  EXPECT_HAS(user_error([] { cfg::Document::from_string("a: 1\n---\nb: 2\n", "two.yaml"); }).message,
             "two.yaml: holds 2 YAML documents");
  EXPECT_TRUE(cfg::Document::from_string("---\na: 1\n").root()["a"]);
}

TEST(ConfigDocument, TopLevelMustBeMap) {
  const auto e = user_error([] { cfg::Document::from_string("- a\n- b\n", "list.yaml"); });
  ASSERT_TRUE(e.thrown);
  EXPECT_HAS(e.message, "list.yaml: the top level must be a section (key: value map)");
  EXPECT_TRUE(cfg::Document::from_string("# only a comment\n").root().IsMap());
}

TEST(ConfigDocument, FromFileReportsPathAndLine) {
  const auto path = (std::filesystem::temp_directory_path() / "ptft_config_test.yaml").string();
  {
    std::ofstream(path) << "train:\n  steps: 5\n  stpes: 6\n";
  }
  const auto doc = cfg::Document::from_file(path);
  EXPECT_EQ(doc.origin_of("train.steps"), path + ":2");
  RootConfig r;
  const auto e = user_error([&] { cfg::bind(doc, r); });
  EXPECT_EQ(e.message, path + ":3: unknown key 'train.stpes'");
  std::filesystem::remove(path);
}

TEST(ConfigDocument, OriginOf) {
  auto doc = cfg::Document::from_string("train:\n  steps: 5\n", "run.yaml");
  EXPECT_EQ(doc.origin_of("train"), "run.yaml:1");
  EXPECT_EQ(doc.origin_of("train.steps"), "run.yaml:2");
  EXPECT_EQ(doc.origin_of("train.absent"), "run.yaml:1");  // nearest present ancestor
  EXPECT_EQ(doc.origin_of("model"), "run.yaml");
  doc.set("train.steps=7");
  EXPECT_EQ(doc.origin_of("train.steps"), "--set train.steps=7");
  EXPECT_EQ(doc.origin_of("train"), "run.yaml:1");
  doc.set("model.lora={r: 4}");
  EXPECT_EQ(doc.origin_of("model"), "--set model.lora={r: 4}");  // created by the --set
  EXPECT_EQ(doc.origin_of("model.lora.r"), "--set model.lora={r: 4}");
}

// --- --set ---------------------------------------------------------------------------------

TEST(ConfigSet, OverridesBeatTheFile) {
  auto doc = cfg::Document::from_string("train:\n  steps: 5\n  lora: {r: 2, alpha: 4}\n");
  doc.set("train.steps=1e4");
  doc.set("train.lora.targets=[c_attn,c_proj]");
  doc.set("train.schedule = linear");
  RootConfig r;
  cfg::bind(doc, r);
  EXPECT_EQ(r.train.steps, 10000);
  EXPECT_EQ(r.train.schedule, "linear");
  EXPECT_EQ(r.train.lora.r, 2);  // untouched siblings stay
  EXPECT_DOUBLE_EQ(r.train.lora.alpha, 4.0);
  EXPECT_EQ(r.train.lora.targets, (std::vector<std::string>{"c_attn", "c_proj"}));
}

TEST(ConfigSet, CreatesNestedNewSection) {
  auto doc = cfg::Document::empty();
  doc.set("train.lora.r=16");
  doc.set("misc.env.HOME=/tmp");
  RootConfig r;
  cfg::bind(doc, r);
  EXPECT_EQ(r.train.lora.r, 16);
  EXPECT_EQ(r.train.steps, 2000);
  EXPECT_EQ(r.misc.env.at("HOME"), "/tmp");
}

TEST(ConfigSet, ReplacesScalarWithSection) {
  auto doc = cfg::Document::from_string("train: 5\n");
  doc.set("train.steps=3");
  RootConfig r;
  cfg::bind(doc, r);
  EXPECT_EQ(r.train.steps, 3);
}

TEST(ConfigSet, DoesNotWriteThroughAnchors) {
  auto doc = cfg::Document::from_string("base: &b {steps: 1}\ntrain: *b\n");
  doc.set("train=5");
  EXPECT_EQ(cfg::emit_inline(doc.root()["base"]), "{steps: 1}");
}

TEST(ConfigSet, Malformed) {
  auto doc = cfg::Document::empty();
  auto e = user_error([&] { doc.set("train.steps"); });
  EXPECT_EQ(e.message, "--set 'train.steps': expected key=value");
  e = user_error([&] { doc.set("=5"); });
  EXPECT_HAS(e.message, "the key before '=' is empty");
  e = user_error([&] { doc.set("train..steps=5"); });
  EXPECT_HAS(e.message, "has an empty part");
  e = user_error([&] { doc.set("train.targets=[a, b"); });
  EXPECT_HAS(e.message, "--set train.targets=[a, b: the value is not valid YAML");
  // yaml-cpp stops at the closing bracket: text after it was silently dropped ([32]junk = [32]).
  e = user_error([&] { doc.set("model.hidden=[32]junk"); });
  EXPECT_HAS(e.message, "--set model.hidden=[32]junk: text after the closing bracket ('junk')");
  e = user_error([&] { doc.set("finetune.lora={r: 4} x"); });
  EXPECT_HAS(e.message, "text after the closing bracket ('x')");
  doc.set("finetune.lora.targets=['a]', \"b}\"]  # a comment");  // brackets in quotes, a comment
  EXPECT_EQ(doc.root()["finetune"]["lora"]["targets"][0].as<std::string>(), "a]");
}

TEST(ConfigSet, UnknownKeyMentionsSet) {
  auto doc = cfg::Document::from_string("train: {steps: 1}\n", "config.yaml");
  doc.set("train.stpes=5");
  RootConfig r;
  const auto e = user_error([&] { cfg::bind(doc, r); });
  EXPECT_EQ(e.message, "--set train.stpes=5: unknown key 'train.stpes'");
  EXPECT_HAS(e.hint, "did you mean 'train.steps'?");
}

TEST(ConfigSet, TypeErrorMentionsSet) {
  auto doc = cfg::Document::from_string("train: {steps: 1}\n", "config.yaml");
  doc.set("train.steps=abc");
  RootConfig r;
  const auto e = user_error([&] { cfg::bind(doc, r); });
  EXPECT_EQ(e.message, "--set train.steps=abc: 'train.steps' must be an integer, got 'abc'");
}

// --- errors --------------------------------------------------------------------------------

TEST(ConfigErrors, UnknownKeySuggestsSibling) {
  const auto e = user_error([] { bound<RootConfig>("train:\n  steps: 1\n  stpes: 2\n"); });
  EXPECT_EQ(e.message, "config.yaml:3: unknown key 'train.stpes'");
  EXPECT_EQ(e.hint,
            "did you mean 'train.steps'? valid keys under 'train': steps, schedule, lora, extra");
}

TEST(ConfigErrors, UnknownTopLevelKeySuggestsDeepKey) {
  const auto e = user_error([] { bound<RootConfig>("train: {}\nlr: 0.1\n"); });
  EXPECT_EQ(e.message, "config.yaml:2: unknown key 'lr'");
  EXPECT_EQ(e.hint, "did you mean 'misc.lr'? valid top-level keys: train, misc");
}

TEST(ConfigErrors, UnknownKeyNothingClose) {
  const auto e = user_error([] { bound<TrainConfig>("zzzzzzzz: 1\n"); });
  EXPECT_EQ(e.message, "config.yaml:1: unknown key 'zzzzzzzz'");
  EXPECT_EQ(e.hint, "valid top-level keys: steps, schedule, lora, extra");
}

TEST(ConfigErrors, UnknownKeyWithPrefix) {
  const auto e = user_error([] { bound<LoraConfig>("finetune:\n  lora:\n    rr: 1\n", "finetune.lora"); });
  EXPECT_EQ(e.message, "config.yaml:3: unknown key 'finetune.lora.rr'");
  EXPECT_EQ(e.hint, "did you mean 'finetune.lora.r'? valid keys under 'finetune.lora': r, alpha, targets");
}

TEST(ConfigErrors, DottedKeyInYaml) {
  const auto e = user_error([] { bound<TrainConfig>("lora.r: 4\n"); });
  EXPECT_EQ(e.message, "config.yaml:1: unknown key 'lora.r'");
  EXPECT_HAS(e.hint, "dotted key");
}

TEST(ConfigErrors, DuplicateKey) {
  auto e = user_error([] { bound<TrainConfig>("steps: 1\nschedule: linear\nsteps: 2\n"); });
  EXPECT_EQ(e.message, "config.yaml:3: duplicate key 'steps' (first given at line 1)");
  e = user_error([] { bound<AllTypes>("env:\n  A: 1\n  A: 2\n"); });
  EXPECT_EQ(e.message, "config.yaml:3: duplicate key 'env.A'");
}

TEST(ConfigErrors, WrongTypes) {
  auto msg = [](const std::string& yaml) {
    return user_error([&] { bound<RootConfig>(yaml); }).message;
  };
  EXPECT_EQ(msg("train:\n  schedule: linear\n  steps: abc\n"),
            "config.yaml:3: 'train.steps' must be an integer, got 'abc'");
  EXPECT_EQ(msg("misc: {flag: yes}\n"), "config.yaml:1: 'misc.flag' must be true or false, got 'yes'");
  EXPECT_EQ(msg("misc:\n  lr: fast\n"), "config.yaml:2: 'misc.lr' must be a number, got 'fast'");
  EXPECT_EQ(msg("misc:\n  beta: x\n"), "config.yaml:2: 'misc.beta' must be a number, got 'x'");
  EXPECT_EQ(msg("misc:\n  names: c_attn\n"),
            "config.yaml:2: 'misc.names' must be a list of strings, got 'c_attn'");
  EXPECT_EQ(msg("misc:\n  ids: [1, x]\n"),
            "config.yaml:2: 'misc.ids[1]' must be an integer, got 'x'");
  EXPECT_EQ(msg("misc:\n  betas:\n    - 0.1\n    - [1]\n"),
            "config.yaml:4: 'misc.betas[1]' must be a number, got a list [1]");
  EXPECT_EQ(msg("misc:\n  name: {a: 1}\n"),
            "config.yaml:2: 'misc.name' must be a string, got a section {a: 1}");
  EXPECT_EQ(msg("misc:\n  env: [a]\n"),
            "config.yaml:2: 'misc.env' must be a section (key: value map) of strings, got a list [a]");
  EXPECT_EQ(msg("train:\n  steps: {a: 1}\n"),
            "config.yaml:2: 'train.steps' must be an integer, got a section {a: 1}");
  EXPECT_EQ(msg("train:\n  lora: 5\n"),
            "config.yaml:2: 'train.lora' must be a section (key: value map), got '5'");
  EXPECT_EQ(msg("train: [1]\n"),
            "config.yaml:1: 'train' must be a section (key: value map), got a list [1]");
}

TEST(ConfigErrors, TypeErrorHints) {
  auto e = user_error([] { bound<AllTypes>("flag: on\n"); });
  EXPECT_HAS(e.hint, "write true or false");
  e = user_error([] { bound<AllTypes>("names: c_attn\n"); });
  EXPECT_EQ(e.hint, "write a list, e.g. [c_attn]");
  e = user_error([] { bound<AllTypes>("big: 1.5\n"); });
  EXPECT_EQ(e.message, "config.yaml:1: 'big' must be an integer, got '1.5'");
  EXPECT_EQ(e.hint, "use a whole number");
}

TEST(ConfigErrors, IntegerRange) {
  EXPECT_EQ(bound<AllTypes>("small: 2147483647\n").small, 2147483647);
  EXPECT_EQ(bound<AllTypes>("small: -2147483648\n").small, -2147483647 - 1);
  auto e = user_error([] { bound<AllTypes>("small: 3000000000\n"); });
  EXPECT_EQ(e.message,
            "config.yaml:1: 'small' must be an integer between -2147483648 and 2147483647, got "
            "'3000000000'");
  e = user_error([] { bound<AllTypes>("small: 1e10\n"); });
  EXPECT_HAS(e.message, "must be an integer between -2147483648 and 2147483647, got '1e10'");
  e = user_error([] { bound<AllTypes>("big: 9223372036854775808\n"); });
  EXPECT_HAS(e.message, "must be an integer between");
  EXPECT_EQ(bound<AllTypes>("big: -9223372036854775808\n").big, std::numeric_limits<int64_t>::min());
  e = user_error([] { bound<AllTypes>("beta: 1e39\n"); });
  EXPECT_HAS(e.message, "out of range for a 32-bit float");
}

TEST(ConfigErrors, NullIsATypeError) {
  auto e = user_error([] { bound<TrainConfig>("steps: ~\n"); });
  EXPECT_EQ(e.message, "config.yaml:1: 'steps' must be an integer, got an empty value (null)");
  EXPECT_EQ(e.hint, "give a value, or leave 'steps' out to keep the default (2000)");
  e = user_error([] { bound<TrainConfig>("schedule: linear\nsteps:\n"); });
  EXPECT_EQ(e.message, "config.yaml:2: 'steps' must be an integer, got an empty value (null)");
  e = user_error([] { bound<TrainConfig>("schedule:\n"); });
  EXPECT_HAS(e.message, "'schedule' must be a string, got an empty value (null)");
  e = user_error([] { bound<TrainConfig>("lora:\n"); });
  EXPECT_HAS(e.message, "'lora' must be a section (key: value map), got an empty value (null)");
  e = user_error([] { bound<AllTypes>("names: [a, ~]\n"); });
  EXPECT_HAS(e.message, "'names[1]' must be a string, got an empty value (null)");
  // An empty --set value is null too.
  auto doc = cfg::Document::empty();
  doc.set("steps=");
  TrainConfig t;
  e = user_error([&] { cfg::bind(doc, t); });
  EXPECT_EQ(e.message, "--set steps=: 'steps' must be an integer, got an empty value (null)");
  // The raw subtree takes null as it is.
  EXPECT_TRUE(bound<TrainConfig>("extra: ~\n").extra.IsNull());
}

TEST(ConfigErrors, Choice) {
  EXPECT_EQ(bound<TrainConfig>("schedule: constant\n").schedule, "constant");
  auto e = user_error([] { bound<RootConfig>("train:\n  schedule: cosin\n"); });
  EXPECT_EQ(e.message,
            "config.yaml:2: 'train.schedule' must be one of cosine, linear, constant; got 'cosin'");
  EXPECT_EQ(e.hint, "did you mean 'cosine'?");
  e = user_error([] { bound<TrainConfig>("schedule: step\n"); });
  EXPECT_EQ(e.hint, "");
}

TEST(ConfigErrors, ValidateRunsWithSectionContext) {
  auto e = user_error([] { bound<RootConfig>("train:\n  lora:\n    r: 0\n"); });
  EXPECT_EQ(e.message, "config.yaml:2: in 'train.lora': r must be positive, got 0");
  EXPECT_EQ(e.hint, "use r >= 1");
  auto doc = cfg::Document::from_string("train: {}\n", "c.yaml");
  doc.set("train.lora.r=-1");
  RootConfig r;
  e = user_error([&] { cfg::bind(doc, r); });
  EXPECT_EQ(e.message, "--set train.lora.r=-1: in 'train.lora': r must be positive, got -1");
  LoraConfig l;
  e = user_error([&] { cfg::bind(cfg::Document::from_string("r: -2\n", "l.yaml"), l); });
  EXPECT_EQ(e.message, "l.yaml: r must be positive, got -2");
}

// --- round trip ----------------------------------------------------------------------------

TEST(ConfigRoundTrip, EmitThenBindGivesIdenticalValues) {
  RootConfig a;
  a.train.steps = 123456789012345;
  a.train.schedule = "linear";
  a.train.lora.alpha = 0.1;
  a.train.lora.targets = {"c_attn", "", "true", "~", "123", "a: b", "#x", " lead", "multi\nline",
                          "[x", "naïve", "null", "1e3", "-", "0x10", ".inf", "yes"};
  a.train.extra = YAML::Load("{k: [1, 2], s: 'quoted 1', n: ~}");
  a.misc.flag = true;
  a.misc.small = -2147483647 - 1;
  a.misc.big = std::numeric_limits<int64_t>::max();
  a.misc.lr = 3e-4;
  a.misc.beta = 0.1f;
  a.misc.name = "";
  a.misc.names = {};
  a.misc.ids = {-1, 0, std::numeric_limits<int64_t>::min()};
  a.misc.betas = {1e-12, 0.95, 0.1, 1.0 / 3.0, 5e-324, 1.7976931348623157e308, -0.0, 1e22,
                  123456.789, std::numeric_limits<double>::infinity()};
  a.misc.env = {{"true", "1"}, {"a b", ""}, {"", "x"}};

  const std::string text = cfg::emit(cfg::to_yaml(a));
  SCOPED_TRACE(text);
  RootConfig b;
  b.train.lora.targets.clear();
  cfg::bind(cfg::Document::from_string(text), b);

  EXPECT_EQ(b.train.steps, a.train.steps);
  EXPECT_EQ(b.train.schedule, a.train.schedule);
  EXPECT_EQ(b.train.lora.r, a.train.lora.r);
  EXPECT_TRUE(same_bits(b.train.lora.alpha, a.train.lora.alpha));
  EXPECT_EQ(b.train.lora.targets, a.train.lora.targets);
  EXPECT_EQ(cfg::emit(b.train.extra), cfg::emit(a.train.extra));
  EXPECT_EQ(b.misc.flag, a.misc.flag);
  EXPECT_EQ(b.misc.small, a.misc.small);
  EXPECT_EQ(b.misc.big, a.misc.big);
  EXPECT_TRUE(same_bits(b.misc.lr, a.misc.lr));
  EXPECT_TRUE(same_bits(b.misc.beta, a.misc.beta));
  EXPECT_EQ(b.misc.name, a.misc.name);
  EXPECT_EQ(b.misc.names, a.misc.names);
  EXPECT_EQ(b.misc.ids, a.misc.ids);
  ASSERT_EQ(b.misc.betas.size(), a.misc.betas.size());
  for (size_t i = 0; i < a.misc.betas.size(); ++i)
    EXPECT_TRUE(same_bits(b.misc.betas[i], a.misc.betas[i])) << i << ": " << b.misc.betas[i];
  EXPECT_EQ(b.misc.env, a.misc.env);

  // And the dump is a fixed point.
  EXPECT_EQ(cfg::emit(cfg::to_yaml(b)), text);
}

TEST(ConfigRoundTrip, ManyDoubles) {
  AllTypes a;
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < 2000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    double d;
    std::memcpy(&d, &x, sizeof d);
    if (std::isnan(d)) continue;
    a.betas.push_back(d);
  }
  for (double d : {3e-4, 0.1, 1e-12, 0.95, 2.0, 100.0, 1e16, 0.3}) a.betas.push_back(d);
  AllTypes b;
  cfg::bind(cfg::Document::from_string(cfg::emit(cfg::to_yaml(a))), b);
  ASSERT_EQ(a.betas.size(), b.betas.size());
  for (size_t i = 0; i < a.betas.size(); ++i) ASSERT_TRUE(same_bits(a.betas[i], b.betas[i])) << a.betas[i];
}

TEST(ConfigRoundTrip, NumbersReadAsFloatsElsewhere) {
  AllTypes a;
  a.betas = {3e-4, 2.0, 1e20, 0.1};
  const std::string text = cfg::emit(cfg::to_yaml(a));
  EXPECT_HAS(text, "lr: 3.0e-4");
  EXPECT_HAS(text, "betas: [3.0e-4, 2.0, 1.0e+20, 0.1]");
  EXPECT_HAS(text, "name: run");
  EXPECT_HAS(text, "names: [a, b]");
}

TEST(ConfigRoundTrip, ToYamlInDeclarationOrder) {
  const YAML::Node n = cfg::to_yaml(TrainConfig{});
  std::vector<std::string> order;
  for (const auto& kv : n) order.push_back(kv.first.as<std::string>());
  EXPECT_EQ(order, (std::vector<std::string>{"steps", "schedule", "lora", "extra"}));
  EXPECT_EQ(n["lora"]["r"].as<std::string>(), "8");
}

// fuzz_config_yaml: to_json() threw YAML::BadConversion on a key that is not a plain name (a raw
// YAML::Node field keeps whatever the user wrote); now the key is its YAML text.
TEST(ConfigToJson, KeysThatAreNotPlainNamesBecomeTheirYamlText) {
  const auto doc = cfg::Document::from_string("extra: {[a, b]: 1, &x : 2, k: [1, 2.5, true, '3']}\n");
  const nlohmann::json j = cfg::to_json(doc.root());
  EXPECT_EQ(j["extra"]["[a, b]"], 1);
  EXPECT_EQ(j["extra"]["k"], nlohmann::json::parse(R"([1, 2.5, true, "3"])"));
  EXPECT_EQ(j["extra"].size(), 3u);
}

// --- keys, nearest, describe ---------------------------------------------------------------

TEST(ConfigKeys, AllDottedKeysInOrder) {
  EXPECT_EQ(cfg::keys(TrainConfig{}),
            (std::vector<std::string>{"steps", "schedule", "lora", "lora.r", "lora.alpha",
                                      "lora.targets", "extra"}));
}

TEST(ConfigNearest, EditDistance) {
  const std::vector<std::string> c = {"steps", "schedule", "lora", "extra"};
  EXPECT_EQ(cfg::nearest("stpes", c), "steps");     // transposition
  EXPECT_EQ(cfg::nearest("step", c), "steps");      // deletion
  EXPECT_EQ(cfg::nearest("Steps", c), "steps");     // case
  EXPECT_EQ(cfg::nearest("sched", c), "schedule");  // abbreviation
  EXPECT_EQ(cfg::nearest("banana", c), "");
  EXPECT_EQ(cfg::nearest("x", c), "");
  EXPECT_EQ(cfg::nearest("anything", {}), "");
  EXPECT_EQ(cfg::nearest("lr", {"train.steps", "train.lr"}), "train.lr");  // last part
  EXPECT_EQ(cfg::nearest("train.stpes", {"model.steps", "train.steps"}), "train.steps");
}

// Profiling fuzz_config_yaml: the suggestion for an unknown key built a (key length + 1) x
// (candidate length + 1) table per candidate, one allocation per row: a key of 4 MB took 49 s and
// 600 MB (-O0). Now rows roll and a length gap over the limit skips the distance (3 s, 50 MB).
TEST(ConfigNearest, AHugeKeyCostsLittle) {
  const std::string huge(1 << 20, 'k');
  EXPECT_EQ(cfg::nearest(huge, {"steps", "schedule", "lora", "extra"}), "");
  EXPECT_EQ(cfg::nearest("steps" + huge, {"steps", "schedule"}), "steps");  // an extension still is
  const auto e = user_error([&] { bound<TrainConfig>("? " + huge + "\n: 1\n"); });  // an explicit key: no 1024 limit
  EXPECT_TRUE(e.thrown);
  EXPECT_HAS(e.message, "unknown key");
}

TEST(ConfigDescribe, ListsDefaultsAndHelp) {
  const std::string d = cfg::describe(TrainConfig{}, "train");
  EXPECT_HAS(d, "  train.steps = 2000");
  EXPECT_HAS(d, "# optimizer steps\n");
  EXPECT_HAS(d, "  train.schedule = cosine");
  EXPECT_HAS(d, "# LR schedule after warmup (cosine|linear|constant)");
  EXPECT_HAS(d, "  train.lora.*");
  EXPECT_HAS(d, "  train.lora.alpha = 16.0");
  EXPECT_HAS(d, "  train.lora.targets = [c_attn]");
  EXPECT_HAS(d, "  train.extra = ~");
  // Comments are aligned.
  const auto col = [&](const std::string& key) {
    const auto line = d.find(key);
    return d.find('#', line) - d.rfind('\n', line);
  };
  EXPECT_EQ(col("train.steps"), col("train.lora.targets"));
  EXPECT_HAS(cfg::describe(AllTypes{}), "  name = run");
}

TEST(ConfigEmit, QuotesAmbiguousStrings) {
  AllTypes a;
  a.name = "true";
  a.names = {"1", ""};
  const std::string text = cfg::emit(cfg::to_yaml(a));
  EXPECT_HAS(text, "name: \"true\"");
  EXPECT_HAS(text, "names: [\"1\", \"\"]");
  EXPECT_EQ(cfg::emit(YAML::Node(YAML::NodeType::Map)), "{}\n");
  EXPECT_EQ(cfg::emit_inline(YAML::Load("{a: [1, 2], b: {c: d}}")), "{a: [1, 2], b: {c: d}}");
}

}  // namespace
}  // namespace ptft

namespace ptft {
namespace {

// Presets: fill_defaults adds only what the document lacks, and reports the preset as origin.
TEST(ConfigDocument, FillDefaultsKeepsUserKeysAndNamesThePreset) {
  auto doc = config::Document::from_string("train:\n  steps: 10\n", "run.yaml");
  doc.fill_defaults("train", YAML::Load("{steps: 99, schedule: linear, stpes: 1}"), "preset 'p'");
  EXPECT_EQ(doc.root()["train"]["steps"].as<int>(), 10);
  EXPECT_EQ(doc.root()["train"]["schedule"].as<std::string>(), "linear");
  EXPECT_EQ(doc.origin_of("train.schedule"), "preset 'p'");
  EXPECT_EQ(doc.origin_of("train.steps"), "run.yaml:2");
  // A bad key in a preset is reported like any other, with the preset as its origin.
  TrainConfig t;
  try {
    config::bind(doc, t, "train");
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("preset 'p'"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("train.stpes"), std::string::npos) << e.message();
  }
  // A section that does not exist yet is created.
  auto empty = config::Document::empty();
  empty.fill_defaults("model", YAML::Load("{n_layer: 4}"), "preset 'q'");
  EXPECT_EQ(empty.root()["model"]["n_layer"].as<int>(), 4);
}

}  // namespace
}  // namespace ptft
