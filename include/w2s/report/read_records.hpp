#pragma once
/// \file
/// Result records into the groups of report/aggregate.hpp: every `*.jsonl` under some paths read,
/// each record's configuration found (its run identity without the seed), one group per
/// configuration with one row per seed, and the groups that share experiment, dataset and sizes
/// told apart by what differs among them (`Group::variant`). No LibTorch here.
#include <nlohmann/json.hpp>
#include <range/v3/algorithm/sort.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/core/hash.hpp"
#include "w2s/core/placement.hpp"
#include "w2s/report/aggregate.hpp"

namespace w2s::report {

inline double number(const nlohmann::json& j) { return j.is_number() ? j.get<double>() : NAN; }

/// The configuration a record belongs to: its identity's group and fields; for records
/// made before run identities, a hash of what they hold (experiment, dataset, sizes,
/// policies, configuration but seeds and placement).
inline std::pair<std::string, nlohmann::json> record_identity(const nlohmann::json& r) {
  if (r.contains("identity")) return {r.at("identity").at("group").get<std::string>(), r.at("identity").at("fields")};
  nlohmann::json config = r.value("config", nlohmann::json::object());
  for (const auto& k : placement_keys()) config.erase(k);
  nlohmann::json fields = {{"experiment", r.at("experiment")}, {"dataset", r.at("dataset")}, {"weak", r.at("weak")},
                           {"strong", r.at("strong")}, {"policies", r.value("policies", nlohmann::json())},
                           {"config", config}};
  return {"legacy-" + stable_hash(fields.dump()), fields};
}

/// `j` flattened to "a.b.c" → scalar text.
inline void flatten(const nlohmann::json& j, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  } else {
    out[prefix] = j.is_string() ? j.get<std::string>() : j.dump();
  }
}

/// Sets `variant` of each of `members` (groups of one experiment, dataset and sizes) to the
/// fields whose values differ among them, as "name=value" (the path's last part; hashes cut
/// to 8 digits), at most four; the identity's first digits where nothing readable differs.
inline void label_by_difference(const std::vector<Group*>& members) {
  std::vector<std::map<std::string, std::string>> flat(members.size());
  std::set<std::string> paths;
  for (size_t i = 0; i < members.size(); ++i) {
    flatten(members[i]->fields, "", flat[i]);
    for (const auto& [k, v] : flat[i]) paths.insert(k);
  }
  std::vector<std::string> differing;
  for (const auto& path : paths)
    for (size_t i = 1; i < flat.size(); ++i)
      if (flat[i].count(path) != flat[0].count(path) || (flat[i].count(path) && flat[i].at(path) != flat[0].at(path))) {
        differing.push_back(path);
        break;
      }
  for (size_t i = 0; i < members.size(); ++i) {
    std::string label;
    size_t shown = 0;
    for (const auto& path : differing) {
      if (shown == 4) {
        label += ", …";
        break;
      }
      const auto dot = path.rfind('.');
      std::string value = flat[i].count(path) ? flat[i].at(path) : "-";
      if (value.size() > 12 && value.find_first_not_of("0123456789abcdef") == std::string::npos) value.resize(8);
      label += (shown++ ? ", " : "") + path.substr(dot == std::string::npos ? 0 : dot + 1) + "=" + value;
    }
    members[i]->variant = label.empty() ? members[i]->identity.substr(0, 8) : label;
  }
}

/// Labels the groups that share experiment, dataset and sizes (a group alone in its cell
/// keeps ""): records made before run identities as such, the others by what differs
/// among them (label_by_difference).
inline void label_variants(std::vector<Group>& groups) {
  std::map<std::tuple<std::string, std::string, std::string, std::string>, std::vector<Group*>> cells;
  for (auto& g : groups) cells[{g.experiment, g.dataset, g.weak, g.strong}].push_back(&g);
  for (auto& [cell, members] : cells) {
    if (members.size() < 2) continue;
    std::vector<Group*> legacy, current;
    for (auto* g : members) (g->identity.rfind("legacy-", 0) == 0 ? legacy : current).push_back(g);
    if (current.size() > 1) label_by_difference(current);
    if (legacy.size() > 1) label_by_difference(legacy);
    for (auto* g : legacy) g->variant = "recorded before run identities" + (g->variant.empty() ? "" : ", " + g->variant);
  }
}

/// Reads every `*.jsonl` under `paths` (files or directories, recursively, in path order);
/// skips smoke runs unless asked. One group per configuration (record_identity), one row
/// per distinct seed.
inline std::vector<Group> read_groups(const std::vector<std::filesystem::path>& paths, bool include_smoke = false) {
  std::vector<std::filesystem::path> files;
  for (const auto& p : paths) {
    check(std::filesystem::exists(p), p.string(), ": no such file or directory");
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p))
        if (e.is_regular_file() && e.path().extension() == ".jsonl") files.push_back(e.path());
    } else {
      files.push_back(p);
    }
  }
  ranges::sort(files);
  std::map<std::string, Group> groups;
  std::map<std::string, std::set<uint64_t>> seen;  // identity → seeds read
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      nlohmann::json r;
      try {
        r = nlohmann::json::parse(line);
      } catch (const std::exception& e) {
        fail(f.string(), ":", n, ": not a JSON record (", e.what(), ")");
      }
      if (!r.is_object()) continue;
      if (r.value("smoke", false) && !include_smoke) continue;
      const bool diverged = r.contains("diverged");  // --on-divergence record: no metrics, counted in its group
      if (!diverged && !r.contains("metrics")) continue;  // other tools' records
      try {
        auto [identity, fields] = record_identity(r);
        auto& g = groups[identity];
        if (g.identity.empty()) {
          g.identity = identity;
          g.fields = std::move(fields);
          g.experiment = r.at("experiment").get<std::string>();
          g.dataset = r.at("dataset").get<std::string>();
          g.weak = r.at("weak").get<std::string>();
          g.strong = r.at("strong").get<std::string>();
        }
        const auto seed = r.at("seed").get<uint64_t>();
        if (!seen[identity].insert(seed).second) {
          g.repeated.push_back(seed);
          continue;
        }
        if (diverged) {
          g.diverged.push_back(seed);
          continue;
        }
        const auto& m = r.at("metrics");
        // score: accuracy, or −MSE for regression records (which have no agreement)
        const auto score = [&](const char* model) {
          const auto& x = m.at(model);
          return number(x.contains("score") ? x.at("score") : x.at("accuracy"));
        };
        const auto auc = [&](const char* model) { return number(m.at(model).value("auc", nlohmann::json())); };
        const auto best = [&](const char* model) {
          const auto& x = m.at(model);
          return x.contains("best_mse") ? -number(x.at("best_mse")) : number(x.value("best_accuracy", nlohmann::json()));
        };
        SeedRow row{seed, score("weak"), score("ceiling"), score("student"), best("student"),
                    m.contains("agreement") ? number(m.at("agreement").at("supervisor_wrong")) : NAN,
                    auc("weak"), auc("ceiling"), auc("student"), best("weak"), best("ceiling")};
        if (m.contains("label_free") && m.at("label_free").is_object()) {
          const auto& lf = m.at("label_free");
          if (lf.contains("kmeans")) row.label_free_kmeans = number(lf.at("kmeans").at("accuracy"));
          if (lf.contains("pca_sign")) row.label_free_pca = number(lf.at("pca_sign").at("accuracy"));
        }
        if (m.contains("noise_control") && m.at("noise_control").is_object())
          row.noise_control = number(m.at("noise_control").at("accuracy"));
        if (m.contains("cleaning") && m.at("cleaning").is_object()) {
          const auto& c = m.at("cleaning");
          row.kept_share = number(c.at("kept")) / number(c.at("of"));
          row.errors_removed = number(c.at("weak_errors_removed"));
          row.correct_removed = number(c.at("correct_labels_removed"));
          row.target_error_rate = number(c.at("target_error_rate"));
          row.weak_error_rate = number(c.at("weak_error_rate"));
        }
        if (m.at("weak").contains("transfer_calibration"))
          row.weak_margin = number(m.at("weak").at("transfer_calibration").at("mean_margin"));
        if (m.at("student").contains("test_correct")) {
          const int64_t n_test = r.at("n").at("test").get<int64_t>();
          row.weak_ok = decode_correct(m.at("weak").at("test_correct").get<std::string>(), n_test);
          row.ceiling_ok = decode_correct(m.at("ceiling").at("test_correct").get<std::string>(), n_test);
          row.student_ok = decode_correct(m.at("student").at("test_correct").get<std::string>(), n_test);
        }
        g.seeds.push_back(std::move(row));
        for (const auto& split : {"test", "transfer"})
          if (m.contains("tasks"))
            for (size_t t = 0; t < m.at("tasks").at(split).size(); ++t) {
              const auto& x = m.at("tasks").at(split).at(t);
              g.tasks.push_back({seed, split, static_cast<int64_t>(t), number(x.at("err_weak")),
                                 number(x.at("err_w2s")), number(x.at("err_ceiling")), number(x.at("misfit")),
                                 number(x.at("gain"))});
            }
      } catch (const nlohmann::json::exception& e) {
        fail(f.string(), ":", n, ": ", diverged ? "diverged record" : "record", " lacks a field (", e.what(), ")");
      } catch (const Error& e) {
        fail(f.string(), ":", n, ": ", e.what());
      }
    }
  }
  std::vector<Group> out;
  for (auto& [key, g] : groups) out.push_back(std::move(g));
  ranges::sort(out, [](const Group& a, const Group& b) {
    return std::tie(a.experiment, a.dataset, a.weak, a.strong, a.identity) <
           std::tie(b.experiment, b.dataset, b.weak, b.strong, b.identity);
  });
  label_variants(out);
  ranges::sort(out, [](const Group& a, const Group& b) {  // variants of one cell in the order of their labels
    return std::tie(a.experiment, a.dataset, a.weak, a.strong, a.variant, a.identity) <
           std::tie(b.experiment, b.dataset, b.weak, b.strong, b.variant, b.identity);
  });
  return out;
}

}  // namespace w2s::report
