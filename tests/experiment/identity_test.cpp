// A run's identity: what tells two runs apart, and the record path made from it.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "w2s/core/atomic_file.hpp"
#include "w2s/core/cache.hpp"
#include "w2s/experiment/identity.hpp"

using namespace w2s;

namespace {
RunConfig config() {
  RunConfig c;
  c.experiment = "aux_confidence_loss";
  c.dataset = "wine";
  c.weak = "xs";
  c.strong = "l";
  return c;
}
const nlohmann::json policies = {{"loss", {{"name", "logconf"}, {"options", {{"alpha", 0.75}}}}}};
const nlohmann::json data = {{"dataset", "wine@0123:train"}};
}  // namespace

TEST_CASE("identity: a policy option, a result-changing value, the threads or the data make another group", "[identity]") {
  const auto base = run_identity(config(), policies, 1, data);
  REQUIRE(base.group.size() == 16);
  auto other_alpha = policies;
  other_alpha["loss"]["options"]["alpha"] = 0.5;
  REQUIRE(run_identity(config(), other_alpha, 1, data).group != base.group);
  auto lr = config();
  lr.lr = 0.01;
  REQUIRE(run_identity(lr, policies, 1, data).group != base.group);
  REQUIRE(run_identity(config(), policies, 2, data).group != base.group);  // BLAS sums differ by thread count
  REQUIRE(run_identity(config(), policies, 1, {{"dataset", "wine@4567:train"}}).group != base.group);
  // where things go, which seeds, logging: the same configuration
  auto placed = config();
  placed.out = "elsewhere";
  placed.cache_dir = "/tmp/c";
  placed.data_dir = "/data";
  placed.seeds = {4, 5};
  placed.quiet = placed.no_cache = true;
  placed.threads = 7;  // the count in force is what counts
  placed.marker = "m";
  REQUIRE(run_identity(placed, policies, 1, data).group == base.group);
  REQUIRE(base.fields.at("code").contains("library"));  // the code's fingerprint ("unknown" in this test binary)
  REQUIRE(base.fields.at("versions").contains("libtorch"));
}

TEST_CASE("cache keys hold what the identity holds of the environment: threads, device, libraries", "[identity]") {
  const auto root = std::filesystem::temp_directory_path() / "w2s_identity_cache";
  const nlohmann::json key = {{"role", "weak"}, {"seed", 0}};
  const auto at = [&](int threads, const std::string& device) {
    return Cache(root, true, cache_environment(threads, device)).base("weak", "wine-xs", key);
  };
  REQUIRE(at(1, "cpu") == at(1, "cpu"));
  REQUIRE(at(1, "cpu") != at(2, "cpu"));  // a weak model made with 2 threads is not served to a 1-thread run
  REQUIRE(at(1, "cpu") != at(1, "cuda"));
  // The identity's environment is the cache's, plus the binary's own source (binaries share the cache).
  const auto id = run_identity(config(), policies, 2, data);
  auto env = cache_environment(2, "cpu");
  for (const auto& [k, v] : env.items())
    if (k != "code") REQUIRE(id.fields.at(k) == v);
  REQUIRE(id.fields.at("code").at("library") == env.at("code").at("library"));
  REQUIRE(id.fields.at("code").contains("source"));
  REQUIRE_FALSE(env.at("code").contains("source"));
  REQUIRE(env.at("versions").contains("blas"));
}

TEST_CASE("identity: each seed its own run and record, named by the group", "[identity]") {
  const auto id = run_identity(config(), policies, 1, data);
  REQUIRE(id.run(0) != id.run(1));
  REQUIRE(id.to_json(3).at("group") == id.group);
  REQUIRE(id.to_json(3).at("run") == id.run(3));
  REQUIRE(id.record_path("out", 3) ==
          std::filesystem::path("out/aux_confidence_loss/wine_xs_l_" + id.group.substr(0, 12) + "_seed3.jsonl"));
}

TEST_CASE("identity: a record counts as this run's only when it carries the run's identity", "[identity]") {
  const auto dir = std::filesystem::temp_directory_path() / "w2s_identity_test";
  std::filesystem::remove_all(dir);
  const auto id = run_identity(config(), policies, 1, data);
  const auto path = id.record_path(dir, 0);
  REQUIRE_FALSE(id.recorded_at(path, 0));  // absent
  atomic_write_text(path, nlohmann::json{{"identity", id.to_json(0)}}.dump() + "\n");
  REQUIRE(id.recorded_at(path, 0));
  REQUIRE_FALSE(id.recorded_at(path, 1));  // another seed's run
  atomic_write_text(path, "{\"identity\": {\"run\": \"");  // cut short
  REQUIRE_FALSE(id.recorded_at(path, 0));
  std::filesystem::remove_all(dir);
}

TEST_CASE("the Python tools' placement keys are experiment/identity.hpp's", "[experiment][identity]") {
  // tools/w2s_placement.py is the copy w2s_figures.py and compare_records.py read: every quoted
  // name in its set, and nothing else, must be a placement key here.
  std::ifstream in(std::string(W2S_SOURCE_DIR) + "/tools/w2s_placement.py");
  REQUIRE(in);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto open = text.find("frozenset({");
  REQUIRE(open != std::string::npos);
  const auto close = text.find("})", open);
  REQUIRE(close != std::string::npos);
  std::set<std::string> python;
  for (auto i = text.find('"', open); i != std::string::npos && i < close; i = text.find('"', i + 1)) {
    const auto end = text.find('"', i + 1);
    python.insert(text.substr(i + 1, end - i - 1));
    i = end;
  }
  REQUIRE(python == placement_keys());
}
