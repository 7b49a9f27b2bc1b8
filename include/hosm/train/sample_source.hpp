// hosm/train/sample_source.hpp — the concept of a source of clean training
// samples, and the concept of an analytic target that can be sampled.
//
// SampleSource<Src, T, B>: what train::trainer draws its minibatches from.
//
//   src.dim()                  D, the sample dimension
//   src.draw(step, out)        fills out (D x batch, B's memory) with the clean
//                              samples of optimisation step `step` (an index_t);
//                              the same step must give the same samples, so a
//                              resumed run sees the batches of an uninterrupted one
//
// train::target_samples (an analytic target) and train::data_samples (a user's
// D x N data matrix) model it.
//
// SampleableTarget<Tg, T, B>: a target with the batched sampler of
// targets/detail/target_base.hpp, tg.sample(stream, out, first), out D x N in
// B's memory, column j the draw of sample index first + j. Every hosm::targets
// class models it.
//
//   static_assert(hosm::train::SampleSource<Src, T, B>,
//                 "hosm: Src does not model train::SampleSource: needs dim() and "
//                 "draw(step, batch_view<T>)");
#pragma once
#include <concepts>
#include <cstdint>

#include <hosm/core/batch_view.hpp>
#include <hosm/core/types.hpp>
#include <hosm/random/stream.hpp>

namespace hosm::train {

template <class Src, class T, class B>
concept SampleSource = requires(const Src& s, index_t step, batch_view<T> out) {
    { s.dim() } -> std::convertible_to<index_t>;
    s.draw(step, out);
};

template <class Tg, class T, class B>
concept SampleableTarget =
    requires(const Tg& t, const random::stream& s, batch_view<T> out, std::uint64_t first) {
        { t.dim() } -> std::convertible_to<index_t>;
        t.sample(s, out, first);
    };

}  // namespace hosm::train
