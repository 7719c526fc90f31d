// The Task policy (experiment/task.hpp): the dataset's kind of targets decides the score, the
// metrics and record fields, the stage loss and the weak learner; by hand on tiny tensors.
#include <c10/util/Logging.h>  // glog's CHECK before Catch's, so that CHECK is Catch's
#include <catch2/catch.hpp>

#include "w2s/experiment/protocol.hpp"
#include "w2s/experiment/task.hpp"
#include "w2s/losses/aux_confidence.hpp"
#include "w2s/students/oracle_stopping.hpp"

using namespace w2s;

TEST_CASE("classification: accuracy, AUC, curve and agreement by hand", "[task]") {
  static_assert(std::is_same_v<TaskFor<CrossEntropy>, Classification>);
  static_assert(std::is_same_v<TaskFor<AuxConfidence>, Classification>);
  static_assert(std::is_same_v<Classification::StageLoss, CrossEntropy>);
  static_assert(std::is_same_v<decltype(Classification::weak_student(OracleStopping<FineTune>{})), OracleStopping<FineTune>>);
  const auto probs = at::tensor({.9f, .1f, .3f, .7f, .6f, .4f, .2f, .8f}).view({4, 2});
  const auto y = at::tensor({0, 1, 1, 1}, at::kLong);
  REQUIRE(Classification::score(probs, y) == Approx(0.75));  // the third row is wrong
  Curve curve{{1, 2}, {0.5, 0.75}};
  const auto m = Classification::model_metrics(probs, y, &curve);
  REQUIRE(m.at("accuracy").get<double>() == Approx(0.75));
  REQUIRE(m.at("best_accuracy").get<double>() == Approx(0.75));
  // AUC of P(class 1) = .1 .7 .4 .8 against 0 1 1 1: the negative (.1) is below all three positives
  REQUIRE(m.at("auc").get<double>() == Approx(1.0));
  REQUIRE_FALSE(m.contains("mse"));
  // agreement: the weak model predicts 0 0 0 1, right on rows 0 and 3, wrong on 1 and 2
  const auto weak_probs = at::tensor({.8f, .2f, .6f, .4f, .7f, .3f, .1f, .9f}).view({4, 2});
  Splits splits;
  splits.test.targets = y;
  StageResult weak, ceiling;
  weak.test_probs = weak_probs;
  Fitted student;
  student.result.test_probs = probs;  // predicts 0 1 0 1
  nlohmann::json fields;
  Classification::add_fields(fields, {splits, weak, ceiling, student});
  REQUIRE(fields["agreement"]["all"].get<double>() == Approx(0.75));             // all but row 1
  REQUIRE(fields["agreement"]["supervisor_right"].get<double>() == Approx(1.0));  // rows 0 and 3 agree
  REQUIRE(fields["agreement"]["supervisor_wrong"].get<double>() == Approx(0.5));  // row 2 agrees, row 1 not
  fields["weak"]["accuracy"] = 0.5, fields["ceiling"]["accuracy"] = 1.0, fields["student"]["accuracy"] = 0.75;
  fields["pgr"] = 0.5;
  REQUIRE(Classification::summary(fields) == "weak 0.5  ceiling 1.0  student 0.75  PGR 0.5  agreement(weak wrong) 0.5");
}

TEST_CASE("regression: minus MSE as the score, per-task gain and misfit, least squares as the weak learner", "[task]") {
  static_assert(std::is_same_v<TaskFor<SquaredError>, Regression>);
  static_assert(std::is_same_v<Regression::StageLoss, SquaredError>);
  static_assert(std::is_same_v<decltype(Regression::weak_student(FineTune{})), LeastSquares>);
  const auto pred = at::tensor({1.f, 3.f}).view({2, 1});
  const auto y = at::tensor({0.f, 1.f}).view({2, 1});
  REQUIRE(Regression::score(pred, y) == Approx(-2.5));  // ((1−0)² + (3−1)²) / 2
  const auto m = Regression::model_metrics(pred, y, nullptr);
  REQUIRE(m.at("mse").get<double>() == Approx(2.5));
  REQUIRE(m.at("score").get<double>() == Approx(-2.5));
  REQUIRE_FALSE(m.contains("accuracy"));
  REQUIRE_FALSE(m.contains("curve"));
  nlohmann::json fields = {{"weak", {{"mse", 4}}}, {"ceiling", {{"mse", 2}}}, {"student", {{"mse", 3}}}, {"pgr", 0.5}};
  REQUIRE(Regression::summary(fields) == "mse weak 4  ceiling 2  student 3  PGR 0.5");
}

TEST_CASE("a pretrained encoder as the weak supervisor is fit as the student fits its encoder", "[task]") {
  FineTune student;
  student.train_layers = 0;  // the linear probe on frozen features
  PretrainedBackbone encoder, bag_of_words;
  encoder.size = {"minilm-l3", {"bert", {}, "paraphrase-MiniLM-L3-v2"}, {.objective = "none"}};
  bag_of_words.size = {"xs", {"bow", {16}}, {.objective = "none"}};
  auto weak = Classification::weak_student(student);
  REQUIRE(weak.train_layers == -1);  // WeakStudentFor: every weight
  fit_encoder_like_student(weak, student, encoder);
  REQUIRE(weak.train_layers == 0);
  auto other = Classification::weak_student(student);
  fit_encoder_like_student(other, student, bag_of_words);
  REQUIRE(other.train_layers == -1);  // a size without pretrained layers still trains every weight
  OracleStopping<FineTune> oracle;
  oracle.inner.train_layers = 1;
  auto weak_oracle = Classification::weak_student(oracle);
  fit_encoder_like_student(weak_oracle, oracle, encoder);
  REQUIRE(weak_oracle.inner.train_layers == 1);
}
