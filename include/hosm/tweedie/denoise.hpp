// hosm/tweedie/denoise.hpp — denoising with uncertainty: the posterior mean and
// the structured posterior covariance of a clean x given its noisy
// observation x~ = x + sigma z, z ~ N(0, I), computed from the scores of the
// noisy density q_sigma = p * N(0, sigma^2 I) (seed 000 Sec. 5):
//
//   mean       E[x | x~]   = x~ + sigma^2 s1(x~)                 (Eq. 4, Tweedie)
//   covariance Cov[x | x~] = sigma^4 s2(x~) + sigma^2 I           (Eq. 18)
//
// where s1 = grad log q_sigma and s2 = Hess log q_sigma at x~. The seed uses
// the pair as a Gaussian approximation N(mean, covariance) of p(x | x~).
// The arithmetic is hosm/tweedie/posterior.hpp; this header obtains the
// scores from a source and applies both formulas in place, so a call is one
// score evaluation and two element-wise passes.
//
// Where the scores come from (both must be the scores of q_sigma for the
// SAME sigma that is passed here — the formulas are wrong otherwise):
//   * a HessianSource (concepts/score_source.hpp: src.dim(), src.score(x, out),
//     src.hessian(x, H), all const), e.g. an analytic target's smoothed
//     version: denoise<hessian::full>(p.smoothed(sigma), x_tilde, sigma).
//     Passing p itself gives the sigma -> 0 approximation of Eq. (4)/(18),
//     not the posterior.
//   * a trained ScoreModel (concepts/score_model.hpp, e.g. models::mlp_score)
//     trained at this sigma: one model.forward(x~, s1, s2) gives both heads.
//     The covariance has the model's s2 structure.
// Structure S of the covariance (hessian::full, diagonal, low_rank<R>): full
// gives the D x D covariance, diagonal the marginal posterior variances,
// low_rank diag(sigma^4 alpha + sigma^2) + (sigma^2 B)(sigma^2 B)^T. A learned
// s2 need not make the covariance positive semi-definite; nothing is
// projected (check it before drawing ellipses or sampling from it).
//
// API (T float or double; B a back end; batches in B's memory, one column per
// sample):
//   template <class S, class T, class B> struct denoised {
//       batch<T, B> mean;                      D x N
//       hessian::batch<S, T, B> covariance;    N structured D x D
//   };
//   denoise(src, x_tilde, sigma, mean, cov)       into caller's batches (S from cov)
//   denoise<S>(src, x_tilde, sigma) -> denoised<S, T, B>
//   denoise(model, x_tilde, sigma, mean, cov)     cov of the model's structure
//   denoise(model, x_tilde, sigma) -> denoised<typename M::structure, T, B>
// (model overloads take M& because forward() caches for backward; a type that
// is both a ScoreModel and a HessianSource is used as a model.) For
// low_rank<dynamic> the returning source overload takes the rank from
// src.low_rank_rank().
//
// Errors (hosm::error naming the function, the argument and its value):
// sigma not finite or <= 0; x_tilde with no samples, a dimension other than
// src.dim() / model.dim(), or a non-finite entry (its sample and dimension);
// mean / cov of another dimension, count (or rank); a low_rank<dynamic>
// source without low_rank_rank(); a score source or model that returns a
// non-finite s1 or s2 (named with the sample on host back ends) — a NaN mean
// or covariance is never returned silently.
#pragma once
#include <type_traits>
#include <utility>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/concepts/score_model.hpp>
#include <hosm/concepts/score_source.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/tweedie/posterior.hpp>

namespace hosm::tweedie {

/// Posterior mean (D x N) and structured posterior covariance of N noisy points.
template <class S, class T, concepts::Backend B = backend::cpp>
struct denoised {
    batch<T, B> mean;
    hessian::batch<S, T, B> covariance;
};

namespace detail {

template <class T>
struct nonfinite_count_fn {
    const T* p;
    HOSM_HOST_DEVICE index_t operator()(index_t k) const {
        const T v = p[k];
        return (v - v == T(0)) ? 0 : 1;
    }
};

/// Throws if any of the n numbers at p (B's memory) is NaN or infinite; on
/// host back ends names the sample (stride per sample) and the value.
template <concepts::Backend B, class T>
void check_finite_in(const char* where, const char* what, const T* p, index_t n, index_t stride) {
    if (n <= 0) return;
    if constexpr (B::host_memory) {
        for (index_t k = 0; k < n; ++k) {
            const T v = p[k];
            if (!(v - v == T(0)))
                hosm::detail::fail(where, what, " has a non-finite entry ", v, " in sample ",
                                   k / stride, ", entry ", k % stride);
        }
    } else {
        const index_t bad = backend::transform_reduce_index<B>(n, nonfinite_count_fn<T>{p}, index_t(0));
        if (bad > 0) hosm::detail::fail(where, what, " has ", bad, " non-finite entries");
    }
}

/// The numbers of a structured batch: one array (full, diagonal) or two (low rank).
template <concepts::Backend B, class S, class T>
void check_hessian_finite(const char* where, const char* what, const hessian::batch<S, T, B>& H) {
    const index_t D = H.dim(), N = H.count();
    if constexpr (std::is_same_v<S, hessian::full>) {
        check_finite_in<B>(where, what, H.data(), D * D * N, D * D);
    } else if constexpr (std::is_same_v<S, hessian::diagonal>) {
        check_finite_in<B>(where, what, H.data(), D * N, D);
    } else {
        check_finite_in<B>(where, what, H.alpha_data(), D * N, D);
        check_finite_in<B>(where, what, H.B_data(), D * H.rank() * N, D * H.rank());
    }
}

template <class S, class T, class B>
void check_inputs(const char* where, index_t src_dim, const batch<T, B>& x_tilde, T sigma,
                  const batch<T, B>& mean, const hessian::batch<S, T, B>& cov) {
    hosm::detail::check_positive(where, "sigma", sigma);
    hosm::detail::check_at_least(where, "x_tilde (count)", x_tilde.count(), 1);
    if (x_tilde.dim() != src_dim)
        hosm::detail::fail(where, "dimension mismatch: argument 'x_tilde' has dimension ",
                           x_tilde.dim(), " but the score source has dimension ", src_dim);
    hosm::detail::check_size(where, "mean (dim)", mean.dim(), x_tilde.dim());
    hosm::detail::check_size(where, "mean (count)", mean.count(), x_tilde.count());
    hosm::detail::check_size(where, "cov (dim)", cov.dim(), x_tilde.dim());
    hosm::detail::check_size(where, "cov (count)", cov.count(), x_tilde.count());
    check_finite_in<B>(where, "argument 'x_tilde'", x_tilde.view().data, x_tilde.view().size(),
                       x_tilde.dim());
}

/// mean <- x~ + sigma^2 mean (mean holds s1), cov <- sigma^4 cov + sigma^2 I (cov holds s2).
template <class S, class T, class B>
void finish(const char* where, const batch<T, B>& x_tilde, T sigma, batch<T, B>& mean,
            hessian::batch<S, T, B>& cov) {
    check_finite_in<B>(where, "the score s1 returned by the source", std::as_const(mean).view().data,
                       mean.view().size(), mean.dim());
    check_hessian_finite<B>(where, "the Hessian s2 returned by the source", cov);
    posterior_mean<B, T>(x_tilde.view(), std::as_const(mean).view(), sigma, mean.view());
    posterior_covariance(cov, sigma, cov);
}

template <class S, class T, class B, class Src>
hessian::batch<S, T, B> make_cov(const Src& src, index_t D, index_t N) {
    if constexpr (hessian::is_low_rank_v<S>) {
        if constexpr (S::rank == hosm::dynamic) {
            if constexpr (requires { src.low_rank_rank(); }) {
                return hessian::batch<S, T, B>(D, N, static_cast<index_t>(src.low_rank_rank()));
            } else {
                hosm::detail::fail("tweedie::denoise",
                                   "hessian::low_rank<dynamic> needs a rank: the score source has "
                                   "no low_rank_rank(); pass a covariance batch instead");
            }
        } else {
            return hessian::batch<S, T, B>(D, N);
        }
    } else {
        return hessian::batch<S, T, B>(D, N);
    }
}

}  // namespace detail

/// Posterior mean and covariance (structure of cov) of every column of x_tilde,
/// from the scores of q_sigma given by an analytic / const score source.
template <class Src, class S, class T, concepts::Backend B>
    requires(concepts::HessianSource<Src, T, B, S> && !concepts::ScoreModel<Src>)
void denoise(const Src& src, const batch<T, B>& x_tilde, std::type_identity_t<T> sigma,
             batch<T, B>& mean, hessian::batch<S, T, B>& cov) {
    constexpr const char* where = "tweedie::denoise";
    detail::check_inputs(where, static_cast<index_t>(src.dim()), x_tilde, T(sigma), mean, cov);
    src.score(x_tilde.view(), mean.view());
    src.hessian(x_tilde.view(), cov);
    detail::finish(where, x_tilde, T(sigma), mean, cov);
}

/// The same, returning new batches: denoise<hessian::full>(q_sigma, x_tilde, sigma).
template <class S, class Src, class T, concepts::Backend B>
    requires(concepts::HessianSource<Src, T, B, S> && !concepts::ScoreModel<Src>)
denoised<S, T, B> denoise(const Src& src, const batch<T, B>& x_tilde,
                          std::type_identity_t<T> sigma) {
    hosm::detail::check_at_least("tweedie::denoise", "x_tilde (count)", x_tilde.count(), 1);
    denoised<S, T, B> out{batch<T, B>(x_tilde.dim(), x_tilde.count()),
                          detail::make_cov<S, T, B>(src, x_tilde.dim(), x_tilde.count())};
    denoise(src, x_tilde, sigma, out.mean, out.covariance);
    return out;
}

/// Posterior mean and covariance from a trained score model (one forward pass).
template <class M>
    requires concepts::ScoreModel<M>
void denoise(M& model, const batch<typename M::value_type, typename M::backend_type>& x_tilde,
             std::type_identity_t<typename M::value_type> sigma,
             batch<typename M::value_type, typename M::backend_type>& mean,
             hessian::batch<typename M::structure, typename M::value_type,
                            typename M::backend_type>& cov) {
    using T = typename M::value_type;
    constexpr const char* where = "tweedie::denoise";
    detail::check_inputs(where, static_cast<index_t>(model.dim()), x_tilde, T(sigma), mean, cov);
    model.forward(x_tilde.view(), mean.view(), cov);
    detail::finish(where, x_tilde, T(sigma), mean, cov);
}

/// The same, returning new batches shaped by model.make_s2 when it exists.
template <class M>
    requires concepts::ScoreModel<M>
denoised<typename M::structure, typename M::value_type, typename M::backend_type> denoise(
    M& model, const batch<typename M::value_type, typename M::backend_type>& x_tilde,
    std::type_identity_t<typename M::value_type> sigma) {
    using T = typename M::value_type;
    using B = typename M::backend_type;
    using S = typename M::structure;
    hosm::detail::check_at_least("tweedie::denoise", "x_tilde (count)", x_tilde.count(), 1);
    auto cov = [&] {
        if constexpr (requires { model.make_s2(x_tilde.count()); })
            return hessian::batch<S, T, B>(model.make_s2(x_tilde.count()));
        else
            return detail::make_cov<S, T, B>(model, x_tilde.dim(), x_tilde.count());
    }();
    denoised<S, T, B> out{batch<T, B>(x_tilde.dim(), x_tilde.count()), std::move(cov)};
    denoise(model, x_tilde, sigma, out.mean, out.covariance);
    return out;
}

}  // namespace hosm::tweedie
