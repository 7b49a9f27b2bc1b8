// hosm/samplers/detail/reverse_sde_exact_score.hpp — the exact time-t score
// grad log q_t of an analytic target under a forward SDE (samplers::ve_sde,
// samplers::vp_sde), as a time-indexed score source for samplers::reverse_sde.
//
// Maths. Both forward processes give X_t = a_t X_0 + s_t eps, X_0 ~ p, so
//
//     q_t(x) = int p(x0) N(x; a_t x0, s_t^2 I) dx0 = a_t^{-D} p_{s_t / a_t}(x / a_t),
//
// with p_sigma = p * N(0, sigma^2 I) the smoothed target (Tg::smoothed), hence
//
//     grad log q_t(x) = (1 / a_t) grad log p_{s_t / a_t}(x / a_t)
//
// (at t = 0, s_0 = 0 and a_0 = 1: the target's own score). For a Gaussian
// N(mu, Sigma) this is the score of N(a mu, a^2 Sigma + s^2 I); for a Gaussian
// mixture that of sum_k w_k N(a mu_k, a^2 Sigma_k + s^2 I).
//
// API (Tg: a target with value_type, backend_type, dim(), batched
// score(x, out) and smoothed(sigma) -> Tg, e.g. targets::gaussian,
// targets::gaussian_mixture; P: samplers::ve_sde / vp_sde or any type with
// horizon(), mean_scale(t), noise_std(t))
//   samplers::exact_time_score<Tg, P> src(target, process);
//   src.dim(), src.target(), src.process()
//   src.score(x, out, t)          out = grad log q_t(x), x and out D x N in Tg's
//                                 back end's memory, t in [0, horizon]
//   src.score(X, t) -> D x N      host convenience
// Each call builds Tg::smoothed(s_t / a_t) on the host (a Cholesky per
// component), so it suits tests and small targets.
//
// Errors (hosm::error): t outside [0, horizon] or non-finite; shapes; those of
// Tg::score (non-finite x).
#pragma once
#include <cmath>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/noise/detail/batch_checks.hpp>
#include <hosm/samplers/detail/underdamped_checks.hpp>

namespace hosm::samplers {

template <class Tg, class P>
class exact_time_score {
public:
    using target_type = Tg;
    using process_type = P;
    using value_type = typename Tg::value_type;
    using backend_type = typename Tg::backend_type;
    using T = value_type;
    using B = backend_type;

    exact_time_score(const Tg& target, const P& process) : target_(target), process_(process) {}

    index_t dim() const { return target_.dim(); }
    const Tg& target() const { return target_; }
    const P& process() const { return process_; }

    void score(batch_view<const T> x, batch_view<T> out, T t) const {
        constexpr const char* where = "samplers::exact_time_score::score";
        hosm::detail::check_finite(where, "t", t);
        if (t < T(0) || t > process_.horizon())
            hosm::detail::fail(where, "argument 't' = ", t, " is outside [0, ", process_.horizon(),
                               "]");
        noise::detail::check_shape(where, "x", x, dim(), x.count);
        noise::detail::check_shape(where, "out", out, dim(), x.count);
        const T a = process_.mean_scale(t), s = process_.noise_std(t);
        batch_view<const T> xs = x;
        batch<T, B> scaled;
        if (a != T(1)) {
            scaled = batch<T, B>(x.dim, x.count);
            backend::for_each_index<B>(x.size(),
                                       detail::scale_fn<T>{x.data, scaled.view().data, T(1) / a});
            xs = scaled.view();
        }
        if (s > T(0))
            target_.smoothed(s / a).score(xs, out);
        else
            target_.score(xs, out);
        if (a != T(1))
            backend::for_each_index<B>(out.size(),
                                       detail::scale_fn<T>{out.data, out.data, T(1) / a});
    }

    matrix<T> score(const matrix<T>& x, T t) const {
        if (x.rows() != dim())
            hosm::detail::fail("samplers::exact_time_score::score",
                               "dimension mismatch: argument 'x' has ", x.rows(),
                               " rows, expected ", dim());
        const batch<T, B> xb(x);
        batch<T, B> out(dim(), static_cast<index_t>(x.cols()));
        score(xb.view(), out.view(), t);
        return out.to_eigen();
    }

private:
    Tg target_;
    P process_;
};

}  // namespace hosm::samplers
