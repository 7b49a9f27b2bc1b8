// hosm/tweedie/moments.hpp — generalized Tweedie: posterior moments of any
// order from the scores of the noisy density (seed 000 Theorem 3; Theorem 1,
// Eq. 9 is the second-order case).
//
// Setting. x ~ p, x~ = x + sigma z with z ~ N(0, I_D), q_sigma the density of
// x~, and s_n = grad^n log q_sigma (x~), the n-th score, a D^n tensor.
//
// Derivation. With Gaussian noise, Bayes' rule gives
//
//   p(x | x~) = p(x) N(x~; x, sigma^2 I) / q_sigma(x~)
//             = p(x) exp(-|x|^2 / (2 sigma^2)) exp(eta . x) / Z(eta),   eta = x~ / sigma^2,
//
//   Z(eta) = int p(x) exp(-|x|^2/(2 sigma^2) + eta . x) dx
//          = (2 pi sigma^2)^(D/2) q_sigma(x~) exp(|x~|^2 / (2 sigma^2)).
//
// So the posterior is an exponential family in the natural parameter eta
// with sufficient statistic x, base measure p(x) exp(-|x|^2/(2 sigma^2)) and
// log-partition A(eta) = log q_sigma(x~) + |x~|^2/(2 sigma^2) + const. The
// cumulants of such a family are the derivatives of A in eta, and
// grad_eta = sigma^2 grad_x~, so the n-th posterior cumulant tensor is
// kappa_n = sigma^(2n) grad^n_x~ [log q_sigma + |x~|^2 / (2 sigma^2)]:
//
//   kappa_1 = x~ + sigma^2 s1                     (Tweedie's formula, Eq. 4)
//   kappa_2 = sigma^4 s2 + sigma^2 I              (the covariance, Eq. 18)
//   kappa_n = sigma^(2n) s_n,   n >= 3.
//
// Raw moments m_n = E[x (x) ... (x) x | x~] (n factors) follow from the
// cumulants by differentiating M = exp(A(eta + t) - A(eta)) once in t_{i1}
// (d_{i1} M = M d_{i1} A) and then in t_{i2}, ..., t_{in} by Leibniz' rule
// over subsets:
//
//   m_n(i1, ..., in) = sum_{S subset {2..n}} kappa_{|S|+1}(i1, i_S) m_{n-1-|S|}(i_{{2..n} \ S}),
//   m_0 = 1,
//
// e.g. m_2 = kappa_2 + kappa_1 kappa_1^T (= seed 000 Eq. 9's f(x~, s1, s2)),
// m_3(ijk) = kappa_3(ijk) + kappa_2(ij) kappa_1(k) + kappa_2(ik) kappa_1(j)
//            + kappa_1(i) m_2(jk).
// Each m_n is thus a polynomial in x~, s1, ..., s_n (Theorem 3). Seed 000
// Eq. (10)'s h is m_2 - m_1 x~^T - x~ m_1^T.
//
// API (host; single sample; tensors are xt::xtensor<T, n> of shape (D, ..., D)):
//
//   tensor_ladder<T, K>   std::tuple<xt::xtensor<T, 1>, ..., xt::xtensor<T, K>>
//   posterior_cumulants<K>(x_tilde, sigma, s1, s2, ..., sK [, more])  -> (kappa_1, ..., kappa_K)
//   posterior_moments<K>(x_tilde, sigma, s1, s2, ..., sK [, more])    -> (m_1, ..., m_K)
//   moments_from_cumulants(kappa_ladder)                              -> (m_1, ..., m_K)
//
//   auto [m1, m2, m3, m4] = tweedie::posterior_moments<4>(xt, sigma, s1, s2, s3, s4);
//
// K >= 1 is a compile-time order (it fixes the tensor ranks); any K works.
// The n-th score argument must be an xt::xtensor<T, n>; scores past the K-th
// are ignored. Cost: O(D^n 2^(n-1) n) for m_n, so D^K work and memory.
// Checked (hosm::error naming the argument): sigma finite and > 0; x_tilde
// of size D >= 1; s_n of shape (D, ..., D); every entry finite.
// Results are row-major xt::xtensor<T, n>. Inputs need not be exactly
// symmetric; the recursion reads kappa_n and m_n in the index order written
// above (for symmetric inputs the moments are symmetric).
#pragma once
#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <xtensor/xtensor.hpp>

#include <hosm/core/checks.hpp>
#include <hosm/core/error.hpp>
#include <hosm/core/types.hpp>

namespace hosm::tweedie {

namespace detail {
template <class T, std::size_t... I>
auto ladder_type(std::index_sequence<I...>) -> std::tuple<xt::xtensor<T, I + 1>...>;
}  // namespace detail

/// std::tuple<xt::xtensor<T, 1>, xt::xtensor<T, 2>, ..., xt::xtensor<T, K>>.
template <class T, std::size_t K>
using tensor_ladder = decltype(detail::ladder_type<T>(std::make_index_sequence<K>{}));

namespace detail {

/// A rank-r tensor seen through its data pointer and strides (in elements).
template <class U>
struct flat_tensor {
    U* data = nullptr;
    std::vector<std::ptrdiff_t> strides;
};

template <class X>
auto flat_of(X& x) {
    flat_tensor<std::remove_reference_t<decltype(*x.data())>> f;
    f.data = x.data();
    f.strides.assign(x.strides().begin(), x.strides().end());
    return f;
}

template <class X>
std::string shape_string(const X& x) {
    std::string s = "(";
    for (std::size_t k = 0; k < x.dimension(); ++k)
        s += (k ? ", " : "") + std::to_string(x.shape()[k]);
    return s + ")";
}

template <class X>
void check_cube(const char* where, const std::string& name, const X& x, std::size_t D) {
    bool ok = true;
    for (std::size_t k = 0; k < x.dimension(); ++k) ok = ok && x.shape()[k] == D;
    if (!ok) {
        std::string want = "(";
        for (std::size_t k = 0; k < x.dimension(); ++k) want += (k ? ", " : "") + std::to_string(D);
        hosm::detail::fail(where, "dimension mismatch: argument '", name, "' has shape ",
                           shape_string(x), ", expected ", want, ")");
    }
    hosm::detail::check_all_finite(where, name.c_str(), x.data(), static_cast<index_t>(x.size()));
}

template <class T, class Tuple, std::size_t... I>
constexpr bool is_ladder(std::index_sequence<I...>) {
    return (std::is_same_v<std::remove_cvref_t<std::tuple_element_t<I, Tuple>>,
                           xt::xtensor<T, I + 1>> &&
            ...);
}

template <class T, std::size_t K>
void moments_recursion(const std::vector<flat_tensor<const T>>& kappa,
                       const std::vector<flat_tensor<T>>& m, std::size_t D) {
    // kappa[r], m[r] for r = 1..K (index 0 unused; m_0 = 1)
    std::vector<std::size_t> idx;
    for (std::size_t n = 1; n <= K; ++n) {
        idx.assign(n, 0);
        const std::size_t subsets = std::size_t{1} << (n - 1);
        for (;;) {
            T sum = T(0);
            for (std::size_t mask = 0; mask < subsets; ++mask) {
                std::size_t r = 1;  // rank of the kappa factor: 1 + |S|
                for (std::size_t b = mask; b; b >>= 1) r += b & 1u;
                const auto& kr = kappa[r];
                std::ptrdiff_t ok = kr.strides[0] * static_cast<std::ptrdiff_t>(idx[0]), om = 0;
                std::size_t qk = 1, qm = 0;
                const std::size_t rest = n - r;  // rank of the moment factor
                for (std::size_t p = 1; p < n; ++p) {
                    const auto i = static_cast<std::ptrdiff_t>(idx[p]);
                    if (mask >> (p - 1) & 1u)
                        ok += kr.strides[qk++] * i;
                    else
                        om += m[rest].strides[qm++] * i;
                }
                sum += kr.data[ok] * (rest == 0 ? T(1) : m[rest].data[om]);
            }
            std::ptrdiff_t out = 0;
            for (std::size_t p = 0; p < n; ++p)
                out += m[n].strides[p] * static_cast<std::ptrdiff_t>(idx[p]);
            m[n].data[out] = sum;
            // next multi-index (last index fastest)
            std::size_t p = n;
            while (p > 0 && ++idx[p - 1] == D) idx[--p] = 0;
            if (p == 0) break;
        }
    }
}

template <std::size_t N>
std::array<std::size_t, N> cube_shape(std::size_t D) {
    std::array<std::size_t, N> s;
    s.fill(D);
    return s;
}

/// m_1..m_K from kappa_1..kappa_K (shapes already checked).
template <class T, class Ladder, std::size_t... I>
tensor_ladder<T, sizeof...(I)> moments_impl(const Ladder& kappa, std::index_sequence<I...>) {
    constexpr std::size_t K = sizeof...(I);
    const std::size_t D = std::get<0>(kappa).shape()[0];
    tensor_ladder<T, K> m;
    ((std::get<I>(m) = xt::xtensor<T, I + 1>::from_shape(cube_shape<I + 1>(D))), ...);
    std::vector<flat_tensor<const T>> kf(K + 1);
    std::vector<flat_tensor<T>> mf(K + 1);
    ((kf[I + 1] = flat_of(std::get<I>(kappa))), ...);
    ((mf[I + 1] = flat_of(std::get<I>(m))), ...);
    moments_recursion<T, K>(kf, mf, D);
    return m;
}

/// kappa_{n} from x~, sigma and s_n (n = I + 1; shapes already checked).
template <std::size_t I, class T, class Score>
xt::xtensor<T, I + 1> cumulant(const xt::xtensor<T, 1>& x_tilde, T sigma, const Score& s) {
    const T var = sigma * sigma;
    if constexpr (I == 0) {
        return x_tilde + var * s;
    } else {
        T c = var;  // sigma^(2n)
        for (std::size_t k = 0; k < I; ++k) c *= var;
        xt::xtensor<T, I + 1> k = c * s;
        if constexpr (I == 1)
            for (std::size_t i = 0; i < x_tilde.shape()[0]; ++i) k(i, i) += var;
        return k;
    }
}

template <class T, class Scores, std::size_t... I>
tensor_ladder<T, sizeof...(I)> cumulants_impl(const char* where, const xt::xtensor<T, 1>& x_tilde,
                                              T sigma, const Scores& scores,
                                              std::index_sequence<I...>) {
    hosm::detail::check_positive(where, "sigma", sigma);
    const std::size_t D = x_tilde.shape()[0];
    hosm::detail::check_at_least(where, "x_tilde.size()", static_cast<index_t>(D), 1);
    hosm::detail::check_all_finite(where, "x_tilde", x_tilde.data(), static_cast<index_t>(D));
    (check_cube(where, "s" + std::to_string(I + 1), std::get<I>(scores), D), ...);
    return tensor_ladder<T, sizeof...(I)>{cumulant<I>(x_tilde, sigma, std::get<I>(scores))...};
}

template <std::size_t K, class T, class... S>
constexpr void static_check_scores() {
    static_assert(K >= 1, "hosm::tweedie: the order K must be >= 1");
    static_assert(sizeof...(S) >= K, "hosm::tweedie: order K needs the scores s1, ..., sK");
    static_assert(is_ladder<T, std::tuple<S...>>(std::make_index_sequence<K>{}),
                  "hosm::tweedie: the n-th score must be an xt::xtensor<T, n> (s1 rank 1, s2 rank "
                  "2, ...) with the value type T of x_tilde");
}

}  // namespace detail

/// Posterior cumulants kappa_1..kappa_K of x given x~ from the scores
/// s1..sK of q_sigma at x~ (see the header): kappa_1 = x~ + sigma^2 s1,
/// kappa_2 = sigma^4 s2 + sigma^2 I, kappa_n = sigma^(2n) s_n.
template <std::size_t K, class T, class... S>
tensor_ladder<T, K> posterior_cumulants(const xt::xtensor<T, 1>& x_tilde,
                                        std::type_identity_t<T> sigma, const S&... scores) {
    detail::static_check_scores<K, T, S...>();
    return detail::cumulants_impl("tweedie::posterior_cumulants", x_tilde, sigma,
                                  std::forward_as_tuple(scores...), std::make_index_sequence<K>{});
}

/// Raw moments m_n = E[(x)^(tensor n) | x~], n = 1..K, from the cumulants by
/// the subset recursion of the header. kappa_n must be an xt::xtensor<T, n> of
/// shape (D, ..., D) with D = kappa_1's size.
template <class T, class... X>
tensor_ladder<T, 1 + sizeof...(X)> moments_from_cumulants(
    const std::tuple<xt::xtensor<T, 1>, X...>& kappa) {
    constexpr std::size_t K = 1 + sizeof...(X);
    detail::static_check_scores<K, T, xt::xtensor<T, 1>, X...>();
    constexpr const char* where = "tweedie::moments_from_cumulants";
    const std::size_t D = std::get<0>(kappa).shape()[0];
    hosm::detail::check_at_least(where, "kappa_1.size()", static_cast<index_t>(D), 1);
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (detail::check_cube(where, "kappa_" + std::to_string(I + 1), std::get<I>(kappa), D), ...);
    }(std::make_index_sequence<K>{});
    return detail::moments_impl<T>(kappa, std::make_index_sequence<K>{});
}

/// Posterior raw moments E[(x)^(tensor n) | x~], n = 1..K (seed 000 Theorem 3),
/// from x~, sigma and the scores s1..sK of q_sigma at x~.
template <std::size_t K, class T, class... S>
tensor_ladder<T, K> posterior_moments(const xt::xtensor<T, 1>& x_tilde,
                                      std::type_identity_t<T> sigma, const S&... scores) {
    detail::static_check_scores<K, T, S...>();
    const auto kappa =
        detail::cumulants_impl("tweedie::posterior_moments", x_tilde, sigma,
                               std::forward_as_tuple(scores...), std::make_index_sequence<K>{});
    return detail::moments_impl<T>(kappa, std::make_index_sequence<K>{});
}

}  // namespace hosm::tweedie
