#include "ptft/io/name_map.h"

#include <algorithm>
#include <set>

#include "ptft/core/error.h"

namespace ptft {

namespace {

// Matches pattern[pi..] against name[ni..]; `*` takes one or more non-dot characters, `**` any
// run (possibly empty). Captures are appended in order (undone on backtracking).
bool match_from(const std::string& p, size_t pi, const std::string& n, size_t ni, std::vector<std::string>* caps) {
  if (pi == p.size()) return ni == n.size();
  if (p[pi] != '*') return ni < n.size() && p[pi] == n[ni] && match_from(p, pi + 1, n, ni + 1, caps);
  const bool any = pi + 1 < p.size() && p[pi + 1] == '*';
  const size_t next = pi + (any ? 2 : 1);
  for (size_t end = ni + (any ? 0 : 1); end <= n.size(); ++end) {
    if (!any && n[end - 1] == '.') break;
    if (caps) caps->push_back(n.substr(ni, end - ni));
    if (match_from(p, next, n, end, caps)) return true;
    if (caps) caps->pop_back();
  }
  return false;
}

std::string shape_str(c10::IntArrayRef s) { return c10::str(s); }

// A foreign file's tensor under its canonical name.
struct Canonical {
  torch::Tensor tensor;
  std::string original;  // as the file names it
  std::string file;
};

std::map<std::string, Canonical> canonical_names(const NameMap& map, const ForeignTensors& in) {
  std::map<std::string, Canonical> out;
  for (const auto& [name, t] : in.tensors) {
    std::string canon = name;
    for (const auto& [from, to] : map.aliases) {
      std::vector<std::string> caps;
      if (match_name(from, canon, &caps)) canon = fill_name(to, caps);
    }
    auto file = in.file_of.count(name) ? in.file_of.at(name) : std::string();
    auto [it, fresh] = out.emplace(canon, Canonical{t, name, file});
    if (!fresh)
      throw UserError("'" + file + "': tensor '" + name + "' appears twice (also as '" + it->second.original +
                          (it->second.file != file ? "' in '" + it->second.file : std::string()) + "')",
                      "the weights are ambiguous (the same tensor with and without a prefix, or LayerNorm "
                      "gamma/beta next to weight/bias); re-save the model with save_pretrained");
  }
  return out;
}

const NameRule* rule_for(const NameMap& map, const std::string& ptft, std::vector<std::string>* caps) {
  for (const auto& r : map.rules) {
    caps->clear();
    if (match_name(r.ptft, ptft, caps)) return &r;
  }
  caps->clear();
  return nullptr;
}

// The foreign names of ptft tensor `name` under rule `r` (null: the same name).
std::vector<std::string> foreign_names(const NameRule* r, const std::string& name, const std::vector<std::string>& caps) {
  if (!r || r->foreign.empty()) return {name};
  std::vector<std::string> out;
  for (const auto& f : r->foreign) out.push_back(fill_name(f, caps));
  return out;
}

// The converter's state while reading one file set.
class Reader {
 public:
  Reader(const NameMap& map, const ForeignTensors& in, const std::string& source, bool into_expected)
      : map_(map), canon_(canonical_names(map, in)), source_(source), into_(into_expected) {}

  MappedWeights read(const TensorMap& expected) {
    MappedWeights out;
    for (const auto& [name, want] : expected) {
      std::vector<std::string> caps;
      const NameRule* r = rule_for(map_, name, &caps);
      std::vector<std::string> parts = foreign_names(r, name, caps);
      if (parts.size() == 1 && !canon_.count(parts[0])) parts[0] = stand_in(name, parts[0]);
      const bool complete = std::all_of(parts.begin(), parts.end(), [&](const std::string& f) { return canon_.count(f); });
      if (!complete) {
        const Presence presence = r ? r->presence : Presence::kRequired;
        for (const auto& f : parts)
          if (!canon_.count(f) && presence == Presence::kRequired) missing_.push_back(f);
        if (presence == Presence::kOptional) out.fresh.push_back(parts[0]);
        if (presence != Presence::kRequired) out.tensors[name] = into_ ? want : want.clone();
        for (const auto& f : parts) used_.insert(f);
        continue;
      }
      torch::Tensor t = convert(r, parts, want);
      if (t.defined()) out.tensors[name] = t;
    }
    report_shapes_and_missing();
    check_leftovers(out.tensors);
    return out;
  }

 private:
  // A tied copy that stands in for a ptft tensor the file lacks (BERT's decoder bias).
  std::string stand_in(const std::string& ptft, const std::string& foreign) {
    for (const auto& tied : map_.tied) {
      std::vector<std::string> caps;
      if (!tied.stands_in || !match_name(tied.ptft, ptft, &caps)) continue;
      const std::string copy = fill_name(tied.foreign, caps);
      if (canon_.count(copy)) return copy;
    }
    return foreign;
  }

  // The parts of one ptft tensor: checked, transposed, sliced, concatenated, in want's dtype.
  torch::Tensor convert(const NameRule* r, const std::vector<std::string>& parts, const torch::Tensor& want) {
    const bool transpose = r && r->transpose;
    const NameRule::Slice slice = r ? r->part : NameRule::Slice{};
    std::vector<int64_t> part_shape = want.sizes().vec();  // one part in ptft's layout
    if (!part_shape.empty()) part_shape[0] = part_shape[0] / static_cast<int64_t>(parts.size()) * slice.count;
    std::vector<int64_t> file_shape = part_shape;
    if (transpose && file_shape.size() == 2) std::swap(file_shape[0], file_shape[1]);
    std::vector<torch::Tensor> pieces;
    for (const auto& f : parts) {
      used_.insert(f);
      const Canonical& c = canon_.at(f);
      if (!c.tensor.sizes().equals(file_shape)) {
        bad_shape_.push_back("'" + c.original + "' is " + shape_str(c.tensor.sizes()) + ", " + map_.shape_source + " " +
                             shape_str(file_shape) + (transpose ? " (stored as in, out)" : ""));
        continue;
      }
      if (c.tensor.is_floating_point() != want.is_floating_point())
        throw UserError("'" + c.file + "': tensor '" + c.original + "' has dtype " +
                            std::string(c10::toString(c.tensor.scalar_type())) + ", expected " +
                            (want.is_floating_point() ? "a floating-point type" : "an integer type"),
                        map_.dtype_hint);
      torch::Tensor t = into_ ? c.tensor : c.tensor.to(want.scalar_type());  // into_: copy_ converts
      if (transpose && t.dim() == 2) t = t.t();
      if (slice.count > 1) t = t.chunk(slice.count, 0)[static_cast<size_t>(slice.index)];
      pieces.push_back(t);
    }
    if (pieces.size() != parts.size()) return {};  // a shape is wrong: reported with the others
    torch::Tensor t = pieces.size() == 1 ? pieces[0] : torch::cat(pieces, 0);
    if (into_) {
      torch::NoGradGuard ng;
      return want.copy_(t);
    }
    return transpose || slice.count > 1 || pieces.size() > 1 ? t.contiguous() : t;
  }

  void report_shapes_and_missing() const {
    if (!bad_shape_.empty())
      throw UserError("'" + source_ + "': " + std::to_string(bad_shape_.size()) + " tensor(s) do not fit " +
                          map_.architecture + ": " + join_first(bad_shape_),
                      map_.shape_hint);
    if (!missing_.empty()) throw UserError("'" + source_ + "' lacks tensor(s) " + join_first(missing_), map_.missing_hint);
  }

  // What no rule consumed: ignored, tied copies (must equal what they are tied to), or unknown.
  void check_leftovers(const TensorMap& mapped) const {
    std::vector<std::string> unknown;
    for (const auto& [name, c] : canon_) {
      if (used_.count(name)) continue;
      if (std::any_of(map_.ignored.begin(), map_.ignored.end(), [&](const std::string& p) { return match_name(p, name); }))
        continue;
      if (!check_tied(name, c, mapped)) unknown.push_back(c.original);
    }
    if (!unknown.empty())
      throw UserError("'" + source_ + "' holds tensor(s) that " + map_.model + " does not have: " + join_first(unknown),
                      map_.unknown_hint);
  }

  bool check_tied(const std::string& name, const Canonical& c, const TensorMap& mapped) const {
    for (const auto& tied : map_.tied) {
      std::vector<std::string> caps;
      if (!match_name(tied.foreign, name, &caps)) continue;
      const std::string target = fill_name(tied.ptft, caps);
      auto it = mapped.find(target);
      if (it == mapped.end()) return false;
      const torch::Tensor& to = it->second;
      if (!c.tensor.is_floating_point() || !c.tensor.sizes().equals(to.sizes()) ||
          !torch::equal(c.tensor.to(to.scalar_type()), to))
        throw UserError("'" + c.file + "': " + c.original + " differs from " + target, map_.tied_hint);
      return true;
    }
    return false;
  }

  const NameMap& map_;
  std::map<std::string, Canonical> canon_;
  std::string source_;
  bool into_ = false;  // convert into the expected tensors
  std::set<std::string> used_;
  std::vector<std::string> bad_shape_, missing_;
};

}  // namespace

bool match_name(const std::string& pattern, const std::string& name, std::vector<std::string>* captures) {
  return match_from(pattern, 0, name, 0, captures);
}

std::string fill_name(const std::string& pattern, const std::vector<std::string>& captures) {
  std::string out;
  size_t k = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '*') {
      out += pattern[i];
      continue;
    }
    if (i + 1 < pattern.size() && pattern[i + 1] == '*') ++i;
    PTFT_CHECK(k < captures.size(), "name pattern '" + pattern + "' has more wildcards than its rule captured");
    out += captures[k++];
  }
  return out;
}

MappedWeights from_foreign(const NameMap& map, const ForeignTensors& in, const TensorMap& expected,
                           const std::string& source, bool into_expected) {
  return Reader(map, in, source, into_expected).read(expected);
}

TensorMap to_foreign(const NameMap& map, const TensorMap& state) {
  // Slices of one fused foreign tensor are gathered first, then concatenated in index order.
  std::map<std::string, std::map<int, torch::Tensor>> slices;
  TensorMap out;
  for (const auto& [name, tensor] : state) {
    std::vector<std::string> caps;
    const NameRule* r = rule_for(map, name, &caps);
    const std::vector<std::string> parts = foreign_names(r, name, caps);
    torch::Tensor t = tensor.detach();
    const std::vector<torch::Tensor> pieces =
        parts.size() == 1 ? std::vector<torch::Tensor>{t} : t.chunk(static_cast<int64_t>(parts.size()), 0);
    for (size_t i = 0; i < parts.size(); ++i) {
      torch::Tensor p = pieces[i];
      if (r && r->part.count > 1) {
        slices[parts[i]][r->part.index] = p;
        continue;
      }
      out[parts[i]] = (r && r->transpose && p.dim() == 2 ? p.t() : p).contiguous();
    }
  }
  for (auto& [name, by_index] : slices) {
    std::vector<torch::Tensor> ordered;
    for (auto& [i, p] : by_index) ordered.push_back(p);
    std::vector<std::string> caps;
    const NameRule* r = nullptr;
    for (const auto& rule : map.rules)
      for (const auto& f : rule.foreign)
        if (!r && rule.part.count > 1 && match_name(f, name)) r = &rule;
    PTFT_CHECK(r && static_cast<int>(ordered.size()) == r->part.count,
               "the name map writes only some slices of '" + name + "'");
    torch::Tensor t = torch::cat(ordered, 0);
    out[name] = (r->transpose && t.dim() == 2 ? t.t() : t).contiguous();
  }
  return out;
}

}  // namespace ptft
