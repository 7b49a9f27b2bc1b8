// hosm/models/exponential_family.hpp — exponential-family score models and their
// closed-form score-matching estimator (seed 004, "Special Energy Models").
//
//   models::gaussian_statistics<double> stats{3};
//   models::exponential_family<decltype(stats)> m(stats);
//   m.fit(x);                                // theta = closed-form SM estimate
//   m.score(x, s1);                          // grad_x log p_theta
//   auto P = stats.precision(m.theta());     // recovers the precision ...
//   auto mu = stats.mean(m.theta());         // ... and the mean
//
// Model. x in R^D, parameters theta in R^K, sufficient statistics T: R^D -> R^K
// and a log base measure a: R^D -> R (given by a statistics policy S, see
// detail/expfam_statistics.hpp):
//
//     p_theta(x) = exp( theta^T T(x) + a(x) - log Z(theta) )
//
// (seed 004 writes exp{a(y) + b(theta) + theta^T s(y)}: its s is our T and
// b(theta) = -log Z(theta)). The energy is -theta^T T(x) - a(x), so a POSITIVE
// theta_k raises the density where T_k is large. With the D x K Jacobian
//
//     J(x)_{ik} = dT_k(x) / dx_i                         (seed 004's J(y))
//
// the scores are linear in theta and need no Z:
//
//     grad_x log p_theta(x) = J(x) theta + grad a(x),
//     Lap_x  log p_theta(x) = theta^T Lap T(x) + Lap a(x),   Lap T = (Lap T_k)_k.
//
// Score matching (seed 004 Eq. 1, Hyvärinen). The Fisher divergence
// 1/2 E_* ||grad log p - grad log p_*||^2 equals E_* s_P(x, p) + c_* with the
// Hyvärinen score s_P(x, p) = 1/2 ||grad log p(x)||^2 + Lap log p(x). Its
// empirical mean over samples x_1..x_N is a quadratic in theta:
//
//     J(theta) = (1/N) sum_t s_P(x_t, p_theta) = 1/2 theta^T A theta + theta^T b + c,
//     A = (1/N) sum_t J(x_t)^T J(x_t)                           (K x K, PSD)
//     b = (1/N) sum_t [ Lap T(x_t) + J(x_t)^T grad a(x_t) ]     (K)
//     c = (1/N) sum_t [ 1/2 ||grad a(x_t)||^2 + Lap a(x_t) ],
//
// so grad_theta J = A theta + b and, when A is invertible, the unique minimiser is
//
//     theta_hat = -A^{-1} b = -( sum_t J^T J )^{-1} sum_t ( Lap T + J^T grad a ),
//
// seed 004's theta_hat_H exactly (its sums are N times our means, which cancel).
// hosm computes A as ONE GEMM, A = G G^T / N, where G = [J(x_1)^T ... J(x_N)^T]
// is the K x (D N) matrix of the per-sample K x D blocks (grad_x T)^T, b by a
// per-sample kernel and a row reduction, and solves A theta = -b on the host
// with Eigen (a symmetric eigendecomposition, which also measures how close A
// is to singular).
//
// When is A invertible: A = 0 along theta iff J(x_t) theta = 0 for every t, i.e.
// iff theta^T T is constant in x on all the samples. Each sample adds at most D
// to the rank of A, so N D >= K is necessary; hosm asks for N >= K samples
// (fewer give no trustworthy estimate) and reports A as singular when its
// smallest eigenvalue is below 64 K eps times its largest (eps the unit
// roundoff of T): e.g. all samples equal, or statistics that are linearly
// dependent up to a constant.
//
// Gaussian check (gaussian_statistics): the estimator returns the sample mean
// and the inverse of the 1/N sample covariance, the Gaussian MLE.
//
// API (S a statistics policy with value_type T; x: D x N batches in B's memory;
// theta, A, b on the host as Eigen objects):
//
//   models::exponential_family<S, B> m(stats);            theta = 0
//   models::exponential_family<S, B> m(stats, theta);     theta: hosm::vector<T> (K)
//   m.dim() (D), m.parameter_count() (K), m.statistics()
//   m.theta() (host copy), m.set_theta(theta)
//   m.parameters(), m.gradients() (K numbers in B's memory), m.zero_gradients()
//   m.log_density(x, out)      out (1 x N) = theta^T T(x) + a(x) (UNnormalised)
//   m.score(x, out)            out (D x N) = J(x) theta + grad a(x)
//   m.fit(x)                   theta = theta_hat of the batch; returns theta()
//   m.score_matching_loss(x)   J(theta) (the mean Hyvärinen score)
//   m.score_matching_loss_and_gradient(x)
//                              J(theta); gradients() += A theta + b (accumulates,
//                              as models::mlp's backward), for an optimiser
//   host conveniences: m.score(X), m.log_density(X) on hosm::matrix<T>
//   free functions:
//   models::score_matching_moments<B>(stats, x) -> expfam_moments<T>{A, b, count}
//   models::fit_score_matching<B>(stats, x)     -> theta_hat (hosm::vector<T>)
//
// Errors (hosm::error naming the function and argument): x not D x N, N < K
// (fit) or N < 1, non-finite x, out of the wrong shape, theta not of size K or
// non-finite, a singular (or non-finite) moment matrix A.
#pragma once
#include <cmath>
#include <cstddef>
#include <limits>
#include <type_traits>

#include <Eigen/Dense>
#include <thrust/copy.h>
#include <thrust/fill.h>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/backend/gemm.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/models/detail/expfam_gaussian_statistics.hpp>
#include <hosm/models/detail/expfam_kernels.hpp>
#include <hosm/models/detail/expfam_polynomial_statistics.hpp>
#include <hosm/models/detail/expfam_statistics.hpp>
#include <hosm/noise/detail/batch_checks.hpp>

namespace hosm::models {

/// Score-matching moments of a batch (see the header): A = (1/N) sum J^T J,
/// b = (1/N) sum (Lap T + J^T grad a), count = N.
template <class T>
struct expfam_moments {
    matrix<T> A;
    vector<T> b;
    index_t count = 0;
};

namespace detail {

template <class T, concepts::Backend B>
T* expfam_raw(typename B::template vector<T>& v) {
    return thrust::raw_pointer_cast(v.data());
}

template <class S>
void expfam_check_x(const char* where, const S& s, batch_view<const typename S::value_type> x,
                    index_t min_count) {
    if (x.dim != s.dim())
        hosm::detail::fail(where, "dimension mismatch: argument 'x' has ", x.dim,
                           " rows, the statistics have dimension ", s.dim());
    if (x.count < min_count)
        hosm::detail::fail(where, "argument 'x' has ", x.count, " samples; need at least ", min_count,
                           min_count > 1 ? " (the number of parameters K)" : "");
    if (x.data == nullptr) hosm::detail::fail(where, "argument 'x' is null");
}

template <concepts::Backend B, class S>
expfam_moments<typename S::value_type> expfam_compute_moments(const char* where, const S& s,
                                                             batch_view<const typename S::value_type> x) {
    using T = typename S::value_type;
    using vec = typename B::template vector<T>;
    const index_t D = s.dim(), K = s.size(), N = x.count;
    expfam_check_x(where, s, x, K);
    noise::detail::check_finite_batch<B>(where, "x", x);
    vec grad(static_cast<std::size_t>(K * D * N)), rhs(static_cast<std::size_t>(K * N)),
        ga(static_cast<std::size_t>(D * N)), A(static_cast<std::size_t>(K * K)),
        b(static_cast<std::size_t>(K));
    backend::for_each_index<B>(
        N, expfam_moment_fn<S, T>{s, x.data, expfam_raw<T, B>(grad), expfam_raw<T, B>(rhs), expfam_raw<T, B>(ga), D, K});
    const T invN = T(1) / static_cast<T>(N);
    // A = G G^T / N with G the K x (D N) matrix of the blocks (grad_x T)^T.
    backend::gemm<B>(backend::transpose::no, backend::transpose::yes, K, K, D * N, invN,
                     expfam_raw<T, B>(grad), K, expfam_raw<T, B>(grad), K, T(0), expfam_raw<T, B>(A), K);
    backend::for_each_index<B>(K, expfam_row_sum_fn<T>{expfam_raw<T, B>(rhs), expfam_raw<T, B>(b), K, N, invN, false});
    expfam_moments<T> m;
    m.A.resize(K, K);
    m.b.resize(K);
    m.count = N;
    thrust::copy(A.begin(), A.end(), m.A.data());
    thrust::copy(b.begin(), b.end(), m.b.data());
    if (!m.A.allFinite() || !m.b.allFinite())
        hosm::detail::fail(where, "the score-matching moments are not finite (the statistics or "
                                  "their derivatives overflow on the data)");
    m.A = (m.A + m.A.transpose()).eval() / T(2);  // exact symmetry for the solver
    return m;
}

}  // namespace detail

/// A = (1/N) sum_t J(x_t)^T J(x_t) and b = (1/N) sum_t (Lap T(x_t) + J(x_t)^T grad a(x_t)).
/// Needs N >= K samples (x is D x N in B's memory).
template <concepts::Backend B = backend::cpp, class S>
expfam_moments<typename S::value_type> score_matching_moments(
    const S& s, std::type_identity_t<batch_view<const typename S::value_type>> x) {
    static_assert(detail::expfam_statistics<S>,
                  "hosm: S is not an exponential-family statistics policy: needs value_type, "
                  "dim(), size(), value(x, t), derivatives(x, grad, lap), base(x, grad_a, lap_a) "
                  "(see hosm/models/detail/expfam_statistics.hpp)");
    return detail::expfam_compute_moments<B>("models::score_matching_moments", s, x);
}

namespace detail {
/// theta = -A^{-1} b, with A checked for (numerical) singularity.
template <class T>
vector<T> expfam_solve(const char* where, const expfam_moments<T>& m) {
    const index_t K = static_cast<index_t>(m.b.size());
    Eigen::SelfAdjointEigenSolver<matrix<T>> es(m.A);
    if (es.info() != Eigen::Success)
        hosm::detail::fail(where, "the eigendecomposition of the moment matrix A failed");
    const vector<T>& lam = es.eigenvalues();  // ascending
    const T lmax = lam[K - 1], lmin = lam[0];
    const T tol = T(64) * static_cast<T>(K) * std::numeric_limits<T>::epsilon();
    if (!(lmax > T(0)) || !(lmin > tol * lmax))
        hosm::detail::fail(where, "the score-matching moment matrix A = E[J^T J] (K = ", K,
                           ") is singular: eigenvalues in [", lmin, ", ", lmax,
                           "]; the statistics are (near) constant along some theta on these ",
                           m.count, " samples");
    const vector<T> Vb = es.eigenvectors().transpose() * m.b;
    return -(es.eigenvectors() * (Vb.array() / lam.array()).matrix());
}
}  // namespace detail

/// The closed-form score-matching estimate theta_hat = -A^{-1} b (seed 004).
template <concepts::Backend B = backend::cpp, class S>
vector<typename S::value_type> fit_score_matching(
    const S& s, std::type_identity_t<batch_view<const typename S::value_type>> x) {
    static_assert(detail::expfam_statistics<S>,
                  "hosm: S is not an exponential-family statistics policy (see "
                  "hosm/models/detail/expfam_statistics.hpp)");
    constexpr const char* where = "models::fit_score_matching";
    return detail::expfam_solve(where, detail::expfam_compute_moments<B>(where, s, x));
}

template <class S, concepts::Backend B = backend::cpp>
class exponential_family {
    static_assert(detail::expfam_statistics<S>,
                  "hosm: S is not an exponential-family statistics policy: needs value_type, "
                  "dim(), size(), value(x, t), derivatives(x, grad, lap), base(x, grad_a, lap_a) "
                  "(see hosm/models/detail/expfam_statistics.hpp)");

public:
    using statistics_type = S;
    using value_type = typename S::value_type;
    using backend_type = B;
    using T = value_type;
    using vector_type = typename B::template vector<T>;

    explicit exponential_family(const S& s) : s_(s) {
        check_stats();
        params_.assign(static_cast<std::size_t>(s_.size()), T(0));
        grads_.assign(static_cast<std::size_t>(s_.size()), T(0));
    }
    exponential_family(const S& s, const vector<T>& theta) : exponential_family(s) { set_theta(theta); }

    index_t dim() const { return s_.dim(); }
    index_t parameter_count() const { return s_.size(); }
    const S& statistics() const { return s_; }

    vector_type& parameters() { return params_; }
    const vector_type& parameters() const { return params_; }
    vector_type& gradients() { return grads_; }
    const vector_type& gradients() const { return grads_; }
    void zero_gradients() { thrust::fill(grads_.begin(), grads_.end(), T(0)); }

    vector<T> theta() const {
        vector<T> t(parameter_count());
        thrust::copy(params_.begin(), params_.end(), t.data());
        return t;
    }
    void set_theta(const vector<T>& theta) {
        constexpr const char* where = "models::exponential_family::set_theta";
        hosm::detail::check_size(where, "theta", static_cast<index_t>(theta.size()), parameter_count());
        hosm::detail::check_all_finite(where, "theta", theta.data(), parameter_count());
        thrust::copy(theta.data(), theta.data() + theta.size(), params_.begin());
    }

    /// out_j = theta^T T(x_j) + a(x_j): log p_theta(x_j) + log Z(theta).
    void log_density(batch_view<const T> x, batch_view<T> out) const {
        constexpr const char* where = "models::exponential_family::log_density";
        check_input(where, x);
        noise::detail::check_shape(where, "out", out, 1, x.count);
        const index_t D = dim(), K = parameter_count(), N = x.count;
        vector_type t(static_cast<std::size_t>(K * N)), ga(static_cast<std::size_t>(D * N));
        backend::for_each_index<B>(N, detail::expfam_log_density_fn<S, T>{
                                          s_, x.data, cparams(), detail::expfam_raw<T, B>(t),
                                          detail::expfam_raw<T, B>(ga), out.data, D, K});
    }

    /// out_j = grad_x log p_theta(x_j) = J(x_j) theta + grad a(x_j).
    void score(batch_view<const T> x, batch_view<T> out) const {
        constexpr const char* where = "models::exponential_family::score";
        check_input(where, x);
        noise::detail::check_shape(where, "out", out, dim(), x.count);
        const index_t D = dim(), K = parameter_count(), N = x.count;
        vector_type g(static_cast<std::size_t>(K * D * N)), lap(static_cast<std::size_t>(K * N));
        backend::for_each_index<B>(N, detail::expfam_score_fn<S, T>{s_, x.data, cparams(),
                                                                    detail::expfam_raw<T, B>(g),
                                                                    detail::expfam_raw<T, B>(lap), out.data,
                                                                    D, K});
    }

    /// theta = the closed-form score-matching estimate of the batch x (N >= K).
    vector<T> fit(batch_view<const T> x) {
        const vector<T> t = detail::expfam_solve(
            "models::exponential_family::fit",
            detail::expfam_compute_moments<B>("models::exponential_family::fit", s_, x));
        thrust::copy(t.data(), t.data() + t.size(), params_.begin());
        return t;
    }

    /// J(theta) = (1/N) sum_j [1/2 ||grad log p(x_j)||^2 + Lap log p(x_j)].
    T score_matching_loss(batch_view<const T> x) const {
        return run_sm("models::exponential_family::score_matching_loss", x, nullptr);
    }

    /// J(theta) as above; gradients() += grad_theta J = A theta + b.
    T score_matching_loss_and_gradient(batch_view<const T> x) {
        return run_sm("models::exponential_family::score_matching_loss_and_gradient", x,
                      thrust::raw_pointer_cast(grads_.data()));
    }

    // ---- host conveniences (D x N host matrices) ----
    matrix<T> score(const matrix<T>& x) const {
        matrix<T> out(dim(), x.cols());
        score(host_view(x), view(out));
        return out;
    }
    matrix<T> log_density(const matrix<T>& x) const {
        matrix<T> out(1, x.cols());
        log_density(host_view(x), view(out));
        return out;
    }

private:
    void check_stats() const {
        constexpr const char* where = "models::exponential_family";
        hosm::detail::check_at_least(where, "statistics.dim()", s_.dim(), 1);
        hosm::detail::check_at_least(where, "statistics.size()", s_.size(), 1);
    }
    void check_input(const char* where, batch_view<const T> x) const {
        if (x.dim != dim())
            hosm::detail::fail(where, "dimension mismatch: argument 'x' has ", x.dim,
                               " rows, expected ", dim());
        hosm::detail::check_at_least(where, "x.count", x.count, 0);
        noise::detail::check_finite_batch<B>(where, "x", x);
    }
    static batch_view<const T> host_view(const matrix<T>& x) {
        static_assert(B::host_memory, "hosm: the host conveniences need a host back end");
        return view(x);
    }
    const T* cparams() const { return thrust::raw_pointer_cast(params_.data()); }

    T run_sm(const char* where, batch_view<const T> x, T* grad_out) const {
        const bool with_gradient = grad_out != nullptr;
        check_input(where, x);
        hosm::detail::check_at_least(where, "x.count", x.count, 1);
        const index_t D = dim(), K = parameter_count(), N = x.count;
        vector_type g(static_cast<std::size_t>(K * D * N)), v(static_cast<std::size_t>(K * N)),
            ga(static_cast<std::size_t>(D * N)), loss(static_cast<std::size_t>(N));
        backend::for_each_index<B>(
            N, detail::expfam_sm_fn<S, T>{s_, x.data, cparams(), detail::expfam_raw<T, B>(g),
                                          detail::expfam_raw<T, B>(v), detail::expfam_raw<T, B>(ga),
                                          detail::expfam_raw<T, B>(loss), D, K, with_gradient});
        const T invN = T(1) / static_cast<T>(N);
        const T L = backend::reduce_sum<B>(detail::expfam_raw<T, B>(loss), N) * invN;
        if (!std::isfinite(static_cast<double>(L)))
            hosm::detail::fail(where, "the score-matching loss is not finite (", L,
                               "): theta or the statistics overflow on the data");
        if (with_gradient)
            backend::for_each_index<B>(K, detail::expfam_row_sum_fn<T>{detail::expfam_raw<T, B>(v),
                                                                       grad_out, K, N, invN, true});
        return L;
    }

    S s_;
    vector_type params_, grads_;
};

}  // namespace hosm::models
