// hosm/train/options.hpp — the settings of a training run (train::trainer).
//
//   train::options o{.steps = 5000, .batch = 256, .lr = 1e-3, .seed = 7,
//                    .ema_decay = 0.999, .clip_norm = 10,
//                    .checkpoint_path = "run.npz", .checkpoint_every = 500};
//
// Fields (scalars are double and converted to the model's T where used):
//
//   steps             total optimisation steps of the run, >= 1. A resumed run
//                     continues from the checkpoint's step up to `steps`.
//   batch             clean samples per step, >= 1.
//   lr                learning rate given to the default optimiser (Adam), finite
//                     and > 0. Ignored when a schedule is set (the schedule gives
//                     the rate of every step) or when an optimiser is passed in.
//   seed              seed of the counter-based random streams: clean samples of
//                     step t and the noise of step t are the sample indices
//                     t * batch .. t * batch + batch - 1 of streams (seed, "DATA")
//                     and (seed, "NOIS"), so a run is reproducible and a resumed
//                     run draws exactly the numbers of an uninterrupted one.
//   ema_decay         if set: keep an exponential moving average of the
//                     parameters with this decay (in [0, 1)); see optim/ema.hpp.
//   clip_norm         > 0: clip the gradient to this global L2 norm; 0: off.
//   clip_value        > 0: clamp every gradient entry to [-clip_value, clip_value]
//                     (after clip_norm); 0: off.
//   schedule          if set: the learning rate of step t (t = 0, 1, ...), e.g. an
//                     optim::schedule::cosine<double>; each value must be finite
//                     and >= 0.
//   checkpoint_path   where checkpoints are written (.npz); empty: none.
//   checkpoint_every  K >= 0: also write a checkpoint after every K-th step
//                     (0: only at the end of the run). Needs checkpoint_path.
//   resume            if true and checkpoint_path names an existing file, load it
//                     before training and continue from its step.
//   progress          where the live progress line goes (progress_sink.hpp);
//                     default standard error, progress_sink::none() disables it.
//   progress_interval seconds between redraws of the progress line, >= 0.
//
// train::validate(o) (called by the trainer) throws hosm::error naming the
// field and its value for every value outside the ranges above.
#pragma once
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/train/progress_sink.hpp>

namespace hosm::train {

struct options {
    index_t steps = 1000;
    index_t batch = 128;
    double lr = 1e-3;
    std::uint64_t seed = 0;
    std::optional<double> ema_decay{};
    double clip_norm = 0;
    double clip_value = 0;
    std::function<double(index_t)> schedule{};
    std::string checkpoint_path{};
    index_t checkpoint_every = 0;
    bool resume = false;
    progress_sink progress = progress_sink::standard_error();
    double progress_interval = 0.25;
};

/// Throws hosm::error naming the first invalid field of o and its value.
inline void validate(const options& o, const char* where = "train::options") {
    hosm::detail::check_at_least(where, "steps", o.steps, 1);
    hosm::detail::check_at_least(where, "batch", o.batch, 1);
    hosm::detail::check_positive(where, "lr", o.lr);
    if (o.ema_decay && !(*o.ema_decay >= 0.0 && *o.ema_decay < 1.0))
        hosm::detail::fail(where, "argument 'ema_decay' must be in [0, 1), got ", *o.ema_decay);
    hosm::detail::check_nonnegative(where, "clip_norm", o.clip_norm);
    hosm::detail::check_nonnegative(where, "clip_value", o.clip_value);
    hosm::detail::check_at_least(where, "checkpoint_every", o.checkpoint_every, 0);
    if (o.checkpoint_every > 0 && o.checkpoint_path.empty())
        hosm::detail::fail(where, "argument 'checkpoint_every' = ", o.checkpoint_every,
                           " needs a checkpoint_path (it is empty)");
    if (o.resume && o.checkpoint_path.empty())
        hosm::detail::fail(where, "argument 'resume' = true needs a checkpoint_path (it is empty)");
    hosm::detail::check_nonnegative(where, "progress_interval", o.progress_interval);
    // steps * batch sample indices must fit the 64-bit counters
    if (static_cast<double>(o.steps) * static_cast<double>(o.batch) > 9.0e18)
        hosm::detail::fail(where, "arguments 'steps' = ", o.steps, " and 'batch' = ", o.batch,
                           " give more sample indices than the 64-bit counters hold");
}

}  // namespace hosm::train
