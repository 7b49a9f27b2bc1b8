// hosm/diagnostics/imq_kernel.hpp — the inverse multiquadric kernel and its
// Stein kernel.
//
// IMQ kernel (Gorham & Mackey 2017, "Measuring sample quality with kernels",
// ICML, Theorem 8: with beta in (-1, 0) its KSD detects non-convergence):
//
//   k(x, y) = (c^2 + |x - y|^2)^beta,      c > 0, beta in (-1, 0),
//
// defaults c = 1, beta = -1/2. Write r = x - y and q = c^2 + |r|^2. Then
//
//   grad_x k = 2 beta q^(beta-1) r,          grad_y k = -2 beta q^(beta-1) r,
//   d^2 k / dx_i dy_i = -4 beta (beta-1) q^(beta-2) r_i^2 - 2 beta q^(beta-1),
//   tr(grad_x grad_y k) = -4 beta (beta-1) q^(beta-2) |r|^2 - 2 beta D q^(beta-1).
//
// The Stein kernel of a density p with score s = grad log p (Liu, Lee & Jordan
// 2016, "A kernelized Stein discrepancy for goodness-of-fit tests", ICML,
// Eq. 8; Chwialkowski, Strathmann & Gretton 2016) is
//
//   u_p(x, y) = s(x).s(y) k + s(x).grad_y k + s(y).grad_x k + tr(grad_x grad_y k)
//             = q^beta s(x).s(y) + 2 beta q^(beta-1) (s(y) - s(x)).(x - y)
//               - 4 beta (beta-1) q^(beta-2) |x - y|^2 - 2 beta D q^(beta-1),
//
// and on the diagonal (x = y, q = c^2): u_p(x, x) = c^(2 beta) |s(x)|^2
// - 2 beta D c^(2 beta - 2). E_{x,y ~ q} u_p(x, y) is the squared kernel Stein
// discrepancy of q from p (hosm/diagnostics/ksd.hpp).
//
//   imq_kernel<T>{c, beta}
//   k(x, y, D)                    the kernel value
//   k.stein(x, y, sx, sy, D)      u_p(x, y) with sx = s(x), sy = s(y)
//
// x, y, sx, sy point at D numbers of any floating type V; arithmetic is in T
// (double by default, so float samples keep their accuracy). Per-pair,
// HOSM_HOST_DEVICE, no allocation, no checks: validate c and beta on the host
// with check_imq (hosm::error for c <= 0 or beta outside (-1, 0)).
#pragma once
#include <cmath>

#include <hosm/config.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>

namespace hosm::diagnostics {

template <class T = double>
struct imq_kernel {
    T c = T(1);
    T beta = T(-0.5);

    /// k(x, y) = (c^2 + |x - y|^2)^beta.
    template <class V, class W>
    HOSM_HOST_DEVICE T operator()(const V* x, const W* y, index_t dim) const {
        T r2 = T(0);
        for (index_t i = 0; i < dim; ++i) {
            const T r = static_cast<T>(x[i]) - static_cast<T>(y[i]);
            r2 += r * r;
        }
        return std::pow(c * c + r2, beta);
    }

    /// The Stein kernel u_p(x, y) given the scores sx = s(x), sy = s(y).
    template <class V, class W>
    HOSM_HOST_DEVICE T stein(const V* x, const V* y, const W* sx, const W* sy,
                             index_t dim) const {
        T r2 = T(0), ss = T(0), dr = T(0);
        for (index_t i = 0; i < dim; ++i) {
            const T r = static_cast<T>(x[i]) - static_cast<T>(y[i]);
            const T a = static_cast<T>(sx[i]), b = static_cast<T>(sy[i]);
            r2 += r * r;
            ss += a * b;
            dr += (b - a) * r;
        }
        const T q = c * c + r2;
        const T qb = std::pow(q, beta);  // q^beta
        const T qb1 = qb / q;            // q^(beta-1)
        const T qb2 = qb1 / q;           // q^(beta-2)
        return qb * ss + T(2) * beta * qb1 * dr - T(4) * beta * (beta - T(1)) * qb2 * r2 -
               T(2) * beta * static_cast<T>(dim) * qb1;
    }
};

/// Host check of the kernel's parameters: c > 0 finite, -1 < beta < 0.
template <class T>
void check_imq(const char* where, const imq_kernel<T>& k) {
    hosm::detail::check_positive(where, "c", k.c);
    if (!(k.beta > T(-1) && k.beta < T(0)))
        hosm::detail::fail(where, "argument 'beta' must lie in (-1, 0), got ", k.beta);
}

}  // namespace hosm::diagnostics
