// hosm/models/detail/activation_host.hpp — vectorised host versions of the
// per-sample activation kernels of mlp_layers (host back ends only).
//
// The HOSM_HOST_DEVICE functors of mlp_layers.hpp evaluate f and f' one
// scalar at a time with <cmath>, which the compiler cannot vectorise (log1p,
// exp are library calls): for a 256-wide softplus layer that costs more than
// the layer's GEMM. On host back ends mlp_layers calls these instead. They take
// a column of n entries in chunks of C = 16 as fixed-size Eigen arrays, so
// Eigen's SIMD exp / log1p / tanh (pexp, plog1p, ptanh) are used whatever the
// pointer's alignment; the tail of a column is padded into a full chunk, so
// every entry goes through the same code path (results do not depend on the
// alignment of the buffers, the batch size or the back end's thread count).
//
// Formulas (those of activation.hpp; e = exp(-|x|), never exp(+|x|)), branch-
// free so that Eigen vectorises them (its select is not vectorised in 3.4):
//   softplus   f = max(x, 0) + log1p(e),   f' = min(e + max(x, 0), 1) / (1 + e)
//              (= 1/(1+e) for x >= 0, e/(1+e) for x < 0); for float, log1p
//              of e in [0, 1] is a degree-9 polynomial (see log1p_unit)
//   elu        f = max(x, 0) + expm1(min(x, 0)),  f' = exp(min(x, 0))
//   silu       s = f'(softplus),  f = x s,  f' = s (1 + x (1 - s))
//   tanh       t = tanh(x),  f' = 1 - t^2
//   identity   f = x,  f' = 1
// They agree with the scalar versions to a few units in the last place (Eigen's
// packet exp / log1p / tanh against libm's), except where the scalar formula
// itself loses relative precision (tanh' = 1 - t^2 near saturation: a few ulp
// of 1, as in the scalar version) and below the smallest normal number (exp is
// cut to 0 there, see exp_floor).
//
//   host_bias_activation<A>(z, a, b, n)   z += b; a = f(z)     (one column)
//   host_derivative<A>(z, d, n)           d = f'(z)
//   host_mul_derivative<A>(z, d, n)       d *= f'(z)
#pragma once
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include <hosm/core/types.hpp>
#include <hosm/models/activation.hpp>

namespace hosm::models::detail {

template <class T>
using act_chunk = Eigen::Array<T, 16, 1>;

/// exp(x), exactly 0 below lo = log(smallest normal) (where libm's result is
/// subnormal or 0, so they differ by less than that number): the argument is
/// clamped at lo and the result multiplied by min(max((x - lo) 1e30, 0), 1),
/// which is 1 for every float or double x > lo and 0 for x <= lo — a
/// branch-free cut-off that Eigen vectorises (Eigen 3.4's packet exp is not
/// specified below lo, and its select is not vectorised).
template <class X>
inline X exp_floor(const X& x) {
    using T = typename X::Scalar;
    static const T lo = std::log(std::numeric_limits<T>::min());
    return x.max(lo).exp() * ((x - lo) * T(1e30)).max(T(0)).min(T(1));
}

template <class A>
struct host_act;

template <>
struct host_act<activations::identity> {
    template <class X>
    static auto value(const X& x) { return x; }
    template <class X>
    static auto derivative(const X&) { return X::Ones(); }
};

template <>
struct host_act<activations::softplus> {
    template <class X>
    static X value(const X& x) {
        const X e = exp_floor(X(-x.abs()));
        return x.max(typename X::Scalar(0)) + log1p_unit(e);
    }
    template <class X>
    static X derivative(const X& x) {
        // 1/(1+e) for x >= 0, e/(1+e) for x < 0, written without a select
        // (Eigen 3.4 evaluates select one entry at a time) and with one exp:
        // the numerator min(e + max(x, 0), 1) is e for x < 0 and 1 for
        // x >= 0, since exp(-x) + x >= 1 (rounding can leave it 1 ulp below 1)
        using T = typename X::Scalar;
        const X e = exp_floor(X(-x.abs()));
        return (e + x.max(T(0))).min(T(1)) / (T(1) + e);
    }

  private:
    /// log1p(e) for e in [0, 1]. float: e P(e), P the degree-9 Chebyshev
    /// interpolant of log1p(e)/e on [0, 1] in Horner form; with float
    /// coefficients and arithmetic it is within 2.7 * 2^-24 of log1p(e)
    /// relative (measured on 2e6 points of [0, 1] against double log1p).
    /// With the exp before it, softplus costs 0.61 ns an entry against 1.69 ns
    /// with Eigen 3.4's packet log1p (a packet log and a division; Zen 4,
    /// -march=native). double keeps Eigen's log1p (it would need degree ~20).
    template <class X>
    static X log1p_unit(const X& e) {
        using T = typename X::Scalar;
        if constexpr (std::is_same_v<T, float>) {
            // Horner, highest degree first, written out (a loop over a
            // coefficient array ran slower with g++ 12 in a micro-benchmark)
            X p = X::Constant(-0.003176057015281317f);
            p = p * e + 0.019542527243956928f;
            p = p * e - 0.056373612791698516f;
            p = p * e + 0.10543623790740253f;
            p = p * e - 0.15269667071008464f;
            p = p * e + 0.19663274255764024f;
            p = p * e - 0.24951616262511345f;
            p = p * e + 0.3332971049886914f;
            p = p * e - 0.49999892648060384f;
            p = p * e + 0.9999999946562916f;
            return e * p;
        } else {
            return e.log1p();
        }
    }
};

template <>
struct host_act<activations::elu> {
    // select-free: max(x, 0) + expm1(min(x, 0)) and exp(min(x, 0)) are exactly
    // x resp. 1 for x > 0 and expm1(x) resp. exp(x) otherwise
    template <class X>
    static X value(const X& x) {
        using T = typename X::Scalar;
        return x.max(T(0)) + x.min(T(0)).expm1();
    }
    template <class X>
    static X derivative(const X& x) {
        return exp_floor(X(x.min(typename X::Scalar(0))));
    }
};

template <>
struct host_act<activations::silu> {
    template <class X>
    static X value(const X& x) { return x * host_act<activations::softplus>::derivative(x); }
    template <class X>
    static X derivative(const X& x) {
        using T = typename X::Scalar;
        const X s = host_act<activations::softplus>::derivative(x);
        return s * (T(1) + x * (T(1) - s));
    }
};

template <>
struct host_act<activations::tanh> {
    template <class X>
    static X value(const X& x) { return x.tanh(); }
    template <class X>
    static X derivative(const X& x) {
        const X t = x.tanh();
        return typename X::Scalar(1) - t * t;
    }
};

/// f(i0, chunk) over [0, n) in chunks of 16; the tail is zero-padded.
template <class T, class F>
inline void for_each_chunk(index_t n, F&& f) {
    constexpr index_t C = 16;
    index_t i = 0;
    for (; i + C <= n; i += C) f(i, C);
    if (i < n) f(i, n - i);
}

template <class T>
inline act_chunk<T> load_chunk(const T* p, index_t len) {
    if (len == 16) return Eigen::Map<const act_chunk<T>>(p);
    act_chunk<T> c = act_chunk<T>::Zero();
    std::copy(p, p + len, c.data());
    return c;
}

template <class T>
inline void store_chunk(const act_chunk<T>& c, T* p, index_t len) {
    if (len == 16) {
        Eigen::Map<act_chunk<T>> m(p);
        m = c;
    } else {
        std::copy(c.data(), c.data() + len, p);
    }
}

/// z += b; a = f(z) over one column of n entries.
template <class A, class T>
inline void host_bias_activation(T* z, T* a, const T* b, index_t n) {
    for_each_chunk<T>(n, [&](index_t i, index_t len) {
        const act_chunk<T> v = load_chunk(z + i, len) + load_chunk(b + i, len);
        store_chunk<T>(v, z + i, len);
        store_chunk<T>(host_act<A>::value(v), a + i, len);
    });
}

/// d = f'(z) over one column.
template <class A, class T>
inline void host_derivative(const T* z, T* d, index_t n) {
    for_each_chunk<T>(n, [&](index_t i, index_t len) {
        store_chunk<T>(host_act<A>::derivative(load_chunk(z + i, len)), d + i, len);
    });
}

/// d *= f'(z) over one column.
template <class A, class T>
inline void host_mul_derivative(const T* z, T* d, index_t n) {
    for_each_chunk<T>(n, [&](index_t i, index_t len) {
        const act_chunk<T> v = load_chunk(d + i, len) * host_act<A>::derivative(load_chunk(z + i, len));
        store_chunk<T>(v, d + i, len);
    });
}

}  // namespace hosm::models::detail
