#pragma once
/// \file
/// What every policy (label source, loss, student) may offer beyond its role's
/// required members, detected rather than required (style.md, "Policies"):
///   - `void add_options(boost::program_options::options_description&)`: its command-line options;
///   - `void validate() const`: throws w2s::Error for out-of-range options;
///   - `nlohmann::json describe() const`: its options, recorded with every result.
#include <boost/program_options/options_description.hpp>
#include <nlohmann/json.hpp>

#include <concepts>
#include <string>
#include <string_view>
#include <vector>

namespace w2s {

namespace po = boost::program_options;

/// A policy names itself: `static constexpr std::string_view name = "...";`.
template <class P>
concept Named = requires {
  { P::name } -> std::convertible_to<std::string_view>;
};

template <class P>
void add_policy_options(P& policy, po::options_description& options) {
  if constexpr (requires { policy.add_options(options); }) policy.add_options(options);
}

template <class P>
void validate_policy(const P& policy) {
  if constexpr (requires { policy.validate(); }) policy.validate();
}

/// The names of `policy` and of the policies it wraps (`inner`, e.g. OracleStopping<FineTune>:
/// oracle_stopping, finetune), appended to `out`: the sections of a config file that apply
/// to a binary using it (core/cli.hpp).
template <class P>
void policy_names(const P& policy, std::vector<std::string>& out) {
  out.emplace_back(P::name);
  if constexpr (requires { policy.inner; }) policy_names(policy.inner, out);
}

/// `{"name": ..., "options": ...}` of a policy, for records and cache keys.
template <class P>
nlohmann::json describe_policy(const P& policy) {
  nlohmann::json j = {{"name", std::string(P::name)}};
  if constexpr (requires { { policy.describe() } -> std::convertible_to<nlohmann::json>; })
    j["options"] = policy.describe();
  else
    j["options"] = nlohmann::json::object();
  return j;
}

}  // namespace w2s
