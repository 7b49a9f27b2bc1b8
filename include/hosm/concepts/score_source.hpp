// hosm/concepts/score_source.hpp — what a sampler needs from a score provider.
//
// Samplers take their scores from an analytic target (hosm::targets) or from a
// trained model seen through an adapter. Both present the same batched API on
// back end B, with x a D x N batch of chain states in B's memory:
//
//   src.dim()                                   D
//   src.score(x, out)                           out = s1(x), D x N
//   src.hessian(x, H)                           H = s2(x) in the structure of
//                                               H (hessian::batch<S, T, B>)
//   src.log_density(x, out)                     out = log p(x) + const, 1 x N
//                                               (only MALA-type corrections)
//
//   static_assert(concepts::ScoreSource<Src, float, backend::cpp>,
//                 "hosm: Src does not model ScoreSource: needs dim() and "
//                 "score(batch_view<const T>, batch_view<T>)");
#pragma once
#include <concepts>

#include <hosm/core/batch_view.hpp>
#include <hosm/hessian/batch.hpp>

namespace hosm::concepts {

/// First-order source: s1 on a batch.
template <class Src, class T, class B>
concept ScoreSource = requires(const Src& s, batch_view<const T> x, batch_view<T> out) {
    { s.dim() } -> std::convertible_to<index_t>;
    s.score(x, out);
};

/// Second-order source in structure S: s1 and s2 on a batch.
template <class Src, class T, class B, class S>
concept HessianSource = ScoreSource<Src, T, B> &&
    requires(const Src& s, batch_view<const T> x, hessian::batch<S, T, B>& H) {
        s.hessian(x, H);
    };

/// Source with an (unnormalised) log-density, for Metropolis corrections.
template <class Src, class T, class B>
concept DensitySource = ScoreSource<Src, T, B> &&
    requires(const Src& s, batch_view<const T> x, batch_view<T> out) { s.log_density(x, out); };

}  // namespace hosm::concepts
