#include "ptft/train/confusion.h"

#include <algorithm>
#include <cstdio>

#include "ptft/core/error.h"

namespace ptft {

ConfusionMatrix::ConfusionMatrix(int64_t num_classes) : n_(num_classes), counts_(num_classes * num_classes, 0) {
  PTFT_CHECK(num_classes > 0, "ConfusionMatrix needs at least one class");
}

ConfusionMatrix ConfusionMatrix::from_rows(const nlohmann::json& rows) {
  const auto bad = [] { return UserError("a confusion matrix must be a non-empty square array of counts"); };
  if (!rows.is_array() || rows.empty()) throw bad();
  ConfusionMatrix cm(static_cast<int64_t>(rows.size()));
  for (int64_t t = 0; t < cm.n_; ++t) {
    const auto& row = rows[t];
    if (!row.is_array() || static_cast<int64_t>(row.size()) != cm.n_) throw bad();
    for (int64_t p = 0; p < cm.n_; ++p) {
      if (!row[p].is_number_integer() || row[p].get<int64_t>() < 0) throw bad();
      cm.counts_[t * cm.n_ + p] = row[p].get<int64_t>();
    }
  }
  return cm;
}

void ConfusionMatrix::add(const torch::Tensor& pred, const torch::Tensor& target) {
  PTFT_CHECK(pred.numel() == target.numel(), "ConfusionMatrix::add: prediction and target sizes differ");
  auto p = pred.reshape({-1}).to(torch::kCPU, torch::kLong).contiguous();
  auto t = target.reshape({-1}).to(torch::kCPU, torch::kLong).contiguous();
  const int64_t* pp = p.data_ptr<int64_t>();
  const int64_t* tp = t.data_ptr<int64_t>();
  for (int64_t i = 0; i < p.numel(); ++i) {
    PTFT_CHECK(pp[i] >= 0 && pp[i] < n_ && tp[i] >= 0 && tp[i] < n_,
               "ConfusionMatrix::add: class id out of range [0, " + std::to_string(n_) + ")");
    ++counts_[tp[i] * n_ + pp[i]];
  }
}

int64_t ConfusionMatrix::total() const {
  int64_t s = 0;
  for (int64_t c : counts_) s += c;
  return s;
}

double ConfusionMatrix::accuracy() const {
  int64_t right = 0;
  for (int64_t c = 0; c < n_; ++c) right += at(c, c);
  const int64_t all = total();
  return all > 0 ? static_cast<double>(right) / all : 0.0;
}

double ConfusionMatrix::precision(int64_t c) const {
  int64_t predicted = 0;
  for (int64_t t = 0; t < n_; ++t) predicted += at(t, c);
  return predicted > 0 ? static_cast<double>(at(c, c)) / predicted : 0.0;
}

double ConfusionMatrix::recall(int64_t c) const {
  int64_t support = 0;
  for (int64_t p = 0; p < n_; ++p) support += at(c, p);
  return support > 0 ? static_cast<double>(at(c, c)) / support : 0.0;
}

double ConfusionMatrix::f1(int64_t c) const {
  const double p = precision(c), r = recall(c);
  return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

double ConfusionMatrix::macro_f1() const {
  double sum = 0;
  int64_t present = 0;
  for (int64_t c = 0; c < n_; ++c) {
    int64_t row = 0, col = 0;
    for (int64_t k = 0; k < n_; ++k) row += at(c, k), col += at(k, c);
    if (row == 0 && col == 0) continue;
    sum += f1(c);
    ++present;
  }
  return present > 0 ? sum / present : 0.0;
}

nlohmann::json ConfusionMatrix::to_json(bool with_matrix) const {
  nlohmann::json prec = nlohmann::json::array(), rec = nlohmann::json::array(), sup = nlohmann::json::array();
  for (int64_t c = 0; c < n_; ++c) {
    int64_t support = 0;
    for (int64_t p = 0; p < n_; ++p) support += at(c, p);
    prec.push_back(precision(c));
    rec.push_back(recall(c));
    sup.push_back(support);
  }
  nlohmann::json j = {{"accuracy", accuracy()}, {"macro_f1", macro_f1()},
                      {"precision", prec},      {"recall", rec},
                      {"support", sup}};
  if (with_matrix) {
    nlohmann::json m = nlohmann::json::array();
    for (int64_t t = 0; t < n_; ++t)
      m.push_back(std::vector<int64_t>(counts_.begin() + t * n_, counts_.begin() + (t + 1) * n_));
    j["confusion"] = m;
  }
  return j;
}

std::string ConfusionMatrix::table(const std::vector<std::string>& names) const {
  auto name = [&](int64_t c) { return c < static_cast<int64_t>(names.size()) ? names[c] : std::to_string(c); };
  size_t w = 5;
  for (int64_t c = 0; c < n_; ++c) w = std::max(w, name(c).size());
  char buf[256];
  std::string out;
  std::snprintf(buf, sizeof buf, "%-*s  precision  recall     f1  support\n", static_cast<int>(w), "class");
  out += buf;
  for (int64_t c = 0; c < n_; ++c) {
    int64_t support = 0;
    for (int64_t p = 0; p < n_; ++p) support += at(c, p);
    std::snprintf(buf, sizeof buf, "%-*s  %9.4f  %6.4f  %5.4f  %7lld\n", static_cast<int>(w), name(c).c_str(),
                  precision(c), recall(c), f1(c), static_cast<long long>(support));
    out += buf;
  }
  std::snprintf(buf, sizeof buf, "accuracy %.4f, macro-F1 %.4f over %lld examples\n", accuracy(), macro_f1(),
                static_cast<long long>(total()));
  out += buf;
  if (n_ > 20) return out;
  out += "confusion matrix (rows: true class, columns: predicted):\n";
  size_t cw = 4;
  for (int64_t v : counts_) cw = std::max(cw, std::to_string(v).size());
  for (int64_t t = 0; t < n_; ++t) {
    std::snprintf(buf, sizeof buf, "%-*s ", static_cast<int>(w), name(t).c_str());
    out += buf;
    for (int64_t p = 0; p < n_; ++p) {
      std::snprintf(buf, sizeof buf, " %*lld", static_cast<int>(cw), static_cast<long long>(at(t, p)));
      out += buf;
    }
    out += "\n";
  }
  return out;
}

}  // namespace ptft
