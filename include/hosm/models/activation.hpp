// hosm/models/activation.hpp — element-wise activations of the MLP score models.
//
// Tags (empty structs in hosm::models::activations), each with three static
// HOSM_HOST_DEVICE functions of a scalar T (float or double):
//
//   A::value(x)               f(x)
//   A::derivative(x)          f'(x)    backward passes, forward-mode tangents
//   A::second_derivative(x)   f''(x)   tangents of tangents (backprop through
//                                      an input Jacobian), energy models
//
//   identity   f = x                    f' = 1                f'' = 0
//   softplus   f = log(1 + e^x)         f' = s(x)             f'' = s(x)(1 - s(x))
//   elu        f = x (x > 0),           f' = 1 (x > 0),       f'' = 0 (x > 0),
//                  e^x - 1 (x <= 0)          e^x (x <= 0)          e^x (x <= 0)
//   silu       f = x s(x)               f' = s (1 + x (1 - s))
//                                       f'' = s (1 - s) (2 + x (1 - 2 s))
//   tanh       f = t = tanh(x)          f' = 1 - t^2          f'' = -2 t (1 - t^2)
//
// with s(x) = 1 / (1 + e^-x) the logistic sigmoid. softplus is the activation of
// the synthetic-data MLPs of seed 000 (Sec. 4.4 / App. C). ELU uses alpha = 1,
// so it is C^1 but not C^2: f'' jumps from 1 to 0 at x = 0 (the value at 0 is
// the left limit, 1).
//
// Numerics: no formula overflows for any finite x. softplus is evaluated as
// max(x, 0) + log1p(e^-|x|) and the sigmoid from e^-|x| (never e^+|x|), so
// softplus(x) = x exactly for x > ~37 (double) and a positive, not underflowing
// to 0 before e^x does, value for x << 0; elu uses expm1 for accuracy near 0.
//
// The run-time selector `activation` (an enum) names one tag; visit_activation
// turns it into the tag once on the host, so per-sample kernels are compiled
// for a fixed activation (no switch inside the kernel):
//
//   visit_activation(activation::softplus, [&](auto tag) {
//       using A = decltype(tag);   // activations::softplus
//       ...
//   });
//
// name(a) gives "softplus", ... for messages.
#pragma once
#include <cmath>

#include <hosm/config.hpp>
#include <hosm/core/error.hpp>

namespace hosm::models {

/// Run-time choice of activation (configuration structs hold this).
enum class activation { identity, softplus, elu, silu, tanh };

namespace activations {

namespace detail {
/// Logistic sigmoid from e = exp(-|x|) (no overflow for any x).
template <class T>
HOSM_HOST_DEVICE inline T sigmoid_from(T x, T e) {
    return x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
}
}  // namespace detail

/// f(x) = x.
struct identity {
    static constexpr activation kind = activation::identity;
    static constexpr const char* name = "identity";
    template <class T>
    HOSM_HOST_DEVICE static T value(T x) { return x; }
    template <class T>
    HOSM_HOST_DEVICE static T derivative(T) { return T(1); }
    template <class T>
    HOSM_HOST_DEVICE static T second_derivative(T) { return T(0); }
};

/// f(x) = log(1 + e^x), f' = sigmoid(x), f'' = sigmoid(x) (1 - sigmoid(x)).
struct softplus {
    static constexpr activation kind = activation::softplus;
    static constexpr const char* name = "softplus";
    template <class T>
    HOSM_HOST_DEVICE static T value(T x) {
        const T e = std::exp(-std::fabs(x));
        return (x > T(0) ? x : T(0)) + std::log1p(e);
    }
    template <class T>
    HOSM_HOST_DEVICE static T derivative(T x) {
        return detail::sigmoid_from(x, std::exp(-std::fabs(x)));
    }
    template <class T>
    HOSM_HOST_DEVICE static T second_derivative(T x) {
        // s (1 - s) = e / (1 + e)^2 with e = exp(-|x|), symmetric in x.
        const T e = std::exp(-std::fabs(x));
        const T d = T(1) + e;
        return e / (d * d);
    }
};

/// ELU with alpha = 1: f(x) = x for x > 0, e^x - 1 otherwise.
struct elu {
    static constexpr activation kind = activation::elu;
    static constexpr const char* name = "elu";
    template <class T>
    HOSM_HOST_DEVICE static T value(T x) { return x > T(0) ? x : std::expm1(x); }
    template <class T>
    HOSM_HOST_DEVICE static T derivative(T x) { return x > T(0) ? T(1) : std::exp(x); }
    template <class T>
    HOSM_HOST_DEVICE static T second_derivative(T x) { return x > T(0) ? T(0) : std::exp(x); }
};

/// SiLU (swish): f(x) = x sigmoid(x).
struct silu {
    static constexpr activation kind = activation::silu;
    static constexpr const char* name = "silu";
    template <class T>
    HOSM_HOST_DEVICE static T value(T x) {
        return x * detail::sigmoid_from(x, std::exp(-std::fabs(x)));
    }
    template <class T>
    HOSM_HOST_DEVICE static T derivative(T x) {
        const T s = detail::sigmoid_from(x, std::exp(-std::fabs(x)));
        return s * (T(1) + x * (T(1) - s));
    }
    template <class T>
    HOSM_HOST_DEVICE static T second_derivative(T x) {
        const T s = detail::sigmoid_from(x, std::exp(-std::fabs(x)));
        return s * (T(1) - s) * (T(2) + x * (T(1) - T(2) * s));
    }
};

/// f(x) = tanh(x).
struct tanh {
    static constexpr activation kind = activation::tanh;
    static constexpr const char* name = "tanh";
    template <class T>
    HOSM_HOST_DEVICE static T value(T x) { return std::tanh(x); }
    template <class T>
    HOSM_HOST_DEVICE static T derivative(T x) {
        const T t = std::tanh(x);
        return T(1) - t * t;
    }
    template <class T>
    HOSM_HOST_DEVICE static T second_derivative(T x) {
        const T t = std::tanh(x);
        return T(-2) * t * (T(1) - t * t);
    }
};

}  // namespace activations

/// Calls f(tag) with the activation tag named by `a` and returns its result.
/// Throws hosm::error for a value outside the enum.
template <class F>
decltype(auto) visit_activation(activation a, F&& f) {
    switch (a) {
        case activation::identity: return f(activations::identity{});
        case activation::softplus: return f(activations::softplus{});
        case activation::elu: return f(activations::elu{});
        case activation::silu: return f(activations::silu{});
        case activation::tanh: return f(activations::tanh{});
    }
    hosm::detail::fail("models::visit_activation", "argument 'a' = ", static_cast<int>(a),
                       " is not an activation");
}

/// "identity", "softplus", "elu", "silu" or "tanh".
inline const char* name(activation a) {
    return visit_activation(a, [](auto tag) { return decltype(tag)::name; });
}

}  // namespace hosm::models
