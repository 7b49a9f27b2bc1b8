// hosm/samplers/baoab.hpp — underdamped Langevin dynamics integrated with the
// BAOAB splitting of Leimkuhler and Matthews (2013).
//
// Dynamics (unit mass, unit temperature), with s1 = grad log p the score:
//
//     dx = v dt,    dv = s1(x) dt - gamma v dt + sqrt(2 gamma) dW,
//
// whose invariant law is p(x) N(v; 0, I). One step of size h splits it into
//   B: v <- v + (h/2) s1(x)                       (half kick)
//   A: x <- x + (h/2) v                           (half drift)
//   O: v <- c v + sqrt(1 - c^2) xi,  c = exp(-gamma h),  xi ~ N(0, I)
//                                                 (exact Ornstein-Uhlenbeck solve)
//   A: x <- x + (h/2) v
//   B: v <- v + (h/2) s1(x)
// One score evaluation per step: the last B's score is reused by the next
// step's first B (within one run(); run() evaluates s1 once at its start).
//
// Accuracy: BAOAB's configurational averages have an O(h^2) bias in general
// and, for a Gaussian target p = N(mu, Sigma) (linear score), none at all: the
// stationary law of x is exactly N(mu, Sigma) for every stable h
// (h^2 lambda_max(Sigma^{-1}) < 4), while that of v is N(0, I - h^2 Sigma^{-1}/4)
// (Leimkuhler & Matthews 2013; checked in tests/samplers/baoab.test.cpp from
// the exact stationary covariance of the linear recursion).
//
// Noise: xi of chain j in the state's step k is draw i (coordinate) of sample
// index (k << 32) | j of the random::stream given at construction
// (detail::noise_index), so chains do not depend on the back end, the thread
// count, or how a run is split into calls.
//
// API (T float or double; B a back end; Src a concepts::ScoreSource on D-dim
// inputs, e.g. any hosm::targets target or a model adapter):
//   samplers::baoab<T, B> s(step, friction, random::stream{seed, id});
//   s.step(), s.friction(), s.stream()
//   s.run(src, state, n)      n steps on every chain of state
//                             (samplers::underdamped_state<T, B>, x and v D x N;
//                             state.step advances by n)
//
// Errors (hosm::error): step <= 0 or friction <= 0 (or non-finite); a state whose
// x and v differ in shape or whose dimension is not src.dim(); n < 0; more than
// 2^32 chains or steps; a non-finite position, velocity or score, reported with
// its chain, coordinate and step ("non-finite position in chain 3 (coordinate 0
// = inf) at step 7 ...").
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

/// B A O A of one step on entry e (coordinate i of chain j), xi its normal.
template <class T>
struct baoab_kick_drift_fn {
    T* x;
    T* v;
    const T* g;
    T half_h, c, noise_scale;
    HOSM_HOST_DEVICE void operator()(index_t e, T xi) const {
        T ve = v[e] + half_h * g[e];     // B
        T xe = x[e] + half_h * ve;       // A
        ve = c * ve + noise_scale * xi;  // O
        x[e] = xe + half_h * ve;         // A
        v[e] = ve;
    }
};

}  // namespace detail

template <class T, concepts::Backend B = backend::cpp>
class baoab {
public:
    static constexpr const char* name = "samplers::baoab";
    using value_type = T;
    using backend_type = B;

    baoab(T step, T friction, const random::stream& s) : h_(step), gamma_(friction), s_(s) {
        hosm::detail::check_positive("samplers::baoab", "step", step);
        hosm::detail::check_positive("samplers::baoab", "friction", friction);
    }

    T step() const { return h_; }
    T friction() const { return gamma_; }
    const random::stream& stream() const { return s_; }

    template <class Src>
    void run(const Src& src, underdamped_state<T, B>& st, index_t n) const {
        static_assert(concepts::ScoreSource<Src, T, B>,
                      "hosm: Src does not model ScoreSource: needs dim() and "
                      "score(batch_view<const T>, batch_view<T>)");
        constexpr const char* where = "samplers::baoab::run";
        const batch_view<const T> x = st.x.view(), v = st.v.view();
        detail::check_state_shapes(where, x, v, static_cast<index_t>(src.dim()));
        detail::check_run_budget(where, x.count, st.step, n);
        if (n == 0 || x.count == 0) {
            st.step += static_cast<std::uint64_t>(n);
            return;
        }
        detail::check_chains_finite<B>(where, "position", x, st.step, true);
        detail::check_chains_finite<B>(where, "velocity", v, st.step, true);

        const index_t D = x.dim, size = x.size();
        batch<T, B> g(D, x.count);
        src.score(x, g.view());
        detail::check_chains_finite<B>(where, "score", batch_view<const T>(g.view()), st.step,
                                       true);

        const T half_h = h_ / T(2);
        const T c = std::exp(-gamma_ * h_);
        const T noise_scale = std::sqrt(-std::expm1(T(-2) * gamma_ * h_));  // sqrt(1 - c^2)
        for (index_t k = 0; k < n; ++k) {
            detail::for_each_noise<T, B>(
                s_, st.step, D, x.count,
                detail::baoab_kick_drift_fn<T>{st.x.view().data, st.v.view().data, g.view().data,
                                               half_h, c, noise_scale});
            detail::check_chains_finite<B>(where, "position", x, st.step);
            src.score(x, g.view());
            detail::check_chains_finite<B>(where, "score", batch_view<const T>(g.view()), st.step);
            backend::for_each_index<B>(size, detail::axpby_fn<T>{st.v.view().data, g.view().data,
                                                                 st.v.view().data, T(1), half_h});
            detail::check_chains_finite<B>(where, "velocity", v, st.step);
            ++st.step;
        }
    }

private:
    T h_, gamma_;
    random::stream s_;
};

}  // namespace hosm::samplers
