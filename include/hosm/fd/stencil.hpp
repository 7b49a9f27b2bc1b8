// hosm/fd/stencil.hpp — a symmetric finite-difference stencil as a small
// value type that kernels copy by value (host and device).
//
//   fd::stencil<T, K> s(order, {alpha_1, ..., alpha_K});   // any distinct alpha_k > 0
//   fd::stencil<T, K>::central(order)                       // alpha_k = k: classic central
//
// For g(t) = f(x + t v) it estimates the order-T derivative g^(T)(0) from the
// values of g at 0 and +-alpha_k eps (seed 002 Eq. 7; derivation, linear
// system and conditioning in hosm/fd/coefficients.hpp):
//
//   T even:  eps^-T sum_k w_k [(g(alpha_k eps) - g(0)) + (g(-alpha_k eps) - g(0))]
//   T odd:   eps^-T sum_k w_k [ g(alpha_k eps) - g(-alpha_k eps)]
//
// with truncation error O(eps^p), p = accuracy() = 2 (K - ceil(T/2) + 1).
// K = ceil(T/2) is seed 002 Theorem 1 (p = 2); each further node adds 2 to p.
// As a (2K+1)-point stencil the tap weights are w_k at +alpha_k eps, w_k (T
// even) or -w_k (T odd) at -alpha_k eps, and center_weight() at 0.
//
// K is a compile-time number because it shapes the storage (two arrays of K
// numbers); the order is a run-time number. The weights are computed in long
// double and rounded to T once, at construction, on the host.
//
// Construction (host; throws hosm::error naming the argument): order >= 1,
// K >= ceil(order / 2), nodes finite, > 0 and pairwise distinct, and a
// well-conditioned Vandermonde solve. The accessors and combine() are
// HOSM_HOST_DEVICE and do not check (k in [0, K), f_plus/f_minus hold K
// values, eps > 0).
#pragma once
#include <array>
#include <cstddef>
#include <type_traits>

#include <hosm/config.hpp>
#include <hosm/core/error.hpp>
#include <hosm/fd/coefficients.hpp>

namespace hosm::fd {

template <class T, int K>
class stencil {
    static_assert(std::is_floating_point_v<T>,
                  "hosm::fd::stencil<T, K>: T must be a floating-point type");
    static_assert(K >= 1, "hosm::fd::stencil<T, K>: K (number of node pairs) must be >= 1");

public:
    using value_type = T;
    /// Number of node pairs +-alpha_k.
    static constexpr int size = K;

    /// Order-`order` stencil on the nodes alpha_1..alpha_K (any distinct positive numbers).
    stencil(int order, const std::array<T, K>& nodes) : order_(order) {
        constexpr const char* where = "fd::stencil";
        if (order < 1) hosm::detail::fail(where, "argument 'order' = ", order, " must be >= 1");
        if (K < min_nodes(order))
            hosm::detail::fail(where, "argument 'order' = ", order, " needs at least ",
                               min_nodes(order), " node pairs, the stencil has K = ", K);
        long double a[K], beta[K], w[K];
        for (int k = 0; k < K; ++k)
            a[k] = static_cast<long double>(nodes[static_cast<std::size_t>(k)]);
        detail::solve_vandermonde(where, order, a, K, beta, w);
        long double c = 0.0L;
        for (int k = 0; k < K; ++k) {
            node_[k] = nodes[static_cast<std::size_t>(k)];
            weight_[k] = static_cast<T>(w[k]);
            c += w[k];
        }
        center_ = order % 2 == 0 ? static_cast<T>(-2.0L * c) : T(0);
    }

    /// The classic central difference of order `order` on the nodes 1, 2, ..., K.
    static stencil central(int order) {
        std::array<T, K> nodes{};
        for (int k = 0; k < K; ++k) nodes[static_cast<std::size_t>(k)] = static_cast<T>(k + 1);
        return stencil(order, nodes);
    }

    /// Derivative order T.
    HOSM_HOST_DEVICE int order() const { return order_; }
    /// p in the truncation error O(eps^p).
    HOSM_HOST_DEVICE int accuracy() const { return accuracy_order(order_, K); }
    /// alpha_k, k in [0, K).
    HOSM_HOST_DEVICE T node(int k) const { return node_[k]; }
    /// w_k, k in [0, K): the weight of the k-th pair.
    HOSM_HOST_DEVICE T weight(int k) const { return weight_[k]; }
    /// Weight of g(0) in the (2K+1)-point form: -2 sum_k w_k for even order, 0 for odd.
    HOSM_HOST_DEVICE T center_weight() const { return center_; }
    /// Whether g(0) enters (even order).
    HOSM_HOST_DEVICE bool uses_center() const { return order_ % 2 == 0; }

    /// eps^-T: the factor applied to the weighted pair sum.
    HOSM_HOST_DEVICE T scale(T eps) const {
        const T inv = T(1) / eps;
        T s = T(1);
        for (int t = 0; t < order_; ++t) s *= inv;
        return s;
    }

    /// The estimate of g^(T)(0) from f0 = g(0) (ignored for odd order),
    /// f_plus[k] = g(alpha_k eps) and f_minus[k] = g(-alpha_k eps).
    HOSM_HOST_DEVICE T combine(T f0, const T* f_plus, const T* f_minus, T eps) const {
        T acc = T(0);
        if (order_ % 2 == 0)
            for (int k = 0; k < K; ++k) acc += weight_[k] * ((f_plus[k] - f0) + (f_minus[k] - f0));
        else
            for (int k = 0; k < K; ++k) acc += weight_[k] * (f_plus[k] - f_minus[k]);
        return acc * scale(eps);
    }

private:
    int order_;
    T node_[K];
    T weight_[K];
    T center_;
};

}  // namespace hosm::fd
