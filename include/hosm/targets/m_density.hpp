// hosm/targets/m_density.hpp — the Gaussian M-density of a target under the
// multimeasurement noise model (sigma, M), with its exact log density and score.
//
// Maths (seed 003 Eq. 3-7). y = (y_1, ..., y_M), y_m = x + sigma eps_m, x ~ p.
// With ybar = M^{-1} sum_m y_m, sigma_eff = sigma / sqrt(M) and
// q = p * N(0, sigma_eff^2 I) the smoothed target at sigma_eff (Tg::smoothed),
//
//   log p(y) = log q(ybar) - sum_m ||y_m - ybar||^2 / (2 sigma^2)
//              - (M - 1) D/2 log(2 pi sigma^2) - D/2 log M            (Eq. 4)
//
// (the middle term is (||ybar||^2 - mean_m ||y_m||^2) / (2 sigma_eff^2), written
// centred; the constant is C' = log Z(sigma_eff) - M log Z(sigma) with
// Z(s) = (2 pi s^2)^{D/2}), and the score (Eq. 6, nu = -grad log q):
//
//   grad_{y_m} log p(y) = (ybar - y_m) / sigma^2 + grad log q(ybar) / M,
//
// whose Bayes estimator is E[x | y] = ybar + sigma_eff^2 grad log q(ybar) (Eq. 7).
// The M-density is exact whenever q is: Gaussians (then it is the Gaussian
// N(1_M (x) mu, 1_M 1_M^T (x) Sigma + sigma^2 I_{MD}) in M D dimensions) and
// Gaussian mixtures.
//
// Layout: y is (M D) x N, measurement m of sample j in rows m*D .. m*D + D - 1
// (noise/multimeasurement.hpp).
//
// API (Tg: a target with value_type, backend_type, dim(), smoothed(sigma) -> Tg,
// batched log_density / score / sample; e.g. gaussian, gaussian_mixture)
//   targets::m_density<Tg> md(target, noise::multimeasurement<T>{sigma, M});
//   md.dim() (M D), md.base_dim() (D), md.measurements(), md.target(),
//   md.smoothed() (q at sigma_eff), md.noise()
//   batched (B = Tg's back end): md.log_density(y, out 1 x N), md.score(y, out (M D) x N),
//     md.posterior_mean(y, out D x N)  (E[x | y], Eq. 7),
//     md.sample(s, out (M D) x N, first): x ~ p drawn with stream s (target's sample)
//       and the measurement noise from random::stream{s.seed, ~s.id} through
//       noise::multimeasurement::perturb (draw k = m*D + i of index first + j).
//   host: md.log_density(Y) -> 1 x N, md.score(Y) -> (M D) x N,
//     md.posterior_mean(Y) -> D x N, md.sample(s, n, first) -> (M D) x n
//
// Errors (hosm::error): those of noise::multimeasurement and Tg::smoothed;
// shapes ((M D) rows for y) and non-finite input.
#pragma once
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/noise/detail/batch_checks.hpp>
#include <hosm/noise/multimeasurement.hpp>
#include <hosm/random/stream.hpp>

namespace hosm::targets {

namespace detail {

/// out_j = lq_j - sum_m ||y_m - ybar||^2 / (2 sigma^2) + c.
template <class T>
struct m_density_log_fn {
    batch_view<const T> y, ybar;
    T* out;
    index_t M;
    T inv2s2, c;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const T* yc = y.col(j);
        const T* yb = ybar.col(j);
        const index_t D = ybar.dim;
        T ss = T(0);
        for (index_t m = 0; m < M; ++m)
            for (index_t i = 0; i < D; ++i) {
                const T d = yc[m * D + i] - yb[i];
                ss += d * d;
            }
        out[j] += c - ss * inv2s2;
    }
};

/// g_m = (ybar - y_m) / sigma^2 + sq / M.
template <class T>
struct m_density_score_fn {
    batch_view<const T> y, ybar, sq;
    batch_view<T> out;
    index_t M;
    T inv_s2;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const T* yc = y.col(j);
        const T* yb = ybar.col(j);
        const T* s = sq.col(j);
        T* o = out.col(j);
        const index_t D = ybar.dim;
        const T invM = T(1) / static_cast<T>(M);
        for (index_t m = 0; m < M; ++m)
            for (index_t i = 0; i < D; ++i)
                o[m * D + i] = (yb[i] - yc[m * D + i]) * inv_s2 + s[i] * invM;
    }
};

/// out = ybar + sigma_eff^2 sq (in place on sq allowed: out may be sq).
template <class T>
struct m_density_mean_fn {
    const T* ybar;
    const T* sq;
    T* out;
    T s2eff;
    HOSM_HOST_DEVICE void operator()(index_t i) const { out[i] = ybar[i] + s2eff * sq[i]; }
};

}  // namespace detail

template <class Tg>
class m_density {
public:
    using target_type = Tg;
    using value_type = typename Tg::value_type;
    using backend_type = typename Tg::backend_type;
    using T = value_type;
    using B = backend_type;

    m_density(const Tg& target, const noise::multimeasurement<T>& mm)
        : target_(target), q_(target.smoothed(mm.sigma_eff())), mm_(mm) {}

    index_t dim() const { return mm_.measurements() * base_dim(); }
    index_t base_dim() const { return target_.dim(); }
    index_t measurements() const { return mm_.measurements(); }
    const Tg& target() const { return target_; }
    /// q = p * N(0, sigma_eff^2 I).
    const Tg& smoothed() const { return q_; }
    const noise::multimeasurement<T>& noise() const { return mm_; }

    void log_density(batch_view<const T> y, batch_view<T> out) const {
        constexpr const char* where = "targets::m_density::log_density";
        check_y(where, y);
        noise::detail::check_shape(where, "out", out, 1, y.count);
        batch<T, B> ybar(base_dim(), y.count);
        mm_.template mean<B>(y, ybar.view());
        q_.log_density(batch_view<const T>(ybar.view()), out);
        const T s2 = mm_.variance();
        const T D = static_cast<T>(base_dim()), M = static_cast<T>(measurements());
        const T c = -(M - T(1)) * D / T(2) * std::log(T(2) * std::numbers::pi_v<T> * s2) -
                    D / T(2) * std::log(M);
        backend::for_each_index<B>(
            y.count, detail::m_density_log_fn<T>{y, ybar.view(), out.data, measurements(),
                                                 T(1) / (T(2) * s2), c});
    }

    void score(batch_view<const T> y, batch_view<T> out) const {
        constexpr const char* where = "targets::m_density::score";
        check_y(where, y);
        noise::detail::check_shape(where, "out", out, dim(), y.count);
        batch<T, B> ybar(base_dim(), y.count), sq(base_dim(), y.count);
        mm_.template mean<B>(y, ybar.view());
        q_.score(batch_view<const T>(ybar.view()), sq.view());
        backend::for_each_index<B>(y.count,
                                   detail::m_density_score_fn<T>{y, ybar.view(), sq.view(), out,
                                                                 measurements(),
                                                                 T(1) / mm_.variance()});
    }

    /// E[x | y] = ybar + sigma_eff^2 grad log q(ybar) (seed 003 Eq. 7); out D x N.
    void posterior_mean(batch_view<const T> y, batch_view<T> out) const {
        constexpr const char* where = "targets::m_density::posterior_mean";
        check_y(where, y);
        noise::detail::check_shape(where, "out", out, base_dim(), y.count);
        batch<T, B> ybar(base_dim(), y.count);
        mm_.template mean<B>(y, ybar.view());
        q_.score(batch_view<const T>(ybar.view()), out);
        const T se = mm_.sigma_eff();
        backend::for_each_index<B>(out.size(), detail::m_density_mean_fn<T>{
                                                   ybar.view().data, out.data, out.data, se * se});
    }

    /// y = (x + sigma eps_1, ..., x + sigma eps_M), x ~ p from stream s, eps from
    /// stream {s.seed, ~s.id}.
    void sample(const random::stream& s, batch_view<T> out, std::uint64_t first = 0) const {
        constexpr const char* where = "targets::m_density::sample";
        noise::detail::check_shape(where, "out", out, dim(), out.count);
        if (out.count == 0) return;
        batch<T, B> x(base_dim(), out.count), eps(dim(), out.count);
        target_.sample(s, x.view(), first);
        mm_.template perturb<B>(random::stream{s.seed, ~s.id}, batch_view<const T>(x.view()), out,
                                eps.view(), first);
    }

    // ---- host conveniences ----
    matrix<T> log_density(const matrix<T>& y) const {
        check_host(y);
        const batch<T, B> yb(y);
        batch<T, B> out(1, y.cols());
        log_density(yb.view(), out.view());
        return out.to_eigen();
    }
    matrix<T> score(const matrix<T>& y) const {
        check_host(y);
        const batch<T, B> yb(y);
        batch<T, B> out(dim(), y.cols());
        score(yb.view(), out.view());
        return out.to_eigen();
    }
    matrix<T> posterior_mean(const matrix<T>& y) const {
        check_host(y);
        const batch<T, B> yb(y);
        batch<T, B> out(base_dim(), y.cols());
        posterior_mean(yb.view(), out.view());
        return out.to_eigen();
    }
    matrix<T> sample(const random::stream& s, index_t n, std::uint64_t first = 0) const {
        hosm::detail::check_at_least("targets::m_density::sample", "n", n, 0);
        batch<T, B> out(dim(), n);
        sample(s, out.view(), first);
        return out.to_eigen();
    }

private:
    void check_y(const char* where, batch_view<const T> y) const {
        noise::detail::check_shape(where, "y", y, dim(), y.count);
        noise::detail::check_finite_batch<B>(where, "y", y);
    }
    void check_host(const matrix<T>& y) const {
        if (y.rows() != dim())
            hosm::detail::fail("targets::m_density", "dimension mismatch: argument 'y' has ",
                               y.rows(), " rows, expected M D = ", dim());
    }

    Tg target_;
    Tg q_;
    noise::multimeasurement<T> mm_;
};

}  // namespace hosm::targets
