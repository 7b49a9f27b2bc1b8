// hosm/objectives/kth_order.hpp — k-th order denoising score matching
// (seed 000 Theorem 4) for the DIAGONAL of the k-th score, any order K >= 1.
//
// Maths. Theorem 3: E[(x)^(tensor k) | x~] = f_k(x~, s1, ..., sk), a polynomial in
// the scores of q_sigma at x~ = x + sigma z. Theorem 4: given s1, ..., s_{k-1},
// the k-th score model minimising
//
//     E || (x)^(tensor k) - f_k(x~, s1(x~), ..., s_{k-1}(x~), s_k(x~; theta)) ||^2
//
// is the k-th score of q_sigma. hosm restricts the model and the least squares
// to the DIAGONAL entries: the model gives t_i = [s_k]_{i...i} (a D-vector per
// sample), the target entries are x_i^k, and
//
//     l = w sum_i (x_i^k - m_{k,i})^2,     m_{k,i} = E[x_i^k | x~] = [f_k]_{i...i} .
//
// Why the diagonal of f_k needs only diagonal scores. By hosm/tweedie/moments.hpp
// the posterior is an exponential family in eta = x~/sigma^2 whose cumulant
// tensors are kappa_1 = x~ + sigma^2 s1, kappa_2 = sigma^4 s2 + sigma^2 I,
// kappa_n = sigma^(2n) s_n (n >= 3), and the raw moments follow by
//
//     m_n(i1, ..., in) = sum_{S subset {2..n}} kappa_{|S|+1}(i1, i_S) m_{n-1-|S|}(i_rest).
//
// On a diagonal entry (i1 = ... = in = i) every factor is itself a diagonal
// entry, and C(n-1, j) subsets have |S| = j, so the recursion is the 1-d
// moment-from-cumulant formula with kappa_{n,i} = [kappa_n]_{i...i}:
//
//     m_{0,i} = 1,   m_{n,i} = sum_{j=0}^{n-1} C(n-1, j) kappa_{j+1,i} m_{n-1-j,i},
//
// kappa_{1,i} = x~_i + sigma^2 s1_i, kappa_{2,i} = sigma^4 [s2]_ii + sigma^2,
// kappa_{n,i} = sigma^(2n) [s_n]_{i..i}. (tests/objectives/kth_order.test.cpp
// checks it against tweedie::posterior_moments on full random score tensors.)
//
// Gradient. m_{k,i} is affine in kappa_{k,i} with coefficient C(k-1, k-1) m_0 = 1,
// and kappa_{k,i} = sigma^(2k) t_i, so
//
//     dl/dt_i = -2 w sigma^(2k) (x_i^k - m_{k,i}).
//
// Weighting w: weighting::moment (default) is Theorem 4 as written, w = 1;
// weighting::score takes w = sigma^(-4k), which measures the residual in units of
// the k-th score (same minimiser): for k = 1 it gives || s1 + z/sigma ||^2 = 2 l_DSM
// (Eq. 6), and the gradient in t is O(1/sigma) like DSM's instead of O(sigma^(2k)).
// The residual x_i^k - m_{k,i} is a difference of O(|x|^k) numbers that is
// O(sigma) small: in float, keep sigma moderate (relative rounding ~ eps / sigma).
// Batch: L = (1/N) sum_j l_j, dL/dt_j = (1/N) dl_j/dt_j.
//
// API (x, z, gk and every score: D x N batch views in B's memory; B defaults
// to backend::cpp):
//
//   objectives::kth_order<K, T> obj{sigma [, kth_order<K, T>::weighting::score]};
//   obj.sigma(), obj.weight()   (w)
//   scores = std::array<batch_view<const T>, K>{s1, diag s2, ..., diag sK}
//            (scores[n-1] column j: [s_n]_{i..i} at x~_j, i = 0..D-1)
//   T loss<B>(obj, x, z, scores)
//   T loss_and_gradient<B>(obj, x, z, scores, gk)        gk = dL/d diag(s_K)
//
// x is the clean data, z the noise (x~ = x + sigma z is formed inside). gk must
// not overlap the inputs. Errors (hosm::error naming the function and
// argument): sigma not finite and > 0; D < 1 or N < 1; z, gk or a score not
// D x N like x; gk overlapping an input; non-finite x or z; a non-finite
// loss (names the score).
#pragma once
#include <array>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/objectives/detail/checks.hpp>

namespace hosm::objectives {

/// k-th order DSM on the diagonal of s_K (seed 000 Theorem 4).
template <int K, class T>
class kth_order {
    static_assert(K >= 1, "hosm::objectives::kth_order<K, T>: the order K must be >= 1");

public:
    using value_type = T;
    static constexpr int order = K;
    /// moment: w = 1 (Theorem 4 as written); score: w = sigma^(-4K).
    enum class weighting { moment, score };

    explicit kth_order(T sigma, weighting w = weighting::moment) : sigma_(sigma), w_(w) {
        hosm::detail::check_positive("objectives::kth_order", "sigma", sigma);
    }
    T sigma() const { return sigma_; }
    weighting weighting_kind() const { return w_; }
    /// The weight w of the squared residual.
    T weight() const {
        if (w_ == weighting::moment) return T(1);
        const T v = sigma_ * sigma_;
        T p = T(1);
        for (int n = 0; n < 2 * K; ++n) p *= v;
        return T(1) / p;
    }

private:
    T sigma_;
    weighting w_;
};

namespace detail {

/// The K score diagonals {s1, diag s2, ..., diag sK} (a non-deduced parameter type).
template <int K, class T>
using score_array = std::array<batch_view<const T>, static_cast<std::size_t>(K)>;

/// m_{K} = E[y^K | x~] for one coordinate from its diagonal cumulants
/// kappa[1..K] (kappa[0] unused), by the 1-d recursion of the header.
template <int K, class T>
HOSM_HOST_DEVICE inline T moment_from_cumulants_1d(const T* kappa) {
    T m[K + 1];
    T row[K];  // binomial row C(n-1, .)
    m[0] = T(1);
    row[0] = T(1);
    for (int n = 1; n <= K; ++n) {
        if (n > 1) {  // row(n-1) from row(n-2)
            row[n - 1] = T(1);
            for (int j = n - 2; j >= 1; --j) row[j] += row[j - 1];
        }
        T s = T(0);
        for (int j = 0; j < n; ++j) s += row[j] * kappa[j + 1] * m[n - 1 - j];
        m[n] = s;
    }
    return m[K];
}

template <int K, class T>
struct kth_order_fn {
    batch_view<const T> x, z;
    batch_view<const T> s[K];
    batch_view<T> gk;
    T sigma, w, scale;
    bool grad;
    HOSM_HOST_DEVICE T operator()(index_t j) const {
        const T var = sigma * sigma;
        T sig2k = T(1);  // sigma^(2K)
        for (int n = 0; n < K; ++n) sig2k *= var;
        const T *xj = x.col(j), *zj = z.col(j);
        T l = T(0);
        for (index_t i = 0; i < x.dim; ++i) {
            const T xt = xj[i] + sigma * zj[i];
            T kappa[K + 1];
            kappa[0] = T(0);
            T p = var;  // sigma^(2n)
            for (int n = 1; n <= K; ++n) {
                const T sn = s[n - 1].col(j)[i];
                kappa[n] = n == 1 ? xt + var * sn : p * sn + (n == 2 ? var : T(0));
                p *= var;
            }
            T xk = T(1);
            for (int n = 0; n < K; ++n) xk *= xj[i];
            const T r = xk - moment_from_cumulants_1d<K, T>(kappa);
            l += r * r;
            if (grad) gk.col(j)[i] = T(-2) * w * sig2k * r * scale;
        }
        return w * l;
    }
};

template <concepts::Backend B, int K, class T>
T run_kth_order(const char* where, const kth_order<K, T>& obj, batch_view<const T> x,
                batch_view<const T> z, const std::array<batch_view<const T>, K>& scores,
                batch_view<T> gk, bool grad) {
    const index_t D = x.dim, N = x.count;
    hosm::detail::check_at_least(where, "x.dim (the dimension D)", D, 1);
    hosm::detail::check_at_least(where, "x.count (the batch size N)", N, 1);
    check_view<T>(where, "z", z, D, N);
    std::string names[K];
    for (int n = 0; n < K; ++n) {
        names[n] = "scores[" + std::to_string(n) + "] (diag s" + std::to_string(n + 1) + ")";
        check_view<T>(where, names[n].c_str(), scores[static_cast<std::size_t>(n)], D, N);
    }
    if (grad) {
        check_view<T>(where, "gk", gk, D, N);
        std::vector<named_view<T>> in{{"x", x}, {"z", z}};
        for (int n = 0; n < K; ++n) in.push_back({names[n], scores[static_cast<std::size_t>(n)]});
        check_disjoint<T>(where, in, {{"gk", gk}});
    }
    check_finite<B>(where, "x", x);
    check_finite<B>(where, "z", z);
    kth_order_fn<K, T> f{x, z, {}, gk, obj.sigma(), obj.weight(), T(1) / static_cast<T>(N), grad};
    for (int n = 0; n < K; ++n) f.s[n] = scores[static_cast<std::size_t>(n)];
    const T loss = mean_of_samples<B, T>(N, f);
    return finish(where, loss, [&] {
        for (int n = 0; n < K; ++n)
            check_finite<B>(where, names[n].c_str(), scores[static_cast<std::size_t>(n)]);
    });
}

}  // namespace detail

/// L = (1/N) sum_j w sum_i (x_ij^K - E[x_ij^K | x~_j])^2 (Theorem 4, diagonal).
template <concepts::Backend B = backend::cpp, int K, class T>
T loss(const kth_order<K, T>& obj, std::type_identity_t<batch_view<const T>> x,
       std::type_identity_t<batch_view<const T>> z,
       const std::type_identity_t<detail::score_array<K, T>>& scores) {
    return detail::run_kth_order<B, K, T>("objectives::loss(kth_order)", obj, x, z, scores, {},
                                          false);
}

/// L as in loss(); gk = dL/d diag(s_K) = -2 w sigma^(2K) (x^K - m_K) / N.
template <concepts::Backend B = backend::cpp, int K, class T>
T loss_and_gradient(const kth_order<K, T>& obj, std::type_identity_t<batch_view<const T>> x,
                    std::type_identity_t<batch_view<const T>> z,
                    const std::type_identity_t<detail::score_array<K, T>>& scores,
                    std::type_identity_t<batch_view<T>> gk) {
    return detail::run_kth_order<B, K, T>("objectives::loss_and_gradient(kth_order)", obj, x, z,
                                          scores, gk, true);
}

}  // namespace hosm::objectives
