// hosm/samplers/walk_jump.hpp — walk-jump sampling of a (sigma, M) M-density
// (seed 003, Sec. 2 "Walk-Jump Sampling" and Sec. 5).
//
// Model. Multimeasurement noise (sigma, M): y = (y_1, ..., y_M) in R^{M D},
// y_m = x + sigma eps_m (noise/multimeasurement.hpp); p(y) is the M-density and
// g(y) = grad log p(y), g = (g_1, ..., g_M), its score (targets/m_density.hpp
// gives it exactly for Gaussians and Gaussian mixtures; a GPS model gives it
// learned).
//
// Walk: underdamped Langevin on p(y) in R^{M D} with the scheme of Sachs et al.
// (samplers/sachs.hpp). Jump: the Bayes estimator x_hat(y) = E[X | Y = y].
//
// Jump formula. Seed 003 Eq. 2: x_hat(y) = y_m + sigma^2 g_m(y) for every
// measurement index m. hosm averages Eq. 2 over m, which is permutation
// invariant and, for an approximate score, averages out the index dependence:
//
//     x_hat(y) = ybar + (sigma^2 / M) sum_{m=1}^M g_m(y),   ybar = M^{-1} sum_m y_m.
//
// For the exact score (and any GPS score, Eq. 6-8: sigma^2 g_m = (ybar - y_m)
// - sigma_eff^2 nu(ybar)) the sum gives sum_m sigma^2 g_m = -M sigma_eff^2 nu(ybar),
// so x_hat(y) = ybar - sigma_eff^2 nu(ybar) (Eq. 7 / Eq. 10) with
// sigma_eff = sigma / sqrt(M): x_hat depends on y only through ybar, whence
// Corollary 1 (the law of x_hat(Y) is the same for every (sigma, M) of the
// universality class [sigma_eff]).
//
// Defaults (seed 003, Sec. 5 / Fig. 3): step delta = sigma / 2, effective
// friction gamma_eff = gamma delta = 1, unit inverse mass.
// Initial state (Saremi & Srivastava 2022): y_m = x0 + sigma eps_m for a
// user-chosen x0 (e.g. uniform noise), v = 0.
//
// API (T float or double; B a back end; Src a concepts::ScoreSource on M D-dim
// inputs, e.g. targets::m_density<Tg>):
//   samplers::walk_jump<T, B> wj(noise::multimeasurement<T>{sigma, M}, walker);
//       walker: samplers::sachs<T, B>
//   samplers::walk_jump<T, B> wj(noise::multimeasurement<T>{sigma, M}, stream);
//       the seed-003 defaults above, noise from `stream`
//   wj.noise(), wj.walker()
//   wj.initial_state(s, x0, first) -> underdamped_state<T, B>
//       x0 D x N (batch_view in B's memory, or a host hosm::matrix<T>);
//       y_m = x0 + sigma eps_m with eps from noise::multimeasurement::perturb(s, ..,
//       first); v = 0; step = 0
//   wj.walk(src, state, n)       n Sachs steps on y = state.x ((M D) x N)
//   wj.jump(src, y, x)           x (D x N) = x_hat(y), y (M D) x N, both in B's memory
//   wj.jump(src, Y) -> D x N     host convenience
//   wj.sample(src, state, n, x)  walk n steps, then x = x_hat(state.x)
//
// Errors (hosm::error): those of noise::multimeasurement (sigma <= 0, M < 1) and
// of samplers::sachs; a state or y whose dimension is not M D with D = x's
// dimension, or is not src.dim(); counts that differ; non-finite y or score.
#pragma once
#include <cstdint>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/concepts/score_source.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/noise/detail/batch_checks.hpp>
#include <hosm/noise/multimeasurement.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/samplers/detail/underdamped_checks.hpp>
#include <hosm/samplers/detail/underdamped_state.hpp>
#include <hosm/samplers/sachs.hpp>

namespace hosm::samplers {

namespace detail {

/// x(:, j) = ybar + (sigma^2 / M) sum_m g_m, per chain.
template <class T>
struct walk_jump_estimate_fn {
    batch_view<const T> y, g;
    batch_view<T> x;
    index_t M;
    T s2;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const T* yc = y.col(j);
        const T* gc = g.col(j);
        T* xc = x.col(j);
        const index_t D = x.dim;
        const T invM = T(1) / static_cast<T>(M);
        for (index_t i = 0; i < D; ++i) {
            T sy = T(0), sg = T(0);
            for (index_t m = 0; m < M; ++m) {
                sy += yc[m * D + i];
                sg += gc[m * D + i];
            }
            xc[i] = invM * (sy + s2 * sg);
        }
    }
};

}  // namespace detail

template <class T, concepts::Backend B = backend::cpp>
class walk_jump {
public:
    static constexpr const char* name = "samplers::walk_jump";
    using value_type = T;
    using backend_type = B;

    walk_jump(const noise::multimeasurement<T>& mm, const sachs<T, B>& walker)
        : mm_(mm), walker_(walker) {}

    /// Seed-003 defaults: delta = sigma / 2, gamma_eff = 1, inverse mass 1.
    walk_jump(const noise::multimeasurement<T>& mm, const random::stream& s)
        : mm_(mm), walker_(mm.sigma() / T(2), T(1), s) {}

    const noise::multimeasurement<T>& noise() const { return mm_; }
    const sachs<T, B>& walker() const { return walker_; }

    /// y_m = x0 + sigma eps_m, v = 0, step = 0; x0 D x N in B's memory.
    underdamped_state<T, B> initial_state(const random::stream& s, batch_view<const T> x0,
                                          std::uint64_t first = 0) const {
        constexpr const char* where = "samplers::walk_jump::initial_state";
        hosm::detail::check_at_least(where, "x0.dim", x0.dim, 1);
        const index_t M = mm_.measurements();
        underdamped_state<T, B> st(M * x0.dim, x0.count);
        if (x0.count == 0) return st;
        batch<T, B> eps(M * x0.dim, x0.count);
        mm_.template perturb<B>(s, x0, st.x.view(), eps.view(), first);
        return st;
    }
    underdamped_state<T, B> initial_state(const random::stream& s, const matrix<T>& x0,
                                          std::uint64_t first = 0) const {
        hosm::detail::check_at_least("samplers::walk_jump::initial_state", "x0.rows()",
                                     static_cast<index_t>(x0.rows()), 1);
        const batch<T, B> xb(x0);
        return initial_state(s, xb.view(), first);
    }

    template <class Src>
    void walk(const Src& src, underdamped_state<T, B>& st, index_t n) const {
        static_assert(concepts::ScoreSource<Src, T, B>,
                      "hosm: Src does not model ScoreSource: needs dim() and "
                      "score(batch_view<const T>, batch_view<T>)");
        constexpr const char* where = "samplers::walk_jump::walk";
        check_m_dim(where, "state", st.dim());
        walker_.run_impl(src, st, n, where);
    }

    /// x = ybar + (sigma^2 / M) sum_m g_m(y).
    template <class Src>
    void jump(const Src& src, batch_view<const T> y, batch_view<T> x) const {
        static_assert(concepts::ScoreSource<Src, T, B>,
                      "hosm: Src does not model ScoreSource: needs dim() and "
                      "score(batch_view<const T>, batch_view<T>)");
        constexpr const char* where = "samplers::walk_jump::jump";
        const index_t M = mm_.measurements();
        hosm::detail::check_at_least(where, "x.dim", x.dim, 1);
        noise::detail::check_shape(where, "y", y, M * x.dim, x.count);
        if (static_cast<index_t>(src.dim()) != y.dim)
            hosm::detail::fail(where, "dimension mismatch: argument 'y' has ", y.dim,
                               " rows, the score source has dimension ", src.dim());
        if (x.count == 0) return;
        detail::check_chains_finite<B>(where, "y", y);
        batch<T, B> g(y.dim, y.count);
        src.score(y, g.view());
        detail::check_chains_finite<B>(where, "score", batch_view<const T>(g.view()));
        backend::for_each_index<B>(
            x.count, detail::walk_jump_estimate_fn<T>{y, batch_view<const T>(g.view()), x, M,
                                                      mm_.variance()});
    }

    template <class Src>
    matrix<T> jump(const Src& src, const matrix<T>& y) const {
        const index_t M = mm_.measurements();
        if (y.rows() % M != 0 || y.rows() == 0)
            hosm::detail::fail("samplers::walk_jump::jump", "dimension mismatch: argument 'y' has ",
                               y.rows(), " rows, not a positive multiple of M = ", M);
        const batch<T, B> yb(y);
        batch<T, B> x(static_cast<index_t>(y.rows()) / M, static_cast<index_t>(y.cols()));
        jump(src, yb.view(), x.view());
        return x.to_eigen();
    }

    /// walk(src, st, n), then x = x_hat(st.x).
    template <class Src>
    void sample(const Src& src, underdamped_state<T, B>& st, index_t n, batch_view<T> x) const {
        walk(src, st, n);
        jump(src, st.x.view(), x);
    }

private:
    void check_m_dim(const char* where, const char* what, index_t dim) const {
        const index_t M = mm_.measurements();
        if (dim % M != 0)
            hosm::detail::fail(where, "dimension mismatch: the ", what, " has dimension ", dim,
                               ", not a multiple of M = ", M, " (it must be M D)");
    }

    noise::multimeasurement<T> mm_;
    sachs<T, B> walker_;
};

}  // namespace hosm::samplers
