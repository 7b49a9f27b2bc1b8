// hosm/samplers/reverse_sde.hpp — sampling by the reverse-time SDE of a VE or
// VP/OU forward diffusion, discretised by the exponential integrator (seed 001).
//
// Maths (seed 001). Forward: dX = f(X, t) dt + g(t) dB, X_0 ~ p, law q_t.
// Reverse (Y_t = X_{T-t}):
//     dY = (g(T-t)^2 grad log q_{T-t}(Y) - f(Y, T-t)) dt + g(T-t) dB.
// With a time grid T = t_0 > t_1 > ... > t_N = t_end (uniform, t_k = T - k (T -
// t_end) / N) and the score frozen at the start of each step, s = s_{t_k}(x),
// the remaining SDE is linear and is solved exactly (exponential integrator):
//
//     x_{k+1} = a x_k + c s_{t_k}(x_k) + sqrt(v) xi_k,     xi_k ~ N(0, I),
//
//   VE (samplers::ve_sde):  a = 1,   c = v = sigma(t_k)^2 - sigma(t_{k+1})^2;
//   VP (samplers::vp_sde, OU: f = -X, g = sqrt 2), h = t_k - t_{k+1}:
//                           a = e^h, c = 2 (e^h - 1), v = e^{2h} - 1.
//
// (The process types and their derivations are in samplers/detail/reverse_sde_ve.hpp
// and reverse_sde_vp.hpp; the step coefficients come from process.step(t, t').)
// The chain starts from the prior N(0, s_T^2 I) (sample_prior) or from any
// x the caller provides. For a Gaussian target with exact scores every step is
// affine in x, so the output is Gaussian with a mean and covariance that tend to
// the target's as N grows and as q_T approaches the prior
// (tests/samplers/reverse_sde.test.cpp checks the exact discrete law and the
// bias against the target).
//
// Time-indexed score source (concept samplers::TimeScoreSource<Src, T, B>):
//   src.dim()                  D
//   src.score(x, out, t)       out = s_t(x) ~ grad log q_t(x) at forward time t,
//                              x and out D x N batch_views in B's memory
// e.g. samplers::exact_time_score<Tg, P> (the exact score of an analytic target
// through the forward process, detail/reverse_sde_exact_score.hpp) or a
// noise-conditional model adapter.
//
// Noise: xi_k of chain j is draw i (coordinate) of sample index (k << 32) | j of
// the random::stream given at construction; the prior's draws use the stream
// {seed, ~id} with sample index first + j (random::fill_normal's numbers).
//
// API (P: ve_sde<T> or vp_sde<T>, or a type with value_type, horizon(),
// prior_std(), step(t, t'); B a back end)
//   samplers::reverse_sde<P, B> r(process, steps, random::stream{seed, id}, t_end = 0);
//   r.process(), r.steps() (N), r.t_end(), r.time(k) (t_k, k = 0..N), r.stream()
//   r.sample_prior(x, first)      x D x N in B's memory, x ~ N(0, s_T^2 I)
//   r.sample_prior(dim, n, first) -> D x n host matrix
//   r.run(src, x)                 in place: x (D x N, in B's memory) is taken at
//                                 forward time T and returned at t_end
//   r.run(src, X) -> D x N        host convenience
//
// Errors (hosm::error): steps < 1; t_end < 0 or >= horizon; x not of src.dim();
// more than 2^32 chains or steps; a non-finite state or score, reported with
// its chain, coordinate and step; those of the process types.
#pragma once
#include <cmath>
#include <concepts>
#include <cstdint>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/noise/detail/batch_checks.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/samplers/detail/reverse_sde_exact_score.hpp>
#include <hosm/samplers/detail/reverse_sde_step.hpp>
#include <hosm/samplers/detail/reverse_sde_ve.hpp>
#include <hosm/samplers/detail/reverse_sde_vp.hpp>
#include <hosm/samplers/detail/underdamped_checks.hpp>

namespace hosm::samplers {

/// A score source indexed by forward time t: dim() and score(x, out, t).
template <class Src, class T, class B>
concept TimeScoreSource = requires(const Src& s, batch_view<const T> x, batch_view<T> out, T t) {
    { s.dim() } -> std::convertible_to<index_t>;
    s.score(x, out, t);
};

namespace detail {

/// x = a x + c g + sqrt_v xi on entry e.
template <class T>
struct reverse_sde_step_fn {
    T* x;
    const T* g;
    T a, c, sqrt_v;
    HOSM_HOST_DEVICE void operator()(index_t e, T xi) const {
        x[e] = a * x[e] + c * g[e] + sqrt_v * xi;
    }
};

}  // namespace detail

template <class P, concepts::Backend B = backend::cpp>
class reverse_sde {
public:
    static constexpr const char* name = "samplers::reverse_sde";
    using process_type = P;
    using value_type = typename P::value_type;
    using backend_type = B;
    using T = value_type;

    reverse_sde(const P& process, index_t steps, const random::stream& s, T t_end = T(0))
        : p_(process), n_(steps), s_(s), t_end_(t_end) {
        constexpr const char* where = "samplers::reverse_sde";
        hosm::detail::check_at_least(where, "steps", steps, 1);
        detail::check_run_budget(where, 0, 0, steps);
        hosm::detail::check_nonnegative(where, "t_end", t_end);
        if (!(t_end < process.horizon()))
            hosm::detail::fail(where, "argument 't_end' = ", t_end,
                               " must be < the horizon T = ", process.horizon());
    }

    const P& process() const { return p_; }
    index_t steps() const { return n_; }
    T t_end() const { return t_end_; }
    const random::stream& stream() const { return s_; }

    /// t_k = T - k (T - t_end) / N; t_0 = T and t_N = t_end exactly.
    T time(index_t k) const {
        if (k < 0 || k > n_)
            hosm::detail::fail("samplers::reverse_sde::time", "index ", k, " is outside [0, ", n_,
                               "]");
        if (k == n_) return t_end_;
        const T T0 = p_.horizon();
        return T0 - static_cast<T>(k) * (T0 - t_end_) / static_cast<T>(n_);
    }

    /// x ~ N(0, s_T^2 I): x = s_T z, z from stream {seed, ~id}, sample index first + j.
    void sample_prior(batch_view<T> x, std::uint64_t first = 0) const {
        constexpr const char* where = "samplers::reverse_sde::sample_prior";
        noise::detail::check_shape(where, "x", x, x.dim, x.count);
        random::fill_normal<B>(random::stream{s_.seed, ~s_.id}, x, first);
        backend::for_each_index<B>(x.size(), detail::scale_fn<T>{x.data, x.data, p_.prior_std()});
    }
    matrix<T> sample_prior(index_t dim, index_t n, std::uint64_t first = 0) const {
        hosm::detail::check_at_least("samplers::reverse_sde::sample_prior", "dim", dim, 1);
        hosm::detail::check_at_least("samplers::reverse_sde::sample_prior", "n", n, 0);
        batch<T, B> x(dim, n);
        sample_prior(x.view(), first);
        return x.to_eigen();
    }

    template <class Src>
    void run(const Src& src, batch_view<T> x) const {
        static_assert(TimeScoreSource<Src, T, B>,
                      "hosm: Src does not model samplers::TimeScoreSource: needs dim() and "
                      "score(batch_view<const T>, batch_view<T>, T t)");
        constexpr const char* where = "samplers::reverse_sde::run";
        if (x.dim != static_cast<index_t>(src.dim()))
            hosm::detail::fail(where, "dimension mismatch: argument 'x' has dimension ", x.dim,
                               ", the score source ", src.dim());
        noise::detail::check_shape(where, "x", x, x.dim, x.count);
        detail::check_run_budget(where, x.count, 0, n_);
        if (x.count == 0) return;
        const batch_view<const T> xc = x;
        detail::check_chains_finite<B>(where, "state", xc, 0, true);
        batch<T, B> g(x.dim, x.count);
        for (index_t k = 0; k < n_; ++k) {
            const T t = time(k), t_next = time(k + 1);
            const reverse_step<T> c = p_.step(t, t_next);
            src.score(xc, g.view(), t);
            detail::check_chains_finite<B>(where, "score", batch_view<const T>(g.view()),
                                           static_cast<std::uint64_t>(k));
            detail::for_each_noise<T, B>(
                s_, static_cast<std::uint64_t>(k), x.dim, x.count,
                detail::reverse_sde_step_fn<T>{x.data, g.view().data, c.a, c.c, std::sqrt(c.v)});
            detail::check_chains_finite<B>(where, "state", xc, static_cast<std::uint64_t>(k));
        }
    }

    template <class Src>
    matrix<T> run(const Src& src, const matrix<T>& x) const {
        if (x.rows() < 1)
            hosm::detail::fail("samplers::reverse_sde::run", "argument 'x' has no rows");
        batch<T, B> xb(x);
        run(src, xb.view());
        return xb.to_eigen();
    }

private:
    P p_;
    index_t n_;
    random::stream s_;
    T t_end_;
};

}  // namespace hosm::samplers
