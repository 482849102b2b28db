#include "ptft/data/text_prepare.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/core/hash.h"
#include "ptft/data/shard.h"
#include "ptft/data/text_inputs.h"

namespace ptft {
namespace sfs = std::filesystem;
namespace {

// Documents (and their bytes) in flight between reading and writing: bounds memory whatever
// the corpus size.
constexpr std::size_t kMaxBytesInFlight = 64u << 20;

// splitmix64's finaliser: spreads FNV's weakly mixed high bits over the whole word.
uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string format_count(int64_t n) {
  char buf[32];
  if (n >= 10'000'000) std::snprintf(buf, sizeof(buf), "%.1fM", static_cast<double>(n) / 1e6);
  else if (n >= 10'000) std::snprintf(buf, sizeof(buf), "%.1fk", static_cast<double>(n) / 1e3);
  else std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(n));
  return buf;
}

std::string format_fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

// Documents travel in small batches (up to kJobBytes or kJobDocuments) so that corpora of many
// short documents (JSONL lines) do not pay a thread hand-off per document.
constexpr std::size_t kJobBytes = 64u << 10;
constexpr std::size_t kJobDocuments = 256;

// A batch of segments (whole documents, or parts of one); ids are written in order, each
// segment followed by the end-of-text token if it ends its document.
struct Job {
  std::vector<std::string> texts;
  std::vector<char> val;                       // per segment: its document goes to val
  std::vector<char> ends;                      // per segment: the last of its document
  std::vector<std::pair<const std::string*, std::size_t>> where;  // file and line, for errors
  std::vector<std::vector<int32_t>> ids;
  std::size_t bytes = 0;
  bool done = false;
  std::exception_ptr error;
  std::size_t error_doc = 0;  // the document whose encode() threw
};

// Tokenises documents on worker threads and hands them back in submission order.
class OrderedEncoder {
 public:
  using Sink = std::function<void(Job&)>;

  OrderedEncoder(const Tokenizer& tok, int threads, std::size_t max_jobs)
      : tok_(tok), max_jobs_(max_jobs) {
    for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }
  ~OrderedEncoder() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  OrderedEncoder(const OrderedEncoder&) = delete;
  OrderedEncoder& operator=(const OrderedEncoder&) = delete;

  // Queues `job`; while the pipeline is full, finished jobs go to `sink` (in order).
  void submit(std::unique_ptr<Job> job, const Sink& sink) {
    std::unique_lock<std::mutex> lk(mu_);
    while (!inflight_.empty() && (inflight_.size() >= max_jobs_ || bytes_ >= kMaxBytesInFlight)) {
      if (!retire_front(lk, sink)) done_cv_.wait(lk);
    }
    Job* raw = job.get();
    bytes_ += job->bytes;
    inflight_.push_back(std::move(job));
    todo_.push_back(raw);
    work_cv_.notify_one();
    while (retire_front(lk, sink)) {
    }
  }

  // Waits for every queued job and hands them to `sink` in order.
  void drain(const Sink& sink) {
    std::unique_lock<std::mutex> lk(mu_);
    while (!inflight_.empty())
      if (!retire_front(lk, sink)) done_cv_.wait(lk);
  }

 private:
  // If the oldest job is finished: removes it and runs `sink` on it unlocked.
  bool retire_front(std::unique_lock<std::mutex>& lk, const Sink& sink) {
    if (inflight_.empty() || !inflight_.front()->done) return false;
    std::unique_ptr<Job> job = std::move(inflight_.front());
    inflight_.pop_front();
    bytes_ -= job->bytes;
    lk.unlock();
    try {
      sink(*job);
    } catch (...) {
      lk.lock();
      throw;
    }
    lk.lock();
    return true;
  }

  void work() {
    while (true) {
      Job* job = nullptr;
      {
        std::unique_lock<std::mutex> lk(mu_);
        work_cv_.wait(lk, [&] { return stop_ || !todo_.empty(); });
        if (stop_) return;
        job = todo_.front();
        todo_.pop_front();
      }
      job->ids.resize(job->texts.size());
      for (std::size_t i = 0; i < job->texts.size(); ++i) {
        try {
          job->ids[i] = tok_.encode(job->texts[i]);
        } catch (...) {
          job->error = std::current_exception();
          job->error_doc = i;
          break;
        }
      }
      std::vector<std::string>().swap(job->texts);  // the texts are not needed any more
      {
        std::lock_guard<std::mutex> lk(mu_);
        job->done = true;
      }
      done_cv_.notify_all();
    }
  }

  const Tokenizer& tok_;
  const std::size_t max_jobs_;
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<std::unique_ptr<Job>> inflight_;  // submitted, not yet handed to the sink
  std::deque<Job*> todo_;                      // not yet picked up by a worker
  std::size_t bytes_ = 0;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

// The shards of one split: <split>-00000.bin, ... of at most `shard_tokens` tokens each.
class SplitWriter {
 public:
  SplitWriter(std::string dir, std::string split, shard::Dtype dtype, int64_t shard_tokens)
      : dir_(std::move(dir)), split_(std::move(split)), dtype_(dtype), shard_tokens_(shard_tokens) {}

  void append(const int32_t* ids, std::size_t n) {
    while (n > 0) {
      if (!writer_) open_next();
      const auto room = static_cast<std::size_t>(shard_tokens_ - static_cast<int64_t>(writer_->count()));
      const std::size_t take = std::min(room, n);
      writer_->append(ids, take);
      ids += take;
      n -= take;
      tokens += static_cast<int64_t>(take);
      if (static_cast<int64_t>(writer_->count()) == shard_tokens_) close_current();
    }
  }
  void finish() { close_current(); }

  int64_t tokens = 0, documents = 0;
  bool in_document = false;  // a document's first segment has been written, its end not yet
  nlohmann::json shards = nlohmann::json::array();

 private:
  void open_next() {
    char name[64];
    std::snprintf(name, sizeof(name), "%s-%05zu.bin", split_.c_str(), shards.size());
    name_ = name;
    writer_ = std::make_unique<shard::Writer>(dir_ + "/" + name_, dtype_);
  }
  void close_current() {
    if (!writer_) return;
    writer_->commit();
    shards.push_back({{"file", name_}, {"tokens", writer_->count()}});
    writer_.reset();
  }

  std::string dir_, split_;
  shard::Dtype dtype_;
  int64_t shard_tokens_;
  std::unique_ptr<shard::Writer> writer_;
  std::string name_;
};

bool dir_is_empty(const std::string& dir) {
  std::error_code ec;
  return sfs::directory_iterator(dir, ec) == sfs::directory_iterator();
}

// Checks --out before any work: it may not exist, or be an empty directory, or (with --force)
// anything but a file.
void check_out(const PrepareOptions& opt) {
  std::error_code ec;
  if (!sfs::exists(opt.out, ec)) return;
  if (!sfs::is_directory(opt.out, ec))
    throw UserError("--out '" + opt.out + "' exists and is not a directory", "choose another --out");
  if (!opt.force && !dir_is_empty(opt.out))
    throw UserError("--out '" + opt.out + "' exists and is not empty",
                    "choose a new directory, or pass --force to replace it");
}

// Renames the finished temporary directory to `out`, replacing what is there.
void commit_out(const std::string& tmp, const std::string& out) {
  std::error_code ec;
  if (!sfs::exists(out, ec)) {
    fs::commit_dir(tmp, out);
    return;
  }
  // An empty directory or (--force) an old one: move it aside, rename, then delete it.
  const std::string old = fs::make_temp_sibling(out);
  sfs::rename(out, old, ec);
  if (ec) throw UserError("cannot move the old '" + out + "' aside: " + ec.message(), "check its permissions");
  try {
    fs::commit_dir(tmp, out);
  } catch (...) {
    std::error_code ec2;
    sfs::rename(old, out, ec2);
    throw;
  }
  fs::remove_all_quiet(old);
}

}  // namespace

void PrepareOptions::validate() const {
  if (inputs.empty()) throw UserError("no --input given", "name files, directories or glob patterns with --input");
  if (out.empty()) throw UserError("--out is empty", "name the output directory");
  if (!(val_fraction >= 0.0 && val_fraction < 1.0))
    throw UserError("--val-fraction " + format_fixed(val_fraction, 4) + " is out of range",
                    "use a fraction in [0, 1), e.g. 0.05");
  if (format != "auto" && format != "text" && format != "jsonl")
    throw UserError("--format '" + format + "' is unknown", "use auto, text or jsonl");
  if (field.empty()) throw UserError("--field is empty", "name the JSONL field that holds the text, e.g. text");
  if (split_documents != "file" && split_documents != "blank-lines")
    throw UserError("--split-documents '" + split_documents + "' is unknown", "use file or blank-lines");
  if (threads < 0 || threads > 1024)
    throw UserError("--threads " + std::to_string(threads) + " is out of range", "use 1..1024, or 0 for one per core");
  if (shard_tokens < 1)
    throw UserError("--shard-tokens " + std::to_string(shard_tokens) + " must be positive", "the default is 100000000");
  if (piece_bytes < 1024 || encode_segment_bytes < 64)
    throw UserError("piece_bytes " + std::to_string(piece_bytes) + " / encode_segment_bytes " +
                    std::to_string(encode_segment_bytes) + " are too small", "use at least 1024 / 64");
}

bool goes_to_val(const std::string& text, double val_fraction) {
  if (val_fraction <= 0.0) return false;
  const double u = static_cast<double>(mix64(fnv1a64(text)) >> 11) * 0x1.0p-53;  // [0, 1)
  return u < val_fraction;
}

std::string PrepareSummary::text() const {
  std::ostringstream s;
  const auto& out = meta.contains("out") ? meta["out"].get<std::string>() : std::string();
  s << "prepared " << out << ": " << files << " files, " << (documents_train + documents_val) << " documents (train "
    << documents_train << ", val " << documents_val << "), " << format_count(tokens_train + tokens_val)
    << " tokens (train " << tokens_train << ", val " << tokens_val << "), " << meta.value("dtype", "") << " shards\n";
  if (skipped_binary || skipped_empty)
    s << "skipped: " << skipped_binary << " binary file(s) (NUL bytes in the first 8 KB), " << skipped_empty
      << " empty document(s)\n";
  if (invalid_utf8)
    s << "invalid UTF-8 in " << invalid_utf8 << " document(s): " << replaced_bytes
      << " byte(s) replaced by U+FFFD (the documents were kept)\n";
  const double mb = static_cast<double>(input_bytes) / 1e6;
  s << "read " << format_fixed(mb, 1) << " MB in " << format_fixed(seconds, 2) << " s ("
    << format_fixed(seconds > 0 ? mb / seconds : 0.0, 2) << " MB/s, " << meta.value("threads", 0) << " thread(s))\n";
  if (documents_train == 0)
    s << "warning: train is empty: every document went to val; lower --val-fraction or add documents\n";
  else if (documents_val == 0 && meta.value("val_fraction", 0.0) > 0.0)
    s << "warning: val is empty (" << documents_train
      << " documents were too few for this --val-fraction); evaluation needs more documents "
         "(--split-documents blank-lines splits files further)\n";
  return s.str();
}

PrepareSummary prepare_text_data(const Tokenizer& tokenizer, const PrepareOptions& opt) {
  opt.validate();
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };

  const int64_t vocab = tokenizer.vocab_size();
  const int32_t eot = tokenizer.eot_id();
  const std::vector<int32_t> prefix = tokenizer.document_prefix();  // Llama's <s> / <|begin_of_text|>
  if (vocab <= 0 || eot < 0 || eot >= vocab)
    throw UserError("tokenizer '" + tokenizer.kind() + "' has vocab size " + std::to_string(vocab) +
                        " and end-of-text id " + std::to_string(eot) + ": no valid end-of-text token",
                    "use a tokenizer with an end-of-text token (<|endoftext|> or [SEP])");
  check_out(opt);
  std::vector<std::string> files = text::expand_inputs(opt.inputs);
  {  // An --out inside an input directory (re-running with --force) is not input.
    std::error_code ec;
    const std::string out_prefix = sfs::weakly_canonical(opt.out, ec).string() + "/";
    files.erase(std::remove_if(files.begin(), files.end(),
                               [&](const std::string& f) {
                                 std::error_code ec2;
                                 return sfs::weakly_canonical(f, ec2).string().rfind(out_prefix, 0) == 0;
                               }),
                files.end());
  }
  if (files.empty())
    throw UserError("--input names no files (only empty directories?)", "point --input at text files");

  const int threads = opt.threads > 0 ? opt.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const shard::Dtype dtype = shard::dtype_for_vocab(vocab);
  text::DocumentOptions dopt;
  dopt.format = opt.format;
  dopt.field = opt.field;
  dopt.split = opt.split_documents;
  dopt.piece_bytes = static_cast<std::size_t>(opt.piece_bytes);

  std::error_code ec;
  const sfs::path parent = sfs::path(opt.out).parent_path();
  if (!parent.empty()) sfs::create_directories(parent, ec);
  const std::string tmp = fs::make_temp_sibling(opt.out);
  sfs::create_directories(tmp, ec);
  if (ec) throw UserError("cannot create '" + tmp + "': " + ec.message(), "check that the parent of --out is writable");

  PrepareSummary sum;
  sum.files = static_cast<int64_t>(files.size());
  try {
    sfs::create_directories(tmp + "/tokenizer");
    tokenizer.save(tmp + "/tokenizer");

    SplitWriter train(tmp, "train", dtype, opt.shard_tokens), val(tmp, "val", dtype, opt.shard_tokens);
    PrepareProgress prog;
    prog.files_total = sum.files;
    double last_report = 0;
    auto report = [&](bool force) {
      if (!opt.progress) return;
      const double now = elapsed();
      if (!force && now - last_report < opt.progress_seconds) return;
      last_report = now;
      prog.documents = train.documents + val.documents;
      prog.tokens = train.tokens + val.tokens;
      prog.seconds = now;
      opt.progress(prog);
    };

    auto sink = [&](Job& job) {
      if (job.error) {
        const std::string where =
            *job.where[job.error_doc].first + ":" + std::to_string(job.where[job.error_doc].second);
        try {
          std::rethrow_exception(job.error);
        } catch (const UserError& e) {
          throw e.with_context("tokenizing " + where);
        } catch (const Error& e) {
          throw InternalError("tokenizing " + where + ": " + e.message(), e.hint());
        } catch (const std::exception& e) {
          throw InternalError("tokenizing " + where + ": " + e.what());
        }
      }
      for (std::size_t i = 0; i < job.ids.size(); ++i) {
        SplitWriter& w = job.val[i] ? val : train;
        if (!w.in_document) w.append(prefix.data(), prefix.size());
        w.in_document = true;
        w.append(job.ids[i].data(), job.ids[i].size());
        if (job.ends[i]) {
          w.append(&eot, 1);
          ++w.documents;
          w.in_document = false;
        }
      }
    };

    {
      OrderedEncoder encoder(tokenizer, threads, static_cast<std::size_t>(4 * threads + 4));
      auto job = std::make_unique<Job>();
      auto submit = [&] {
        if (job->texts.empty()) return;
        encoder.submit(std::move(job), sink);
        job = std::make_unique<Job>();
      };
      for (const auto& path : files) {
        text::DocumentReader reader(path, dopt);
        if (reader.binary()) {
          ++sum.skipped_binary;
        } else {
          text::Document doc;
          bool doc_val = false, doc_invalid = false;
          while (reader.next(doc)) {
            if (opt.should_stop && opt.should_stop())
              throw UserError("interrupted: nothing was written to '" + opt.out + "'");
            if (doc.first) {
              doc_val = goes_to_val(doc.text, opt.val_fraction);
              doc_invalid = false;
            }
            if (doc.replaced) {
              doc_invalid = true;
              sum.replaced_bytes += static_cast<int64_t>(doc.replaced);
            }
            if (doc.last && doc_invalid) ++sum.invalid_utf8;
            // Segments for encode(), cut at line breaks.
            std::string_view rest = doc.text;
            do {
              const std::size_t cut = text::cut_point(rest, static_cast<std::size_t>(opt.encode_segment_bytes));
              job->texts.emplace_back(rest.substr(0, cut));
              job->val.push_back(doc_val);
              job->ends.push_back(doc.last && cut == rest.size());
              job->where.emplace_back(&path, doc.line);
              job->bytes += cut;
              rest.remove_prefix(cut);
              if (job->bytes >= kJobBytes || job->texts.size() >= kJobDocuments) submit();
            } while (!rest.empty());
            prog.bytes = sum.input_bytes + reader.bytes_read();
            report(false);
          }
          sum.skipped_empty += static_cast<int64_t>(reader.empty_skipped());
        }
        sum.input_bytes += reader.bytes_read();
        ++prog.files_done;
        prog.bytes = sum.input_bytes;
      }
      submit();
      encoder.drain(sink);
    }
    train.finish();
    val.finish();
    report(true);

    sum.documents_train = train.documents;
    sum.documents_val = val.documents;
    sum.tokens_train = train.tokens;
    sum.tokens_val = val.tokens;
    if (sum.documents_train + sum.documents_val == 0)
      throw UserError("the inputs hold no text: " + std::to_string(sum.files) + " file(s), " +
                          std::to_string(sum.skipped_binary) + " skipped as binary, " +
                          std::to_string(sum.skipped_empty) + " empty document(s)",
                      "check --input (and --format/--field for JSONL files)");

    nlohmann::json meta;
    meta["format"] = "ptft-token-shards";
    meta["version"] = shard::kVersion;
    meta["tokenizer"] = {{"kind", tokenizer.kind()},
                         {"hash", tokenizer.content_hash()},
                         {"vocab_size", vocab},
                         {"eot_id", eot}};
    meta["dtype"] = shard::dtype_name(dtype);
    meta["documents"] = {{"train", sum.documents_train}, {"val", sum.documents_val}};
    meta["tokens"] = {{"train", sum.tokens_train}, {"val", sum.tokens_val}};
    meta["shards"] = {{"train", train.shards}, {"val", val.shards}};
    meta["skipped"] = {{"binary", sum.skipped_binary}, {"invalid_utf8", sum.invalid_utf8}, {"empty", sum.skipped_empty}};
    meta["invalid_utf8_note"] = "invalid_utf8 counts documents that were kept with their invalid bytes replaced by U+FFFD";
    meta["replaced_bytes"] = sum.replaced_bytes;
    meta["inputs"] = opt.inputs;
    meta["files"] = sum.files;
    meta["input_bytes"] = sum.input_bytes;
    meta["val_fraction"] = opt.val_fraction;
    meta["split_documents"] = opt.split_documents;
    meta["input_format"] = opt.format;
    if (opt.format == "jsonl" || opt.format == "auto") meta["field"] = opt.field;
    meta["shard_tokens"] = opt.shard_tokens;
    meta["piece_bytes"] = opt.piece_bytes;
    meta["encode_segment_bytes"] = opt.encode_segment_bytes;
    meta["created_by"] = "ptft data prepare";
    fs::write_file_atomic(tmp + "/meta.json", meta.dump(2) + "\n");

    commit_out(tmp, opt.out);
    sum.meta = meta;
    // Not in meta.json (which depends only on the inputs and options): run details.
    sum.meta["out"] = opt.out;
    sum.meta["threads"] = threads;
  } catch (...) {
    fs::remove_all_quiet(tmp);
    throw;
  }
  sum.seconds = elapsed();
  sum.meta["seconds"] = sum.seconds;
  return sum;
}

}  // namespace ptft
