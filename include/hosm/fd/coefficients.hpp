// hosm/fd/coefficients.hpp — weights of symmetric finite-difference stencils
// of any derivative order (seed 002, Lemma 1 and Theorem 1).
//
// Setting. g(t) = f(x + t v) for f: R^D -> R, a point x and a direction v; the
// T-th directional derivative is g^(T)(0) = (v . grad)^T f(x) (seed 002 Eq. 4,
// 5). A symmetric stencil samples g at the 2K + 1 points 0 and +-alpha_k eps,
// k = 1..K, with K distinct positive nodes alpha_k and a step eps > 0, and
// combines the symmetric or antisymmetric pairs (seed 002 Eq. 7):
//
//   T even:  g^(T)(0) ~ eps^-T sum_k w_k [g(alpha_k eps) + g(-alpha_k eps) - 2 g(0)]
//   T odd:   g^(T)(0) ~ eps^-T sum_k w_k [g(alpha_k eps) - g(-alpha_k eps)]
//
// Derivation of the linear system. By Taylor's theorem
//   g(h) + g(-h) - 2 g(0) = 2 sum_{m>=1} h^(2m)   g^(2m)(0)   / (2m)!
//   g(h) - g(-h)          = 2 sum_{m>=0} h^(2m+1) g^(2m+1)(0) / (2m+1)!
// so the even (odd) combination holds only even (odd) derivatives. With
// h = alpha_k eps and J = ceil(T / 2), asking the combination to reproduce
// g^(T)(0) and to cancel the other K - 1 lowest terms gives K equations:
//
//   T even (T = 2J):      sum_k w_k alpha_k^(2m)   = (T! / 2) delta_{m,J},  m = 1..K
//   T odd  (T = 2J - 1):  sum_k w_k alpha_k^(2m-1) = (T! / 2) delta_{m,J},  m = 1..K
//
// Writing w_k = (T! / 2) beta_k alpha_k^-2 (even) or (T! / 2) beta_k alpha_k^-1
// (odd), both become the seed's Vandermonde system in the squared nodes:
//
//   V^T beta = e_J,   V_{kj} = (alpha_k^2)^(j-1),  k, j = 1..K.
//
// Seed 002 Theorem 1 is the case K = J (the fewest nodes, e_J = e_K); K > J
// nodes cancel more terms. The first neglected term is m = K + 1, so the error
// is O(eps^p) with p = 2 (K - J + 1) (p = 2 for Theorem 1's minimal stencil;
// the seed states o(eps), and O(eps^2) under Lagrange remainders, Sec. 3.2).
// The stencil is exact (to rounding) on polynomials g of degree <= T + p - 1.
//
// Solving the system. V is invertible iff the squared nodes a_k = alpha_k^2
// are distinct (for positive nodes: iff the alpha_k are distinct, so any
// K >= J distinct positive nodes give a unique stencil), and its transposed
// system has a closed-form solution by Lagrange interpolation: V^T beta = e_J
// says sum_k beta_k P(a_k) = the coefficient of z^(J-1) in P for every
// polynomial P of degree < K; taking for P the Lagrange basis polynomial
// L_i(z) = prod_{m != i} (z - a_m) / (a_i - a_m) (L_i(a_k) = delta_ik) gives
//
//   beta_i = (-1)^(K-J) e_{K-J}({a_m}_{m != i}) / prod_{m != i} (a_i - a_m),
//
// e_r the elementary symmetric polynomial of degree r. hosm evaluates this in
// long double after scaling the nodes by the largest one (r_k = alpha_k /
// alpha_max; beta = beta_hat alpha_max^(-2(J-1)) undoes it exactly), with
// a_i - a_m formed as (r_i - r_m)(r_i + r_m). Since every a_m > 0, e_r is a
// sum of positive terms: no cancellation anywhere, so each beta_i (and w_k)
// is accurate to a few long double ulps however ill-conditioned V is (cond(V)
// grows like 10^K for nodes 1..K; a general LU solve, e.g. Eigen's, loses
// log10 cond(V) digits, and Eigen's long double decompositions do not compile
// under nvcc, where stencils must be usable). The tests check the result
// against Eigen's LU solve in long double and against the moment equations.
//
// Conditioning of the stencil itself. Nearly equal nodes or many nodes give
// large weights of alternating sign, which amplify the rounding errors in the
// values of f. The scale-free amplification
//   A = sum_k |w_k| alpha_max^T / (T! / 2)
// (A = 1 for the two-point stencil; 5.7 for the 5-point second derivative,
// 229 for 21 points, 1e8 for nodes 1 and 1 + 1e-8) multiplies u |f| / (alpha_max eps)^T.
// A stencil with A > 1e12 leaves fewer than about four significant digits in
// double and is refused with hosm::error ("ill-conditioned"). Independently
// of A, an order-T estimate loses about T log10(1/eps) digits to cancellation;
// choose eps accordingly (e.g. eps ~ 1e-3..1e-2 for T = 2 in double).
//
// API (host only; may throw hosm::error naming the argument):
//
//   fd::min_nodes(order)                       J = ceil(order / 2)
//   fd::accuracy_order(order, K)               p = 2 (K - J + 1)
//   fd::vandermonde_beta(order, nodes)         beta of V^T beta = e_J (seed 002 Thm 1)
//   fd::symmetric_weights(order, nodes)        the pair weights w_k above
//
// `nodes` is any sized range of arithmetic values (std::array, std::vector,
// an Eigen vector, ...) or a braced list; results are std::vector<long
// double> of K numbers. Preconditions checked: order >= 1; K = size(nodes)
// >= J; each node finite and > 0; nodes pairwise distinct; amplification
// A <= 1e12. No Eigen here: the header must stay usable from nvcc
// translation units, where stencils are built for device kernels.
#pragma once
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <ranges>
#include <type_traits>
#include <vector>

#include <hosm/core/checks.hpp>
#include <hosm/core/error.hpp>
#include <hosm/core/types.hpp>

namespace hosm::fd {

/// Fewest nodes K for a symmetric stencil of derivative order `order`:
/// ceil(order / 2) (seed 002 Thm 1: T = 2K or T = 2K - 1).
constexpr int min_nodes(int order) { return (order + 1) / 2; }

/// Order p of the truncation error O(eps^p) of a symmetric stencil with K
/// nodes for derivative order `order` (K >= min_nodes(order)).
constexpr int accuracy_order(int order, int K) { return 2 * (K - min_nodes(order) + 1); }

// Implementation note: under nvcc with --expt-relaxed-constexpr every
// constexpr function becomes __host__ __device__, and one that touches long
// double draws warning 20208 ("'long double' is treated as 'double' in device
// code"). The code a stencil<T, K> instantiates therefore uses raw arrays and
// non-constexpr functions only; std::vector<long double> appears only in the
// function templates that return one.
namespace detail {

/// Checks order and nodes; returns J = ceil(order / 2).
inline int check_stencil_args(const char* where, int order, const long double* a, std::size_t K) {
    if (order < 1) hosm::detail::fail(where, "argument 'order' = ", order, " must be >= 1");
    const int J = min_nodes(order);
    if (K < static_cast<std::size_t>(J))
        hosm::detail::fail(where, "argument 'nodes' has ", K, " entries; derivative order ", order,
                           " needs at least ", J, " (K >= ceil(order / 2), seed 002 Thm 1)");
    for (std::size_t k = 0; k < K; ++k)
        if (!(a[k] > 0.0L && a[k] <= LDBL_MAX))  // also false for NaN
            hosm::detail::fail(where, "argument 'nodes' entry ", k, " = ",
                               static_cast<double>(a[k]), " must be finite and > 0");
    for (std::size_t k = 0; k < K; ++k)
        for (std::size_t l = k + 1; l < K; ++l)
            if (a[k] == a[l])
                hosm::detail::fail(where, "argument 'nodes' entries ", k, " and ", l,
                                   " are equal (", static_cast<double>(a[k]),
                                   "); nodes must be distinct");
    return J;
}

/// Largest rounding amplification A accepted (see the header comment).
inline constexpr double max_amplification = 1e12;

/// beta[0..K) solving V^T beta = e_J, V_{kj} = (alpha_k^2)^(j-1), in closed
/// form (see the header comment), and, if w is not null, the pair weights
/// w[0..K). Checks the arguments and the amplification.
inline void solve_vandermonde(const char* where, int order, const long double* alpha, std::size_t K,
                              long double* beta, long double* w) {
    const int J = check_stencil_args(where, order, alpha, K);
    long double amax = 0.0L;
    for (std::size_t k = 0; k < K; ++k) amax = alpha[k] > amax ? alpha[k] : amax;
    const std::unique_ptr<long double[]> r(new long double[K]), e(new long double[K]);
    for (std::size_t k = 0; k < K; ++k) r[k] = alpha[k] / amax;  // in (0, 1]
    long double amplification = 0.0L;
    const std::size_t deg = K - static_cast<std::size_t>(J);
    for (std::size_t i = 0; i < K; ++i) {
        // e_0..e_{K-1} of {r_m^2 : m != i}, and prod_{m != i} (r_i^2 - r_m^2)
        for (std::size_t q = 0; q < K; ++q) e[q] = 0.0L;
        e[0] = 1.0L;
        std::size_t n = 0;
        long double den = 1.0L;
        for (std::size_t m = 0; m < K; ++m) {
            if (m == i) continue;
            const long double a = r[m] * r[m];
            ++n;
            for (std::size_t q = n; q >= 1; --q) e[q] += e[q - 1] * a;
            den *= (r[i] - r[m]) * (r[i] + r[m]);
        }
        beta[i] = (deg % 2 == 0 ? 1.0L : -1.0L) * e[deg] / den;
        amplification += std::fabs(beta[i]) / (order % 2 == 0 ? r[i] * r[i] : r[i]);
    }
    if (!(amplification <= static_cast<long double>(max_amplification)))
        hosm::detail::fail(where,
                           "argument 'nodes' gives an ill-conditioned stencil: it amplifies "
                           "rounding errors in f by ",
                           static_cast<double>(amplification), " (limit ", max_amplification,
                           "); nodes too close together or too many of them");
    // undo the scaling: sum_k beta_k (amax^2 r_k^2)^(j-1) = delta_{jJ}
    const long double undo = std::pow(amax * amax, static_cast<long double>(J - 1));
    for (std::size_t i = 0; i < K; ++i) beta[i] /= undo;
    if (w == nullptr) return;
    long double half_fact = 0.5L;  // T! / 2
    for (int t = 2; t <= order; ++t) half_fact *= static_cast<long double>(t);
    for (std::size_t k = 0; k < K; ++k)
        w[k] = half_fact * beta[k] / (order % 2 == 0 ? alpha[k] * alpha[k] : alpha[k]);
}

template <class R>
std::vector<long double> to_ld_vector(const R& nodes) {
    std::vector<long double> a;
    a.reserve(static_cast<std::size_t>(std::ranges::size(nodes)));
    for (const auto& x : nodes) a.push_back(static_cast<long double>(x));
    return a;
}

template <class R>
std::vector<long double> beta_of(const char* where, int order, const R& nodes, bool weights) {
    const auto a = to_ld_vector(nodes);
    std::vector<long double> beta(a.size()), w(a.size());
    solve_vandermonde(where, order, a.data(), a.size(), beta.data(), w.data());
    return weights ? w : beta;
}

}  // namespace detail

/// beta in R^K with V^T beta = e_J, V_{kj} = (alpha_k^2)^(j-1), J = ceil(order/2):
/// seed 002 Theorem 1's coefficients (there K = J, so e_J = e_K).
template <std::ranges::sized_range R>
    requires std::is_arithmetic_v<std::ranges::range_value_t<R>>
std::vector<long double> vandermonde_beta(int order, const R& nodes) {
    return detail::beta_of("fd::vandermonde_beta", order, nodes, false);
}
template <class U>
    requires std::is_arithmetic_v<U>
std::vector<long double> vandermonde_beta(int order, std::initializer_list<U> nodes) {
    return detail::beta_of("fd::vandermonde_beta", order, nodes, false);
}

/// The pair weights w_k of the order-`order` symmetric stencil on `nodes`:
/// g^(T)(0) ~ eps^-T sum_k w_k P_k, P_k the symmetric (T even) or
/// antisymmetric (T odd) pair at +-nodes[k] eps (see the header comment).
template <std::ranges::sized_range R>
    requires std::is_arithmetic_v<std::ranges::range_value_t<R>>
std::vector<long double> symmetric_weights(int order, const R& nodes) {
    return detail::beta_of("fd::symmetric_weights", order, nodes, true);
}
template <class U>
    requires std::is_arithmetic_v<U>
std::vector<long double> symmetric_weights(int order, std::initializer_list<U> nodes) {
    return detail::beta_of("fd::symmetric_weights", order, nodes, true);
}

}  // namespace hosm::fd
