// hosm/concepts/sampler.hpp — what a sampler and a noise-conditional score
// source must provide.
//
// Sampler<S, Src, T, B>: S advances samplers::chains<T, B> by one step with
// scores from Src:
//   S::name                      a const char* naming it
//   s.step(src, c)               src: const Src&, c: samplers::chains<T, B>&
// Samplers constrain step() on what they need from Src (ScoreSource for
// langevin, DensitySource for mala, HessianSource<..., S> for ozaki<S>,
// LevelScoreSource / LevelScoreSourceRange for annealed_langevin), so
// Sampler<S, Src, T, B> is false when Src lacks it. samplers::run takes any
// Sampler.
//
// LevelScoreSource<Src, T, B>: scores at noise level i of a schedule
// (NCSN, seed 001; level 0 = the largest sigma, as noise::schedule indexes):
//   src.dim()                    D
//   src.score(x, out, level)     out = s1(x; sigma_level), x D x N, level an index_t
//   src.levels()                 optional: number of levels, checked if present
//
// LevelScoreSourceRange<R, T, B>: one ordinary ScoreSource per level, e.g.
// std::vector<targets::gaussian<T, B>> of smoothed(sigma_i) targets:
//   r.size(), r[i]               r[i] a ScoreSource<., T, B>
//
//   static_assert(hosm::concepts::Sampler<S, Src, T, B>,
//                 "hosm: S does not model Sampler for Src: needs S::name and "
//                 "step(src, chains) accepting Src (see hosm/concepts/sampler.hpp)");
#pragma once
#include <concepts>
#include <cstddef>
#include <type_traits>
#include <utility>

#include <hosm/concepts/score_source.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/types.hpp>
#include <hosm/samplers/chains.hpp>

namespace hosm::concepts {

template <class S, class Src, class T, class B>
concept Sampler = requires(S& s, const Src& src, samplers::chains<T, B>& c) {
    { S::name } -> std::convertible_to<const char*>;
    s.step(src, c);
};

template <class Src, class T, class B>
concept LevelScoreSource =
    requires(const Src& s, batch_view<const T> x, batch_view<T> out, index_t level) {
        { s.dim() } -> std::convertible_to<index_t>;
        s.score(x, out, level);
    };

template <class R, class T, class B>
concept LevelScoreSourceRange = requires(const R& r, std::size_t i) {
    { r.size() } -> std::convertible_to<std::size_t>;
    r[i];
} && ScoreSource<std::remove_cvref_t<decltype(std::declval<const R&>()[std::size_t(0)])>, T, B>;

}  // namespace hosm::concepts
