// hosm/diagnostics/detail/chains.hpp — building blocks of ESS and R-hat.
//
// Internal to hosm/diagnostics/ess.hpp and rhat.hpp. All of it works in double
// on host Eigen matrices `x` of shape N x M: column m is one (split) chain of
// N draws of one scalar quantity.
//
//   split_draws(tr, d)      the N = floor(T/2) x 2C matrix of split chains of
//                           dimension d: column 2c is the first half of chain
//                           c, column 2c + 1 its second half; for odd T the
//                           middle draw is dropped (Vehtari et al. 2021, §4.1).
//   rank_normalize(x)       z = Phi^{-1}((r - 3/8) / (S + 1/4)), r the rank of
//                           a draw among all S = N M draws, ties given their
//                           average rank (Blom's offset; Vehtari et al. Eq. 14).
//   quantile(x, p)          type-7 sample quantile of all draws (R's default).
//   fold(x)                 |x - median(x)| (Vehtari et al. §4.2).
//   autocovariance(...)     gamma_k = (1/N) sum_{i<N-k} (x_i - xbar)(x_{i+k} - xbar),
//                           k = 0..N-1, by Eigen's FFT of the zero-padded
//                           centred chain (padded to a power of two >= 2N, so
//                           no circular wrap-around).
//   ess_of_chains(x)        Stan's ESS of M chains (below).
//   rhat_of_chains(x)       R-hat of M chains (below).
//
// ESS (Geyer 1992; Gelman et al., BDA3 §11.5; Vehtari et al. 2021 §3.2, the
// computation of Stan's compute_effective_sample_size and of posterior):
//   s_m^2 = gamma_{m,0} N / (N - 1),  W = mean_m s_m^2,
//   var+  = (N - 1)/N W + B/N,  B/N = sample variance of the chain means
//           (unbiased, over the M chains; 0 if M = 1),
//   rho_k = 1 - (W - mean_m gamma_{m,k}) / var+.
// Geyer's initial positive sequence: pairs P_j = rho_{2j} + rho_{2j+1} are
// taken while positive (and k < N - 4); the initial monotone sequence then
// replaces any P_j larger than P_{j-1} by P_{j-1}. With the last even-lag
// rho kept when positive (Stan's antithetic correction),
//   tau = -1 + 2 sum_{k < K} rho_k + rho_K,   ESS = N M / max(tau, 1/log10(N M)).
// The lower bound caps ESS at N M log10(N M), as Stan and posterior do.
//
// R-hat (Gelman & Rubin 1992; Vehtari et al. 2021 Eq. 3-4):
//   W = mean_m s_m^2,  var+ = (N - 1)/N W + B/N,  R = sqrt(var+ / W);
// R = +infinity when every chain is constant but the chains differ (W = 0 < B).
//
// Draws that are all equal (var+ = 0) leave ESS and R-hat undefined: both
// throw hosm::error naming the dimension rather than return NaN.
#pragma once
#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <numeric>
#include <vector>

#include <Eigen/Dense>
#include <unsupported/Eigen/FFT>
#include <unsupported/Eigen/SpecialFunctions>

#include <hosm/core/error.hpp>
#include <hosm/core/types.hpp>
#include <hosm/diagnostics/trace_view.hpp>

namespace hosm::diagnostics::detail {

/// Split chains of dimension d of a host trace (see the header comment).
template <class U>
Eigen::MatrixXd split_draws(trace_view<U> tr, index_t d) {
    const index_t half = tr.steps / 2;
    const index_t second = tr.steps - half;  // first index of the second half
    Eigen::MatrixXd x(half, 2 * tr.chains);
    for (index_t c = 0; c < tr.chains; ++c)
        for (index_t i = 0; i < half; ++i) {
            x(i, 2 * c) = static_cast<double>(tr(i, c, d));
            x(i, 2 * c + 1) = static_cast<double>(tr(second + i, c, d));
        }
    return x;
}

/// Average ranks (1-based, ties averaged) of the entries of x, same shape.
inline Eigen::MatrixXd average_ranks(const Eigen::MatrixXd& x) {
    const index_t S = x.size();
    std::vector<index_t> order(static_cast<std::size_t>(S));
    std::iota(order.begin(), order.end(), index_t(0));
    const double* v = x.data();
    std::sort(order.begin(), order.end(), [v](index_t a, index_t b) { return v[a] < v[b]; });
    Eigen::MatrixXd r(x.rows(), x.cols());
    index_t i = 0;
    while (i < S) {
        index_t j = i + 1;
        while (j < S && v[order[j]] == v[order[i]]) ++j;
        const double rank = 0.5 * static_cast<double>(i + 1 + j);  // mean of i+1 .. j
        for (index_t k = i; k < j; ++k) r.data()[order[k]] = rank;
        i = j;
    }
    return r;
}

/// Rank normalization: z = Phi^{-1}((r - 3/8) / (S + 1/4)).
inline Eigen::MatrixXd rank_normalize(const Eigen::MatrixXd& x) {
    const double S = static_cast<double>(x.size());
    const Eigen::ArrayXXd p = (average_ranks(x).array() - 0.375) / (S + 0.25);
    return p.ndtri().matrix();
}

/// Type-7 quantile (linear interpolation between order statistics) of all
/// entries of x, p in [0, 1].
inline double quantile(const Eigen::MatrixXd& x, double p) {
    std::vector<double> v(x.data(), x.data() + x.size());
    std::sort(v.begin(), v.end());
    const double h = (static_cast<double>(v.size()) - 1.0) * p;
    const auto lo = static_cast<std::size_t>(std::floor(h));
    if (lo + 1 >= v.size()) return v.back();
    return v[lo] + (h - static_cast<double>(lo)) * (v[lo + 1] - v[lo]);
}

inline Eigen::MatrixXd fold(const Eigen::MatrixXd& x) {
    return (x.array() - quantile(x, 0.5)).abs().matrix();
}

/// Biased autocovariances gamma_0 .. gamma_{n-1} of x[0..n) into acov[0..n).
inline void autocovariance(const double* x, index_t n, Eigen::FFT<double>& fft,
                           std::vector<double>& buf,
                           std::vector<std::complex<double>>& spec, double* acov) {
    std::size_t nfft = 1;
    while (nfft < static_cast<std::size_t>(2 * n)) nfft <<= 1;
    double mean = 0;
    for (index_t i = 0; i < n; ++i) mean += x[i];
    mean /= static_cast<double>(n);
    buf.assign(nfft, 0.0);
    for (index_t i = 0; i < n; ++i) buf[static_cast<std::size_t>(i)] = x[i] - mean;
    fft.fwd(spec, buf);
    for (auto& z : spec) z = std::complex<double>(std::norm(z), 0.0);
    fft.inv(buf, spec);
    for (index_t k = 0; k < n; ++k) acov[k] = buf[static_cast<std::size_t>(k)] / static_cast<double>(n);
}

/// Sample variance (divisor M - 1) of the column means; 0 for one column.
inline double variance_of_means(const Eigen::MatrixXd& x) {
    const index_t M = x.cols();
    if (M < 2) return 0.0;
    const Eigen::RowVectorXd means = x.colwise().mean();
    return (means.array() - means.mean()).square().sum() / static_cast<double>(M - 1);
}

/// Stan's ESS of the M columns of x (N x M, N >= 4: rho_{K+1} stays inside
/// the N lags); see the header comment.
/// `where`/`d` name the caller and dimension in the error for constant draws.
inline double ess_of_chains(const Eigen::MatrixXd& x, const char* where, index_t d) {
    const index_t N = x.rows(), M = x.cols();
    Eigen::MatrixXd acov(N, M);
    Eigen::FFT<double> fft;
    std::vector<double> buf;
    std::vector<std::complex<double>> spec;
    for (index_t m = 0; m < M; ++m) autocovariance(x.col(m).data(), N, fft, buf, spec, acov.col(m).data());
    const double Nd = static_cast<double>(N);
    const double W = acov.row(0).mean() * Nd / (Nd - 1.0);
    const double var_plus = W * (Nd - 1.0) / Nd + variance_of_means(x);
    if (!(var_plus > 0.0))
        hosm::detail::fail(where, "all draws of dimension ", d,
                           " are equal: the effective sample size is undefined");
    const Eigen::VectorXd mean_acov = acov.rowwise().mean();
    auto rho_at = [&](index_t k) { return 1.0 - (W - mean_acov(k)) / var_plus; };

    // Geyer's initial positive sequence.
    Eigen::VectorXd rho = Eigen::VectorXd::Zero(N);
    double rho_even = 1.0, rho_odd = rho_at(1);
    rho(0) = rho_even;
    rho(1) = rho_odd;
    index_t k = 1;
    while (k < N - 4 && rho_even + rho_odd > 0.0) {
        rho_even = rho_at(k + 1);
        rho_odd = rho_at(k + 2);
        if (rho_even + rho_odd >= 0.0) {
            rho(k + 1) = rho_even;
            rho(k + 2) = rho_odd;
        }
        k += 2;
    }
    const index_t K = k;
    if (rho_even > 0.0) rho(K + 1) = rho_even;
    // Geyer's initial monotone sequence.
    for (index_t j = 1; j <= K - 3; j += 2) {
        if (rho(j + 1) + rho(j + 2) > rho(j - 1) + rho(j)) {
            rho(j + 1) = 0.5 * (rho(j - 1) + rho(j));
            rho(j + 2) = rho(j + 1);
        }
    }
    const double total = Nd * static_cast<double>(M);
    const double tau = -1.0 + 2.0 * rho.head(K).sum() + rho(K + 1);
    return total / std::max(tau, 1.0 / std::log10(total));
}

/// R-hat of the M >= 2 columns of x (N >= 2), or NaN when all draws are equal
/// (var+ = 0); see the header comment.
inline double rhat_or_nan(const Eigen::MatrixXd& x) {
    const double Nd = static_cast<double>(x.rows());
    const Eigen::RowVectorXd means = x.colwise().mean();
    const double W =
        (x.rowwise() - means).array().square().colwise().sum().mean() / (Nd - 1.0);
    const double var_plus = W * (Nd - 1.0) / Nd + variance_of_means(x);
    if (!(var_plus > 0.0)) return std::numeric_limits<double>::quiet_NaN();
    if (!(W > 0.0)) return std::numeric_limits<double>::infinity();
    return std::sqrt(var_plus / W);
}

/// rhat_or_nan, raising hosm::error (naming `where` and dimension d) for
/// draws that are all equal.
inline double rhat_of_chains(const Eigen::MatrixXd& x, const char* where, index_t d) {
    const double r = rhat_or_nan(x);
    if (std::isnan(r))
        hosm::detail::fail(where, "all draws of dimension ", d, " are equal: R-hat is undefined");
    return r;
}

}  // namespace hosm::diagnostics::detail
