// Cache keys and atomic writes, and the command line (the trainer: tests/train/trainer_test.cpp).
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "w2s/core/cache.hpp"
#include "w2s/core/cli.hpp"
#include "w2s/core/hash.hpp"
#include "w2s/core/op_profile.hpp"

using namespace w2s;
namespace fs = std::filesystem;

namespace {
fs::path temp_dir(const std::string& name) {
  auto d = fs::temp_directory_path() / ("w2s_core_test_" + std::to_string(::getpid())) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
std::vector<char*> argv_of(std::vector<std::string>& args) {
  std::vector<char*> v;
  for (auto& a : args) v.push_back(a.data());
  return v;
}
/// The w2s::Error the experiments' command line gives for `args`, or "no error".
std::string error_of(std::vector<std::string> args) {
  RunConfig cfg;
  po::options_description none;
  std::ostringstream help;
  auto v = argv_of(args);
  try {
    cli::parse(int(v.size()), v.data(), cfg, none, help);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST_CASE("stable_hash is 64-bit FNV-1a", "[cache]") {
  // Reference values of FNV-1a 64 (Fowler–Noll–Vo test vectors): "" and "a".
  REQUIRE(stable_hash("") == "cbf29ce484222325");
  REQUIRE(stable_hash("a") == "af63dc4c8601ec8c");
}

TEST_CASE("the cache computes once, keys on everything, and reports corrupt entries", "[cache]") {
  const Cache cache(temp_dir("cache"), true);
  int made = 0;
  const auto make = [&] {
    ++made;
    return Artifact{{at::arange(3, at::kFloat)}, {{"seconds", 1.5}}};
  };
  const auto base = cache.base("weak", "toy", {{"seed", 0}});
  REQUIRE(base != cache.base("weak", "toy", {{"seed", 1}}));
  REQUIRE(at::equal(cache.get_or_make(base, make).tensors[0], at::arange(3, at::kFloat)));
  REQUIRE(at::equal(cache.get_or_make(base, make).tensors[0], at::arange(3, at::kFloat)));
  REQUIRE(made == 1);
  REQUIRE(cache.get_or_make(base, make).meta["seconds"] == 1.5);
  std::ofstream(fs::path(base.string() + ".pt")) << "garbage";  // damaged: reported, recomputed, rewritten
  REQUIRE_FALSE(cache.load(base).has_value());
  REQUIRE(at::equal(cache.get_or_make(base, make).tensors[0], at::arange(3, at::kFloat)));
  REQUIRE(made == 2);
  REQUIRE(cache.load(base).has_value());
  const Cache off(temp_dir("off"), false);
  off.get_or_make(off.base("weak", "toy", {}), make);
  off.get_or_make(off.base("weak", "toy", {}), make);
  REQUIRE(made == 4);
  REQUIRE(fs::is_empty(temp_dir("off")));
}

TEST_CASE("atomic_write leaves no file when the writer fails", "[cache]") {
  const auto p = temp_dir("atomic") / "record.jsonl";
  REQUIRE_THROWS(atomic_write(p, [](const fs::path& tmp) {
    std::ofstream(tmp) << "half";
    throw std::runtime_error("died");
  }));
  REQUIRE(fs::is_empty(p.parent_path()));
  atomic_write_text(p, "whole\n");
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  REQUIRE(s == "whole");
}

TEST_CASE("seeds: lists and ranges", "[cli]") {
  REQUIRE(cli::parse_seeds("0-2,7,1") == std::vector<uint64_t>{0, 1, 2, 7});
  REQUIRE(cli::parse_seeds("5") == std::vector<uint64_t>{5});
  REQUIRE_THROWS_WITH(cli::parse_seeds("a"), Catch::Contains("--seeds: expected numbers"));
  REQUIRE_THROWS_WITH(cli::parse_seeds("3-1"), Catch::Contains("runs backwards"));
  REQUIRE_THROWS_WITH(cli::parse_seeds("0-1000"), Catch::Contains("1001 seeds; at most 1000"));
  REQUIRE_THROWS_WITH(cli::parse_seeds("0-999,5000"), Catch::Contains("more than 1000 seeds"));
  REQUIRE_THROWS_WITH(cli::parse_seeds("99999999999999999999999"), Catch::Contains("too large"));
  REQUIRE(cli::parse_seeds("0-999").size() == 1000);
}

TEST_CASE("the command line: defaults, --smoke, --help, errors", "[cli]") {
  po::options_description none;
  std::ostringstream help;
  {
    RunConfig cfg;
    std::vector<std::string> a = {"exp", "--seeds", "0-2", "--smoke", "--epochs", "4"};
    auto v = argv_of(a);
    REQUIRE(cli::parse(int(v.size()), v.data(), cfg, none, help));
    REQUIRE(cfg.seeds.size() == 3);
    REQUIRE(cfg.epochs == 4);       // given on the command line: --smoke keeps it
    REQUIRE(cfg.train_size == 1000);  // not given: --smoke shrinks it
  }
  {
    RunConfig cfg;
    std::vector<std::string> a = {"exp", "--help"};
    auto v = argv_of(a);
    REQUIRE_FALSE(cli::parse(int(v.size()), v.data(), cfg, none, help));
    REQUIRE_THAT(help.str(), Catch::Contains("--seeds") && Catch::Contains("(=0)"));
  }
  REQUIRE_THAT(error_of({"exp", "--bogus"}), Catch::Contains("unrecognised option '--bogus'"));
  REQUIRE_THAT(error_of({"exp", "--epochs", "two"}), Catch::Contains("epochs"));
  REQUIRE_THAT(error_of({"exp", "--device", "tpu"}), Catch::Contains("--device: expected cpu or cuda"));
  REQUIRE_THAT(error_of({"exp", "--ceiling-half", "both"}), Catch::Contains("--ceiling-half"));
  const auto dir = temp_dir("config");
  std::ofstream(dir / "good.ini") << "# comment\nepochs = 7\nseeds = 1,2\n";
  std::ofstream(dir / "bad.ini") << "epochs = 7\n\nlearning-rate = 3\n";
  std::ofstream(dir / "junk.ini") << "epochs 7\n";
  {
    RunConfig cfg;
    std::vector<std::string> a = {"exp", "--config", (dir / "good.ini").string(), "--seeds", "9"};
    auto v = argv_of(a);
    REQUIRE(cli::parse(int(v.size()), v.data(), cfg, none, help));
    REQUIRE(cfg.epochs == 7);
    REQUIRE(cfg.seeds == std::vector<uint64_t>{9});  // the command line wins
  }
  REQUIRE_THAT(error_of({"exp", "--config", (dir / "bad.ini").string()}),
               Catch::Contains("bad.ini:3: unknown option 'learning-rate'"));
  REQUIRE_THAT(error_of({"exp", "--config", (dir / "junk.ini").string()}),
               Catch::Contains("junk.ini:1: expected 'option = value'"));
  REQUIRE_THAT(error_of({"exp", "--config", (dir / "none.ini").string()}), Catch::Contains("cannot open"));
}

TEST_CASE("a config file's sections hold one policy's options: used by binaries with it, skipped by the rest", "[cli]") {
  // main.ini's shape: common options, then [finetune] train-layers, which a linear probe does not have
  int64_t layers = -1;
  po::options_description finetune;
  finetune.add_options()("train-layers", po::value(&layers)->default_value(layers), "k");
  po::options_description none;
  std::ostringstream help;
  const auto dir = temp_dir("sections");
  const auto ini = (dir / "main.ini").string();
  std::ofstream(ini) << "epochs = 30\n\n[finetune]\ntrain-layers = 0\n";
  {  // a binary whose student is finetune: the section applies
    RunConfig cfg;
    std::vector<std::string> a = {"exp", "--config", ini};
    auto v = argv_of(a);
    REQUIRE(cli::parse(int(v.size()), v.data(), cfg, finetune, help, {"weak_soft", "xent", "finetune", "direct"}));
    REQUIRE(cfg.epochs == 30);
    REQUIRE(layers == 0);
  }
  {  // a binary without it (a linear probe): the section is skipped with one note, the rest applies
    std::ostringstream notes;
    int64_t epochs = 0;
    po::options_description all;  // the common options as the binary has them (epochs among them)
    all.add_options()("epochs", po::value(&epochs), "epochs");
    const auto kept = cli::read_config_file(ini, all, {"weak_soft", "xent", "linear_probe", "direct"}, &notes);
    REQUIRE(kept == "epochs = 30\n");
    REQUIRE_THAT(notes.str(), Catch::Contains("main.ini:3: note: section [finetune] skipped: this binary's policies are "
                                              "weak_soft, xent, linear_probe, direct"));
    const auto said = notes.str();
    REQUIRE(std::count(said.begin(), said.end(), '\n') == 1);
  }
  // Strict where it applies: a typo in a used section, or in the common part, is an error with its line.
  std::ofstream(dir / "typo.ini") << "[finetune]\ntrain-layer = 0\n";
  REQUIRE_THROWS_WITH(cli::read_config_file((dir / "typo.ini").string(), finetune, {"finetune"}, nullptr),
                      Catch::Contains("typo.ini:2: unknown option 'train-layer' in section [finetune]"));
  std::ofstream(dir / "common.ini") << "train-layers = 0\n";
  REQUIRE_THROWS_WITH(cli::read_config_file((dir / "common.ini").string(), none, {"linear_probe"}, nullptr),
                      Catch::Contains("common.ini:1: unknown option 'train-layers'") &&
                          Catch::Contains("a section named after it, e.g. [finetune]"));
  std::ofstream(dir / "header.ini") << "[finetune\n";
  REQUIRE_THROWS_WITH(cli::read_config_file((dir / "header.ini").string(), none, {}, nullptr),
                      Catch::Contains("header.ini:1: expected a section '[policy name]'"));
}

TEST_CASE("the command line refuses at the door: stray words, non-finite numbers, ranges, threads", "[cli]") {
  po::options_description none;
  std::ostringstream help;
  // `--seeds 0 1 2` used to run seed 0 alone
  REQUIRE_THAT(error_of({"exp", "--seeds", "0", "1", "2"}), Catch::Contains("unexpected word '1'") &&
                                                               Catch::Contains("--seeds 0,1,2"));
  REQUIRE_THAT(error_of({"exp", "stray"}), Catch::Contains("unexpected word 'stray'"));
  REQUIRE_THAT(error_of({"exp", "--lr", "inf"}), Catch::Contains("--lr: expected a finite number, got inf"));
  REQUIRE_THAT(error_of({"exp", "--weak-lr", "nan"}), Catch::Contains("--weak-lr: expected a finite number"));
  REQUIRE_THAT(error_of({"exp", "--lr", "-1"}), Catch::Contains("--lr: expected a number > 0, got -1"));
  REQUIRE_THAT(error_of({"exp", "--epochs", "1000000"}), Catch::Contains("--epochs: expected 1..100000"));
  REQUIRE_THAT(error_of({"exp", "--eval-points", "0"}), Catch::Contains("--eval-points: expected 1..1000000"));
  REQUIRE_THAT(error_of({"exp", "--on-divergence", "ignore"}), Catch::Contains("--on-divergence: expected error or record"));
  REQUIRE_THAT(error_of({"exp", "--seeds", "0-5000"}), Catch::Contains("at most 1000"));
  // a policy's own real-valued option is checked too
  {
    double alpha = 0.5;
    po::options_description policy;
    policy.add_options()("alpha", po::value(&alpha)->default_value(alpha), "a policy's weight");
    RunConfig cfg;
    std::vector<std::string> a = {"exp", "--alpha", "-inf"};
    auto v = argv_of(a);
    REQUIRE_THROWS_WITH(cli::parse(int(v.size()), v.data(), cfg, policy, help),
                        Catch::Contains("--alpha: expected a finite number"));
  }
  {  // more threads than cores: capped, with a warning
    RunConfig cfg;
    std::vector<std::string> a = {"exp", "--threads", "100000"};
    auto v = argv_of(a);
    REQUIRE(cli::parse(int(v.size()), v.data(), cfg, none, help));
    REQUIRE(cfg.threads == static_cast<int>(std::thread::hardware_concurrency()));
  }
  {  // --smoke's own sizes are caps; a size given with it is not
    RunConfig cfg;
    std::vector<std::string> a = {"exp", "--smoke", "--train-size", "5000"};
    auto v = argv_of(a);
    REQUIRE(cli::parse(int(v.size()), v.data(), cfg, none, help));
    REQUIRE_FALSE(cfg.train_size_is_cap);
    REQUIRE(cfg.test_size_is_cap);
  }
}

TEST_CASE("checksum: every byte and the length count, block boundaries do not", "[cache]") {
  std::string bytes(1000, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = char(i * 7 + 3);
  const auto whole = checksum(bytes);
  REQUIRE(whole.size() == 16);
  Checksum pieces;
  pieces.add(bytes.substr(0, 3)).add(bytes.substr(3, 10)).add(bytes.substr(13));
  REQUIRE(pieces.hex() == whole);
  for (const size_t at : {size_t{0}, size_t{7}, size_t{500}, size_t{999}}) {
    auto flipped = bytes;
    flipped[at] ^= 1;
    REQUIRE(checksum(flipped) != whole);
  }
  REQUIRE(checksum(bytes.substr(0, 999)) != whole);
  REQUIRE(checksum(bytes + std::string(1, '\0')) != whole);  // a zero byte appended still counts
  REQUIRE(checksum("") != checksum(std::string(1, '\0')));
}

TEST_CASE("the cache verifies: flipped bytes, truncation, edited sidecars and swapped files are never served", "[cache]") {
  const auto root = temp_dir("verify");
  const Cache cache(root, true);
  const Artifact a{{at::arange(1000, at::kFloat), at::ones({3, 2})}, {{"key", {{"seed", 1}}}, {"score", 0.75}}};
  const auto base = cache.base("weak", "toy", {{"seed", 1}});
  const fs::path pt = base.string() + ".pt", json = base.string() + ".json";
  const auto read = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  };
  const auto write = [](const fs::path& p, const std::string& b) { std::ofstream(p, std::ios::binary) << b; };
  cache.store(base, a);
  REQUIRE(cache.load(base).has_value());
  REQUIRE(cache.load(base)->meta.at("score") == 0.75);
  REQUIRE_FALSE(cache.load(base)->meta.contains("checksum"));
  const auto good_pt = read(pt), good_json = read(json);
  // one bit of the tensor data flipped: LibTorch would read it without complaint
  auto flipped = good_pt;
  flipped[flipped.size() / 2] ^= 1;
  write(pt, flipped);
  REQUIRE_FALSE(cache.load(base).has_value());
  write(pt, good_pt.substr(0, good_pt.size() - 10));  // truncated
  REQUIRE_FALSE(cache.load(base).has_value());
  write(pt, good_pt);
  REQUIRE(cache.load(base).has_value());
  // the sidecar's numbers edited, or not JSON, or from an older w2s (no checksum)
  auto edited = good_json;
  edited.replace(edited.find("0.75"), 4, "0.95");
  write(json, edited);
  REQUIRE_FALSE(cache.load(base).has_value());
  write(json, "{\"score\": 0.75");
  REQUIRE_FALSE(cache.load(base).has_value());
  write(json, "{\"score\": 0.75}");
  REQUIRE_FALSE(cache.load(base).has_value());
  // another artefact's tensors under this sidecar
  write(json, good_json);
  const auto other = cache.base("weak", "toy", {{"seed", 2}});
  cache.store(other, Artifact{{at::zeros({1000}), at::ones({3, 2})}, {{"score", 0.75}}});
  write(pt, read(fs::path(other.string() + ".pt")));
  REQUIRE_FALSE(cache.load(base).has_value());
  // and recomputation heals the entry
  int made = 0;
  cache.get_or_make(base, [&] {
    ++made;
    return a;
  });
  REQUIRE(made == 1);
  REQUIRE(at::equal(cache.load(base)->tensors[0], at::arange(1000, at::kFloat)));
}

TEST_CASE("a cache write that fails is one line and leaves no temporary file or entry", "[cache]") {
  const auto root = temp_dir("unwritable");
  std::ofstream(root / "file") << "a file where the cache wants a directory";
  const Cache cache(root / "file", true);  // <root>/file/weak/... cannot be created
  const auto base = cache.base("weak", "toy", {});
  try {
    cache.store(base, Artifact{{at::ones({2})}, {}});
    FAIL("no error");
  } catch (const Error& e) {
    const std::string what = e.what();
    REQUIRE_THAT(what, Catch::Contains("cache: cannot write") && Catch::Contains("--no-cache"));
    REQUIRE(what.find('\n') == std::string::npos);
  }
  REQUIRE(std::distance(fs::directory_iterator(root), fs::directory_iterator()) == 1);
  // --out and --cache-dir are checked before a run starts
  REQUIRE_THROWS_WITH(check_writable_dir(root / "file" / "results", "--out"),
                      Catch::Contains("--out: cannot create directory"));
  check_writable_dir(root / "results", "--out");
  REQUIRE(fs::is_empty(root / "results"));
}

TEST_CASE("OpProfile: calls and self time per ATen operator; an operator's callees are not its self time",
          "[profile]") {
  const auto a = at::randn({96, 96}), b = at::randn({96, 96});
  at::NoGradGuard no_grad;
  std::vector<OpProfile::Row> rows;
  std::string table;
  {
    OpProfile profile;
    REQUIRE_THROWS_WITH(OpProfile(), Catch::Contains("another profile is already listening"));
    for (int i = 0; i < 3; ++i) (void)at::mm(a, b);
    (void)at::matmul(a, b);  // two 2-D matrices: aten::matmul calls aten::mm
    rows = profile.rows();
    table = profile.table(4);
  }
  const auto row = [&](const std::string& name) {
    const auto it = std::find_if(rows.begin(), rows.end(), [&](const auto& r) { return r.name == name; });
    REQUIRE(it != rows.end());
    return *it;
  };
  const auto mm = row("aten::mm"), matmul = row("aten::matmul");
  CHECK(mm.calls == 4);
  CHECK(matmul.calls == 1);
  for (const auto& r : rows) CHECK((r.self_seconds >= 0 && r.self_seconds <= r.total_seconds + 1e-9));
  CHECK(matmul.total_seconds > matmul.self_seconds);  // the mm it called is not its own
  CHECK(std::is_sorted(rows.begin(), rows.end(),
                       [](const auto& x, const auto& y) { return x.self_seconds > y.self_seconds; }));
  CHECK_THAT(table, Catch::Contains("| `aten::mm` | ") && Catch::Contains("| 1 |\n") &&
                        Catch::Contains("| all operators | 100% | "));
  // the listener is gone with the profile: a new one starts empty
  OpProfile again;
  CHECK(again.rows().empty());
}
