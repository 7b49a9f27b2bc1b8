// hosm/samplers/sachs.hpp — the underdamped Langevin scheme of Sachs,
// Leimkuhler and Danos (2017) that seed 003 (Sec. 5) uses for the "walk" of
// walk-jump sampling.
//
// Dynamics, with inverse mass u and friction gamma, s1 = grad log p:
//
//     dy = v dt,    dv = u s1(y) dt - gamma v dt + sqrt(2 gamma u) dW,
//
// invariant law p(y) N(v; 0, u I). One step of size delta (seed 003: "in the
// algorithm by Sachs et al. (2017) the friction parameter gamma only shows up in
// the form gamma_eff = gamma delta", the effective friction, which is therefore
// this class's parameter):
//
//     y <- y + (delta/2) v
//     g <- s1(y)                                       (one score per step)
//     v <- v + (u delta/2) g
//     v <- exp(-gamma_eff) v + (u delta/2) g + sqrt(u (1 - exp(-2 gamma_eff))) xi,
//                                                      xi ~ N(0, I)
//     y <- y + (delta/2) v
//
// i.e. the symmetric splitting A B O B A (half drift, half kick, exact
// Ornstein-Uhlenbeck solve over delta, half kick, half drift). This is the
// listing of Saremi & Srivastava (2022, Algorithm 1) that seed 003 builds on;
// seed 003 itself gives only the gamma_eff = gamma delta form and the settings
// delta = sigma/2, gamma_eff = 1 (Fig. 3). For a Gaussian target (linear score)
// the stationary law of y is exact for every stable delta
// (u delta^2 lambda_max(Sigma^{-1}) < 4) and that of v is
// N(0, u (I - u delta^2 Sigma^{-1}/4)^{-1}) (tests/samplers/sachs.test.cpp checks
// both from the exact stationary covariance of the linear recursion); for other
// targets the bias is O(delta^2).
//
// Noise: xi of chain j in the state's step k is draw i (coordinate) of sample
// index (k << 32) | j of the random::stream given at construction.
//
// API (T float or double; B a back end; Src a concepts::ScoreSource)
//   samplers::sachs<T, B> s(step, effective_friction, random::stream{seed, id},
//                           inverse_mass = 1);
//   samplers::sachs<T, B>::with_friction(step, gamma, stream, inverse_mass = 1)
//                             the same with gamma_eff = gamma * step
//   s.step(), s.effective_friction(), s.friction() (gamma_eff / step),
//   s.inverse_mass(), s.stream()
//   s.run(src, state, n)      n steps on every chain of state
//                             (samplers::underdamped_state<T, B>: y is state.x,
//                             v is state.v, D x N; state.step advances by n)
//
// Errors (hosm::error): step, effective_friction (or gamma) or inverse_mass
// <= 0 or non-finite; state shapes (x and v equal, dimension src.dim()); n < 0;
// more than 2^32 chains or steps; a non-finite position, velocity or score,
// reported with its chain, coordinate and step.
// On such an error state.step is the index of the failed step and state.x /
// state.v hold that step's partial values (chains are not rolled back).
#pragma once
#include <cmath>
#include <cstdint>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/concepts/score_source.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/samplers/detail/underdamped_checks.hpp>
#include <hosm/samplers/detail/underdamped_state.hpp>

namespace hosm::samplers {

namespace detail {

/// B O B A of one step on entry e (coordinate i of chain j), xi its normal.
template <class T>
struct sachs_kick_drift_fn {
    T* y;
    T* v;
    const T* g;
    T half_delta, half_u_delta, c, noise_scale;
    HOSM_HOST_DEVICE void operator()(index_t e, T xi) const {
        const T kick = half_u_delta * g[e];
        const T ve = c * (v[e] + kick) + kick + noise_scale * xi;
        v[e] = ve;
        y[e] += half_delta * ve;
    }
};

}  // namespace detail

template <class T, concepts::Backend B = backend::cpp>
class sachs {
public:
    static constexpr const char* name = "samplers::sachs";
    using value_type = T;
    using backend_type = B;

    sachs(T step, T effective_friction, const random::stream& s, T inverse_mass = T(1))
        : delta_(step), gamma_eff_(effective_friction), u_(inverse_mass), s_(s) {
        hosm::detail::check_positive("samplers::sachs", "step", step);
        hosm::detail::check_positive("samplers::sachs", "effective_friction", effective_friction);
        hosm::detail::check_positive("samplers::sachs", "inverse_mass", inverse_mass);
    }

    /// gamma_eff = gamma * step.
    static sachs with_friction(T step, T gamma, const random::stream& s, T inverse_mass = T(1)) {
        hosm::detail::check_positive("samplers::sachs::with_friction", "step", step);
        hosm::detail::check_positive("samplers::sachs::with_friction", "gamma", gamma);
        return sachs(step, gamma * step, s, inverse_mass);
    }

    T step() const { return delta_; }
    T effective_friction() const { return gamma_eff_; }
    T friction() const { return gamma_eff_ / delta_; }
    T inverse_mass() const { return u_; }
    const random::stream& stream() const { return s_; }

    template <class Src>
    void run(const Src& src, underdamped_state<T, B>& st, index_t n) const {
        run_impl(src, st, n, "samplers::sachs::run");
    }

    /// run() reporting errors as `where` (used by samplers::walk_jump).
    template <class Src>
    void run_impl(const Src& src, underdamped_state<T, B>& st, index_t n, const char* where) const {
        static_assert(concepts::ScoreSource<Src, T, B>,
                      "hosm: Src does not model ScoreSource: needs dim() and "
                      "score(batch_view<const T>, batch_view<T>)");
        const batch_view<const T> y = st.x.view(), v = st.v.view();
        detail::check_state_shapes(where, y, v, static_cast<index_t>(src.dim()));
        detail::check_run_budget(where, y.count, st.step, n);
        if (n == 0 || y.count == 0) {
            st.step += static_cast<std::uint64_t>(n);
            return;
        }
        detail::check_chains_finite<B>(where, "position", y, st.step, true);
        detail::check_chains_finite<B>(where, "velocity", v, st.step, true);

        const index_t D = y.dim, size = y.size();
        batch<T, B> g(D, y.count);
        const T half_delta = delta_ / T(2);
        const T half_u_delta = u_ * delta_ / T(2);
        const T c = std::exp(-gamma_eff_);
        const T noise_scale = std::sqrt(-u_ * std::expm1(T(-2) * gamma_eff_));
        T* yp = st.x.view().data;
        T* vp = st.v.view().data;
        for (index_t k = 0; k < n; ++k) {
            backend::for_each_index<B>(size, detail::axpby_fn<T>{yp, vp, yp, T(1), half_delta});
            detail::check_chains_finite<B>(where, "position", y, st.step);
            src.score(y, g.view());
            detail::check_chains_finite<B>(where, "score", batch_view<const T>(g.view()), st.step);
            detail::for_each_noise<T, B>(
                s_, st.step, D, y.count,
                detail::sachs_kick_drift_fn<T>{yp, vp, g.view().data, half_delta, half_u_delta, c,
                                               noise_scale});
            detail::check_chains_finite<B>(where, "velocity", v, st.step);
            detail::check_chains_finite<B>(where, "position", y, st.step);
            ++st.step;
        }
    }

private:
    T delta_, gamma_eff_, u_;
    random::stream s_;
};

}  // namespace hosm::samplers
