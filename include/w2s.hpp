#pragma once
/// \file
/// The one header an experiment file includes: every role, every shipped policy,
/// and `w2s::Experiment` / `w2s::run`.
///
/// \code
/// #include <w2s.hpp>
/// using Naive = w2s::Experiment<w2s::WeakLabels<>, w2s::CrossEntropy, w2s::FineTune>;
/// int main(int argc, char** argv) { return w2s::run<Naive>("naive_finetune", argc, argv); }
/// \endcode
#include "w2s/experiment/experiment.hpp"
#include "w2s/experiment/method.hpp"
#include "w2s/labels/cleaned.hpp"
#include "w2s/labels/ground_truth.hpp"
#include "w2s/labels/noise.hpp"
#include "w2s/labels/weak_label_in_input.hpp"
#include "w2s/labels/weak_labels.hpp"
#include "w2s/losses/aux_confidence.hpp"
#include "w2s/losses/cross_entropy.hpp"
#include "w2s/losses/entropy.hpp"
#include "w2s/losses/kl.hpp"
#include "w2s/losses/product.hpp"
#include "w2s/losses/squared_error.hpp"
#include "w2s/losses/window.hpp"
#include "w2s/students/feature_probe.hpp"
#include "w2s/students/few_shot.hpp"
#include "w2s/students/fine_tune.hpp"
#include "w2s/students/least_squares.hpp"
#include "w2s/students/linear_probe.hpp"
#include "w2s/students/oracle_stopping.hpp"
#include "w2s/students/probe_after.hpp"
