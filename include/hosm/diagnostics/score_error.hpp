// hosm/diagnostics/score_error.hpp — mean squared errors of estimated first-
// and second-order scores against exact ones (seed 000, Table 1 and Fig. 1).
//
// Definitions (N samples j = 1..N; every sum in double, whatever T is):
//
//   score_mse            (1/N) sum_j || s1_j - s1*_j ||^2          (sum over the D entries)
//   hessian_mse          (1/N) sum_j || H_j - H*_j ||_F^2          (sum over the D^2 entries)
//   hessian_diagonal_mse (1/N) sum_j || diag(H_j) - diag(H*_j) ||^2 (sum over the D diagonal entries)
//
// i.e. the mean over SAMPLES of the squared Euclidean / Frobenius norm of the
// per-sample error; it is NOT averaged over entries. For the per-entry mean
// divide by D (score, diagonal) or D^2 (hessian). Why this normalisation:
// seed 000's Table 1 calls its numbers the "mean squared error between the
// estimated second order scores and the ground truth on 10^5 test samples",
// i.e. a mean over test samples, and its objectives (Eq. 13, 17) measure a
// matrix by ||.||_F^2; its 100-d Gaussian baseline (43.8, the same at every
// sigma) has the size of a whole ||s2||_F^2 of an O(1)-scaled precision
// matrix, not of one entry (an entry error of 43.8 would need entries of
// the precision of size ~6.6). The seed does not state it outright; this is
// hosm's documented reading.
//
// H_j may have any structure (hessian::full, diagonal, low_rank<R>) and is
// compared as the dense matrix it stands for: diag(d) for diagonal,
// diag(alpha) + B B^T for low_rank, and for full all D^2 stored entries as
// they are (a Jacobian of a learned s1 from models::mlp_score::jacobian_s1 is
// in general not symmetric and is compared entry by entry, not symmetrized).
// Which ground truth: the functions taking a target compare against THAT
// target's exact scores at the given points. Seed 000 compares against the
// clean-data scores (p_data, "since we use small sigma"); pass
// gaussian.smoothed(sigma) instead to compare against the noisy q_sigma.
//
// API (x, s1: D x N batch views, H: hessian::batch<S, T, B>, all in B's memory;
// B deduced from H or defaulting to backend::cpp for views; results double):
//
//   score_mse<B>(s1_est, s1_exact)                   two D x N views
//   score_mse(target, x, s1_est)                     s1* = target.score(x)
//   hessian_mse(H_est, H_exact)                      any two structures, same dim/count
//   hessian_mse(target, x, H_est [, chunk])          H* = target's exact Hessian at x
//   hessian_diagonal_mse(H_est, H_exact)             any two structures
//   hessian_diagonal_mse(target, x, H_est [, chunk])
//   hessian_mse(model, target, x [, chunk])          the model's s2 head (model.forward)
//                                                    at x against the target's Hessian
//
// `target` is any hosm::targets class (it needs dim(), score(x, out) and
// hessian(x, H) for hessian::batch<full | diagonal>). The target's dense
// Hessians are formed `chunk` samples at a time (default 256), so memory is
// chunk D^2 numbers, not N D^2. The model overload needs dim(), make_s2(n) and
// forward(x, s1, s2) (models::mlp_score) and runs the model in chunks too.
// To combine results over several batches, weight each mean by its count.
//
// Cost: O(D) per sample for score and diagonal errors (O(D R) for a low-rank
// diagonal), O(D^2) per sample for full, O(D^2 R) for a low-rank H_est or
// H_exact in hessian_mse (low rank against full is computed as ||G||^2 -
// 2 <L, G> + ||L||^2 over contiguous columns, exact algebra, in double).
//
// Errors (hosm::error naming the function and argument): dimensions or counts
// that differ (est vs exact, est vs x, x vs target), N < 1, chunk < 1, and a
// non-finite entry in an estimate, an exact value or x (named with its
// sample and dimension).
#pragma once
#include <algorithm>
#include <cmath>
#include <type_traits>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/config.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/diagnostics/detail/finite.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/hessian/diagonal.hpp>
#include <hosm/hessian/full.hpp>
#include <hosm/hessian/low_rank.hpp>

namespace hosm::diagnostics {

namespace detail {

// ---- dense entries of one sample of any structure ---------------------------------

template <class U>
HOSM_HOST_DEVICE inline double entry(hessian::full_view<U> H, index_t i, index_t k) {
    return static_cast<double>(H.h[i + k * H.dim]);
}
template <class U>
HOSM_HOST_DEVICE inline double entry(hessian::diagonal_view<U> H, index_t i, index_t k) {
    return i == k ? static_cast<double>(H.d[i]) : 0.0;
}
template <class U>
HOSM_HOST_DEVICE inline double entry(hessian::low_rank_view<U> H, index_t i, index_t k) {
    double v = i == k ? static_cast<double>(H.alpha[i]) : 0.0;
    for (index_t r = 0; r < H.rank; ++r)
        v += static_cast<double>(H.B[i + r * H.dim]) * static_cast<double>(H.B[k + r * H.dim]);
    return v;
}

/// Whether a structure's off-diagonal entries are all 0.
template <class View>
inline constexpr bool is_diagonal_view_v = false;
template <class U>
inline constexpr bool is_diagonal_view_v<hessian::diagonal_view<U>> = true;

/// A trivially copyable handle on a hessian::batch, usable in kernels.
template <class S, class U>
struct ref;
template <class U>
struct ref<hessian::full, U> {
    const U* h;
    index_t dim;
    HOSM_HOST_DEVICE hessian::full_view<const U> sample(index_t j) const {
        return {h + j * dim * dim, dim};
    }
};
template <class U>
struct ref<hessian::diagonal, U> {
    const U* d;
    index_t dim;
    HOSM_HOST_DEVICE hessian::diagonal_view<const U> sample(index_t j) const {
        return {d + j * dim, dim};
    }
};
template <int R, class U>
struct ref<hessian::low_rank<R>, U> {
    const U* alpha;
    const U* B;
    index_t dim, rank;
    HOSM_HOST_DEVICE hessian::low_rank_view<const U> sample(index_t j) const {
        return {alpha + j * dim, B + j * dim * rank, dim, rank};
    }
};

template <class T, class B>
ref<hessian::full, T> make_ref(const hessian::batch<hessian::full, T, B>& H) {
    return {H.data(), H.dim()};
}
template <class T, class B>
ref<hessian::diagonal, T> make_ref(const hessian::batch<hessian::diagonal, T, B>& H) {
    return {H.data(), H.dim()};
}
template <int R, class T, class B>
ref<hessian::low_rank<R>, T> make_ref(const hessian::batch<hessian::low_rank<R>, T, B>& H) {
    return {H.alpha_data(), H.B_data(), H.dim(), H.rank()};
}

/// ||L - G||_F^2 for a low-rank L = diag(alpha) + B B^T and a dense G (not
/// necessarily symmetric), as ||G||^2 - 2 <L, G> + ||L||^2 with
/// <L, G> = sum_i alpha_i G_ii + sum_r b_r^T G b_r and ||L||^2 by the Gram
/// identity sum_i alpha_i^2 + 2 sum_i alpha_i (B B^T)_ii + sum_{r,s} (b_r . b_s)^2:
/// O(D^2 R) like the entry-wise sum, but over contiguous columns. Summed in
/// double; clamped at 0 against rounding.
template <class U, class V>
HOSM_HOST_DEVICE inline double low_rank_vs_dense_sq(hessian::low_rank_view<U> L,
                                                    hessian::full_view<V> G) {
    const index_t D = L.dim, R = L.rank;
    double gg = 0.0, lg = 0.0, ll = 0.0;
    for (index_t k = 0; k < D; ++k) {
        const V* gk = G.h + k * D;
        for (index_t i = 0; i < D; ++i) gg += static_cast<double>(gk[i]) * static_cast<double>(gk[i]);
        lg += static_cast<double>(L.alpha[k]) * static_cast<double>(gk[k]);
    }
    for (index_t r = 0; r < R; ++r) {
        const U* br = L.B + r * D;
        for (index_t k = 0; k < D; ++k) {
            const V* gk = G.h + k * D;
            double t = 0.0;
            for (index_t i = 0; i < D; ++i) t += static_cast<double>(br[i]) * static_cast<double>(gk[i]);
            lg += t * static_cast<double>(br[k]);
        }
    }
    for (index_t i = 0; i < D; ++i) {
        double bb = 0.0;
        for (index_t r = 0; r < R; ++r) bb += static_cast<double>(L.B[i + r * D]) * static_cast<double>(L.B[i + r * D]);
        const double a = static_cast<double>(L.alpha[i]);
        ll += a * a + 2.0 * a * bb;
    }
    for (index_t r = 0; r < R; ++r)
        for (index_t q = 0; q < R; ++q) {
            double d = 0.0;
            for (index_t i = 0; i < D; ++i)
                d += static_cast<double>(L.B[i + r * D]) * static_cast<double>(L.B[i + q * D]);
            ll += d * d;
        }
    const double e = gg - 2.0 * lg + ll;
    return e > 0.0 ? e : 0.0;
}

template <class View>
inline constexpr bool is_low_rank_view_v = false;
template <class U>
inline constexpr bool is_low_rank_view_v<hessian::low_rank_view<U>> = true;

template <class A, class C>
inline constexpr bool is_low_rank_dense_pair_v = false;
template <class U, class V>
inline constexpr bool is_low_rank_dense_pair_v<hessian::low_rank_view<U>, hessian::full_view<V>> = true;
template <class U, class V>
inline constexpr bool is_low_rank_dense_pair_v<hessian::full_view<U>, hessian::low_rank_view<V>> = true;

/// ||E_{first + j} - X_j||_F^2 (or of the diagonals only).
template <class RE, class RX>
struct hessian_sq_fn {
    RE est;
    RX exact;
    index_t first;
    bool diagonal_only;
    HOSM_HOST_DEVICE double operator()(index_t j) const {
        const auto e = est.sample(first + j);
        const auto x = exact.sample(j);
        const index_t D = e.dim;
        double s = 0.0;
        using EV = decltype(e);
        using XV = decltype(x);
        if (diagonal_only || (is_diagonal_view_v<EV> && is_diagonal_view_v<XV>)) {
            for (index_t i = 0; i < D; ++i) {
                const double d = entry(e, i, i) - entry(x, i, i);
                s += d * d;
            }
            return s;
        }
        if constexpr (is_low_rank_dense_pair_v<EV, XV>) {
            if constexpr (is_low_rank_view_v<EV>)
                return low_rank_vs_dense_sq(e, x);
            else
                return low_rank_vs_dense_sq(x, e);
        }
        for (index_t k = 0; k < D; ++k)
            for (index_t i = 0; i < D; ++i) {
                const double d = entry(e, i, k) - entry(x, i, k);
                s += d * d;
            }
        return s;
    }
};

/// ||a_{first + j} - b_j||^2.
template <class U>
struct vector_sq_fn {
    batch_view<const U> a, b;
    index_t first;
    HOSM_HOST_DEVICE double operator()(index_t j) const {
        const U* aj = a.col(first + j);
        const U* bj = b.col(j);
        double s = 0.0;
        for (index_t i = 0; i < a.dim; ++i) {
            const double d = static_cast<double>(aj[i]) - static_cast<double>(bj[i]);
            s += d * d;
        }
        return s;
    }
};

/// Non-finite check of every stored number of a Hessian batch.
template <class B, class T>
void check_hessian_finite(const char* where, const char* name,
                          const hessian::batch<hessian::full, T, B>& H) {
    check_batch_finite<B>(where, name, batch_view<const T>{H.data(), H.dim() * H.dim(), H.count()});
}
template <class B, class T>
void check_hessian_finite(const char* where, const char* name,
                          const hessian::batch<hessian::diagonal, T, B>& H) {
    check_batch_finite<B>(where, name, H.diagonals());
}
template <class B, int R, class T>
void check_hessian_finite(const char* where, const char* name,
                          const hessian::batch<hessian::low_rank<R>, T, B>& H) {
    check_batch_finite<B>(where, name, H.alphas());
    check_batch_finite<B>(where, name,
                          batch_view<const T>{H.B_data(), H.dim() * H.rank(), H.count()});
}

template <class B, class S1, class S2, class T>
double hessian_sum(const hessian::batch<S1, T, B>& est, index_t first,
                   const hessian::batch<S2, T, B>& exact, bool diagonal_only) {
    return backend::transform_reduce_index<B>(
        exact.count(),
        hessian_sq_fn<decltype(make_ref(est)), decltype(make_ref(exact))>{
            make_ref(est), make_ref(exact), first, diagonal_only},
        0.0);
}

template <class Tg>
void check_target_x(const char* where, const Tg& target, index_t x_dim, index_t x_count) {
    hosm::detail::check_size(where, "x.dim", x_dim, static_cast<index_t>(target.dim()));
    hosm::detail::check_at_least(where, "x.count (number of samples N)", x_count, 1);
}

/// The target's exact Hessians at x in structure SX (full, or diagonal when
/// only diagonals are compared), formed `chunk` samples at a time and compared
/// with H_est; returns the mean over samples.
template <class SX, class Tg, class S, class T, class B>
double target_hessian_mean(const char* where, const Tg& target, batch_view<const T> x,
                           const hessian::batch<S, T, B>& est, index_t chunk, bool diagonal_only) {
    check_target_x(where, target, x.dim, x.count);
    hosm::detail::check_at_least(where, "chunk", chunk, 1);
    hosm::detail::check_size(where, "H_est.dim", est.dim(), x.dim);
    hosm::detail::check_size(where, "H_est.count", est.count(), x.count);
    check_batch_finite<B>(where, "x", x);
    check_hessian_finite<B>(where, "H_est", est);
    const index_t D = x.dim, N = x.count;
    hessian::batch<SX, T, B> H(D, std::min(chunk, N));
    double sum = 0.0;
    for (index_t j0 = 0; j0 < N; j0 += chunk) {
        const index_t n = std::min(chunk, N - j0);
        if (n != H.count()) H = hessian::batch<SX, T, B>(D, n);
        target.hessian(batch_view<const T>{x.data + j0 * D, D, n}, H);
        check_hessian_finite<B>(where, "the target's exact Hessian", H);
        sum += hessian_sum<B>(est, j0, H, diagonal_only);
    }
    return sum / static_cast<double>(N);
}

}  // namespace detail

// ---------------------------------------------------------------- first order

/// (1/N) sum_j ||s1_est_j - s1_exact_j||^2.
template <concepts::Backend B = backend::cpp, class U, class V>
    requires std::is_same_v<std::remove_const_t<U>, std::remove_const_t<V>>
double score_mse(batch_view<U> s1_est_, batch_view<V> s1_exact_) {
    using T = std::remove_const_t<U>;
    const batch_view<const T> s1_est{s1_est_.data, s1_est_.dim, s1_est_.count};
    const batch_view<const T> s1_exact{s1_exact_.data, s1_exact_.dim, s1_exact_.count};
    constexpr const char* where = "diagnostics::score_mse";
    hosm::detail::check_at_least(where, "s1_est.dim", s1_est.dim, 1);
    hosm::detail::check_at_least(where, "s1_est.count (number of samples N)", s1_est.count, 1);
    hosm::detail::check_size(where, "s1_exact.dim", s1_exact.dim, s1_est.dim);
    hosm::detail::check_size(where, "s1_exact.count", s1_exact.count, s1_est.count);
    detail::check_batch_finite<B>(where, "s1_est", s1_est);
    detail::check_batch_finite<B>(where, "s1_exact", s1_exact);
    const double s = backend::transform_reduce_index<B>(
        s1_est.count, detail::vector_sq_fn<T>{s1_est, s1_exact, 0}, 0.0);
    return s / static_cast<double>(s1_est.count);
}

/// (1/N) sum_j ||s1_est_j - target.score(x_j)||^2.
template <class Tg, class T = typename Tg::value_type>
double score_mse(const Tg& target, std::type_identity_t<batch_view<const T>> x,
                 std::type_identity_t<batch_view<const T>> s1_est) {
    using B = typename Tg::backend_type;
    constexpr const char* where = "diagnostics::score_mse";
    detail::check_target_x(where, target, x.dim, x.count);
    hosm::detail::check_size(where, "s1_est.dim", s1_est.dim, x.dim);
    hosm::detail::check_size(where, "s1_est.count", s1_est.count, x.count);
    detail::check_batch_finite<B>(where, "x", x);
    hosm::batch<T, B> exact(x.dim, x.count);
    target.score(x, exact.view());
    return score_mse<B>(s1_est, batch_view<const T>(exact.view()));
}

// --------------------------------------------------------------- second order

/// (1/N) sum_j ||H_est_j - H_exact_j||_F^2, any two structures.
template <class S1, class S2, class T, concepts::Backend B>
double hessian_mse(const hessian::batch<S1, T, B>& H_est, const hessian::batch<S2, T, B>& H_exact) {
    constexpr const char* where = "diagnostics::hessian_mse";
    hosm::detail::check_size(where, "H_exact.dim", H_exact.dim(), H_est.dim());
    hosm::detail::check_size(where, "H_exact.count", H_exact.count(), H_est.count());
    hosm::detail::check_at_least(where, "H_est.count (number of samples N)", H_est.count(), 1);
    detail::check_hessian_finite<B>(where, "H_est", H_est);
    detail::check_hessian_finite<B>(where, "H_exact", H_exact);
    return detail::hessian_sum<B>(H_est, 0, H_exact, false) / static_cast<double>(H_est.count());
}

/// (1/N) sum_j ||diag(H_est_j) - diag(H_exact_j)||^2, any two structures.
template <class S1, class S2, class T, concepts::Backend B>
double hessian_diagonal_mse(const hessian::batch<S1, T, B>& H_est,
                            const hessian::batch<S2, T, B>& H_exact) {
    constexpr const char* where = "diagnostics::hessian_diagonal_mse";
    hosm::detail::check_size(where, "H_exact.dim", H_exact.dim(), H_est.dim());
    hosm::detail::check_size(where, "H_exact.count", H_exact.count(), H_est.count());
    hosm::detail::check_at_least(where, "H_est.count (number of samples N)", H_est.count(), 1);
    detail::check_hessian_finite<B>(where, "H_est", H_est);
    detail::check_hessian_finite<B>(where, "H_exact", H_exact);
    return detail::hessian_sum<B>(H_est, 0, H_exact, true) / static_cast<double>(H_est.count());
}

/// (1/N) sum_j ||H_est_j - Hess log p(x_j)||_F^2 with p = target.
template <class Tg, class S, class T, concepts::Backend B>
double hessian_mse(const Tg& target, std::type_identity_t<batch_view<const T>> x,
                   const hessian::batch<S, T, B>& H_est, index_t chunk = 256) {
    static_assert(std::is_same_v<typename Tg::backend_type, B>,
                  "hosm::diagnostics::hessian_mse: the target and H_est must use the same back end");
    return detail::target_hessian_mean<hessian::full>("diagnostics::hessian_mse", target, x, H_est, chunk, false);
}

/// (1/N) sum_j ||diag(H_est_j) - diag(Hess log p(x_j))||^2 with p = target.
template <class Tg, class S, class T, concepts::Backend B>
double hessian_diagonal_mse(const Tg& target, std::type_identity_t<batch_view<const T>> x,
                            const hessian::batch<S, T, B>& H_est, index_t chunk = 256) {
    static_assert(std::is_same_v<typename Tg::backend_type, B>,
                  "hosm::diagnostics::hessian_diagonal_mse: the target and H_est must use the same "
                  "back end");
    return detail::target_hessian_mean<hessian::diagonal>("diagnostics::hessian_diagonal_mse", target, x, H_est, chunk,
                                       true);
}

/// The s2 head of `model` (model.forward) at x against the target's exact
/// Hessian: (1/N) sum_j ||s2(x_j) - Hess log p(x_j)||_F^2, in chunks.
template <class M, class Tg>
    requires requires(M& m, index_t n) {
        typename M::value_type;
        typename M::backend_type;
        m.make_s2(n);
    }
double hessian_mse(M& model, const Tg& target,
                   batch_view<const typename M::value_type> x, index_t chunk = 256) {
    using T = typename M::value_type;
    using B = typename M::backend_type;
    static_assert(std::is_same_v<typename Tg::backend_type, B>,
                  "hosm::diagnostics::hessian_mse: the model and the target must use the same back end");
    constexpr const char* where = "diagnostics::hessian_mse(model)";
    detail::check_target_x(where, target, x.dim, x.count);
    hosm::detail::check_size(where, "model.dim", static_cast<index_t>(model.dim()), x.dim);
    hosm::detail::check_at_least(where, "chunk", chunk, 1);
    const index_t D = x.dim, N = x.count, c = std::min(chunk, N);
    double sum = 0.0;
    for (index_t j0 = 0; j0 < N; j0 += c) {
        const index_t n = std::min(c, N - j0);
        const batch_view<const T> xc{x.data + j0 * D, D, n};
        hosm::batch<T, B> s1(D, n);
        auto s2 = model.make_s2(n);
        model.forward(xc, s1.view(), s2);
        sum += static_cast<double>(n) * hessian_mse(target, xc, s2, c);
    }
    return sum / static_cast<double>(N);
}

}  // namespace hosm::diagnostics
