#pragma once
/// \file
/// How the student's labels are produced from the weak supervisor: directly
/// (the paper's default), or by bootstrapping through the intermediate ladder
/// sizes (paper §4.3.1, Fig. 4): weak → m₁ → m₂ → … → strong, each step training
/// the next size, with the experiment's label source, loss and student, on the
/// previous step's predictions.
#include <nlohmann/json.hpp>

#include "w2s/experiment/protocol.hpp"
#include "w2s/labels/label_source.hpp"
#include "w2s/models/pretrain.hpp"

namespace w2s {

/// The weak supervisor's labels go straight to the strong student.
struct Direct {
  static constexpr std::string_view name = "direct";
  template <class L, class Lo, class S>
  StudentData student_data(const SeedState&, const L& source, const Lo&, const S&, const LabelContext& c,
                           nlohmann::json&) const {
    return source.make(c);
  }
};

/// Chains the weak labels through every ladder size strictly between --weak and --strong.
struct Bootstrap {
  static constexpr std::string_view name = "bootstrap";
  template <class L, class Lo, class S>
  StudentData student_data(const SeedState& s, const L& source, const Lo& loss, const S& student, LabelContext c,
                           nlohmann::json& record) const {
    check(!s.splits.transfer_half.language_model_tokens(), "bootstrap: needs a ladder of named sizes; dataset '",
          s.splits.transfer_half.name, "' takes checkpoint folders");
    const auto& sizes = ladder(s.splits.transfer_half.modality);
    const auto index = [&](const std::string& name) {
      for (size_t i = 0; i < sizes.size(); ++i)
        if (sizes[i].name == name) return i;
      fail("bootstrap: size '", name, "' is not on the ladder");
    };
    const size_t from = index(s.weak_backbone.size.name), to = index(s.strong_backbone.size.name);
    check(from < to, "bootstrap: --weak (", sizes[from].name, ") must be smaller than --strong (", sizes[to].name, ")");
    record["steps"] = nlohmann::json::array();
    for (size_t i = from + 1; i < to; ++i) {
      const auto bb = pretrain(sizes[i], s.pretrain_pool, s.cache, s.config.smoke, s.device, s.log);
      s.log("bootstrap ", sizes[i].name, " seed ", s.seed, ": ", S::name, " with ", Lo::name, " on the previous step's labels");
      const StudentContext ctx{bb, s.train_config(false, "bootstrap " + sizes[i].name), s.log, s.features};
      const StudentData data = source.make(c);
      const Fitted fitted = student.fit(ctx, data, loss);
      c.weak_transfer_probs = fitted.predict(data.train);  // the transfer half as this student saw it
      c.weak_test_probs = fitted.result.test_probs;
      record["steps"].push_back({{"size", sizes[i].name},
                                 {"score", metrics::score(fitted.result.test_probs, s.splits.test.targets)},
                                 {"seconds", fitted.result.seconds}});
    }
    return source.make(c);
  }
};

}  // namespace w2s
