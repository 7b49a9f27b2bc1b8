// hosm/samplers/annealed_langevin.hpp — annealed Langevin dynamics over a
// noise schedule (NCSN; seed 001 Algorithm 1, seed 004 "Annealed Score
// Matching and MALA").
//
// Maths: levels sigma_1 >= sigma_2 >= ... >= sigma_L (hosm indexes them
// i = 0 .. L-1, as noise::schedule does: level 0 is the largest sigma); at
// level i the step size is
//
//     alpha_i = eps * sigma_i^2 / sigma_L^2        (so alpha_{L-1} = eps),
//
// and T = steps_per_level ULA steps (seed 000 Eq. 19) are taken with the
// score of the sigma_i-smoothed density,
//
//     x_t = x_{t-1} + (alpha_i / 2) s1(x_{t-1}; sigma_i) + sqrt(alpha_i) z_t,
//
// the last state of a level starting the next. L * T steps in all; step k
// (k = 0 .. L*T - 1, counted by this sampler since construction or reset())
// is at level k / T. Noise: z_t of chain j is stream.normal(key(t, j), k) with
// t = chains.step() and key = (t << 32) | (first_index + j) (chains.hpp).
//
// The score source (the "sigma-indexed" interface, concepts/sampler.hpp), either
//   * a LevelScoreSource: src.dim(), src.score(x, out, level) with level the
//     index i above (and optionally src.levels(), checked to equal L) — a
//     noise-conditional score network s_theta(x, sigma_i);
//   * a LevelScoreSourceRange: a container of ordinary ScoreSources, one per
//     level (src.size() == L, src[i] used at level i) — e.g.
//     std::vector<targets::gaussian<T, B>> of target.smoothed(sigma_i), whose
//     scores are the exact s~1 at every level.
//
// API (T float or double, B a back end)
//   samplers::annealed_langevin<T, B> a(eps, noise::schedule<T>{smax, smin, L},
//                                       steps_per_level, random::stream{...});
//   samplers::annealed_langevin<T, B> a(eps, std::vector<T>{sigma_1, ..., sigma_L}, T, s);
//   a.step(src, chains)           the next of the L * T steps
//   samplers::run(a, src, chains, a.total_steps())    the whole schedule
//   a.levels(), a.steps_per_level(), a.total_steps(), a.steps_done(),
//   a.finished(), a.level() (of the next step), a.sigma(i), a.step_size(i)
//   (alpha_i), a.reset() (start the schedule again)
//
// Errors (hosm::error): eps not finite or <= 0; steps_per_level < 1; an empty
// sigma list, a sigma not finite or <= 0, or sigmas that increase
// ("sigmas[i] = ... > sigmas[i-1] = ..."); a level index outside [0, L); a
// range source of size != L or a level source with levels() != L; a step
// after all L * T steps ("the schedule is finished"; reset() to restart);
// src.dim() != chains.dim(); non-finite states (chains.hpp).
#pragma once
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/concepts/sampler.hpp>
#include <hosm/concepts/score_source.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/noise/schedule.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/samplers/chains.hpp>
#include <hosm/samplers/detail/langevin_kernels.hpp>

namespace hosm::samplers {

template <class T, concepts::Backend B = backend::cpp>
class annealed_langevin {
public:
    static constexpr const char* name = "samplers::annealed_langevin";
    using value_type = T;
    using backend_type = B;

    annealed_langevin(T eps, const noise::schedule<T>& sigmas, index_t steps_per_level,
                      random::stream noise)
        : annealed_langevin(eps, to_vector(sigmas), steps_per_level, noise) {}

    annealed_langevin(T eps, std::vector<T> sigmas, index_t steps_per_level, random::stream noise)
        : eps_(eps), sigmas_(std::move(sigmas)), per_level_(steps_per_level), noise_(noise) {
        hosm::detail::check_positive(name, "eps", eps);
        hosm::detail::check_at_least(name, "steps_per_level", steps_per_level, 1);
        hosm::detail::check_at_least(name, "sigmas.size()", static_cast<index_t>(sigmas_.size()), 1);
        for (std::size_t i = 0; i < sigmas_.size(); ++i) {
            if (!(sigmas_[i] > T(0)) || !std::isfinite(static_cast<double>(sigmas_[i])))
                hosm::detail::fail(name, "argument 'sigmas[", i, "]' must be finite and > 0, got ",
                                   sigmas_[i]);
            if (i > 0 && sigmas_[i] > sigmas_[i - 1])
                hosm::detail::fail(name, "argument 'sigmas' must be non-increasing (sigma_1 > ... > "
                                         "sigma_L): sigmas[", i, "] = ", sigmas_[i], " > sigmas[",
                                   i - 1, "] = ", sigmas_[i - 1]);
        }
        const T last = sigmas_.back();
        for (T s : sigmas_) {
            const T r = s / last;
            alphas_.push_back(eps_ * r * r);
        }
        for (std::size_t i = 0; i < alphas_.size(); ++i)
            if (!std::isfinite(static_cast<double>(alphas_[i])))
                hosm::detail::fail(name, "step size alpha_", i, " = eps sigma_i^2 / sigma_L^2 = ",
                                   alphas_[i], " is not finite");
    }

    index_t levels() const { return static_cast<index_t>(sigmas_.size()); }
    index_t steps_per_level() const { return per_level_; }
    index_t total_steps() const { return levels() * per_level_; }
    index_t steps_done() const { return done_; }
    bool finished() const { return done_ >= total_steps(); }
    /// Level of the next step (levels() once finished).
    index_t level() const { return finished() ? levels() : done_ / per_level_; }
    T sigma(index_t i) const { return sigmas_[checked_level(i)]; }
    /// alpha_i = eps sigma_i^2 / sigma_L^2.
    T step_size(index_t i) const { return alphas_[checked_level(i)]; }
    void reset() { done_ = 0; }

    template <class Src>
        requires(concepts::LevelScoreSource<Src, T, B> ||
                 concepts::LevelScoreSourceRange<Src, T, B>)
    void step(const Src& src, chains<T, B>& c) {
        constexpr const char* where = "samplers::annealed_langevin::step";
        if (finished())
            hosm::detail::fail(where, "the schedule is finished: all ", total_steps(),
                               " steps (", levels(), " levels x ", per_level_,
                               ") were taken; call reset() to start again");
        const index_t i = level();
        c.require_finite(where);
        detail::ensure_shape(g_, c.dim(), c.count());
        if constexpr (concepts::LevelScoreSource<Src, T, B>) {
            static_assert(detail::SameMemory<Src, B>,
                          "hosm: samplers::annealed_langevin: the source's back end keeps its data "
                          "in another memory space than the chains'");
            detail::check_source(where, src, c);
            if constexpr (requires { src.levels(); }) {
                if (static_cast<index_t>(src.levels()) != levels())
                    hosm::detail::fail(where, "the level score source has ", src.levels(),
                                       " levels but the schedule has ", levels());
            }
            c.begin_step(where);
            src.score(c.state(), g_.view(), i);
        } else {
            using elem = std::remove_cvref_t<decltype(src[std::size_t(0)])>;
            static_assert(detail::SameMemory<elem, B>,
                          "hosm: samplers::annealed_langevin: the sources' back end keeps its data "
                          "in another memory space than the chains'");
            if (static_cast<index_t>(src.size()) != levels())
                hosm::detail::fail(where, "the range of score sources has ", src.size(),
                                   " entries but the schedule has ", levels(), " levels");
            const auto& s = src[static_cast<std::size_t>(i)];
            detail::check_source(where, s, c);
            c.begin_step(where);
            s.score(c.state(), g_.view());
        }
        const T a = alphas_[static_cast<std::size_t>(i)];
        backend::for_each_index<B>(
            c.count(), detail::ula_fn<T>{c.state(), std::as_const(g_).view(), c.next(), c.status(),
                                         noise_, c.keys(), a / T(2), std::sqrt(a)});
        c.commit(where);
        ++done_;
    }

private:
    static std::vector<T> to_vector(const noise::schedule<T>& s) {
        std::vector<T> v;
        for (index_t i = 0; i < s.size(); ++i) v.push_back(s[i]);
        return v;
    }
    std::size_t checked_level(index_t i) const {
        if (i < 0 || i >= levels())
            hosm::detail::fail(name, "level ", i, " is outside [0, ", levels(), ")");
        return static_cast<std::size_t>(i);
    }

    T eps_;
    std::vector<T> sigmas_, alphas_;
    index_t per_level_;
    random::stream noise_;
    batch<T, B> g_;
    index_t done_ = 0;
};

}  // namespace hosm::samplers
