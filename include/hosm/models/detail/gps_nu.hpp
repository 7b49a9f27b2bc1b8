// hosm/models/detail/gps_nu.hpp — the nu network of models::gps: its sign
// convention and how the wrapper calls it.
//
// Convention (models::gps_nu):
//   gps_nu::potential_gradient   the network outputs nu = grad phi, seed 003's nu
//                                (Eq. 5-8): nu = -grad log q_{sigma_eff} at the optimum
//   gps_nu::score                the network outputs a score s = -nu, e.g. an s1
//                                model trained by DSM at sigma_eff (mlp_score)
//
// Calling conventions the wrapper accepts for a network N with value_type T
// (checked in this order; x: D x N input, out: D x N output, g: dL/dout):
//   1. n.forward_s1(x, out), n.backward_s1(g)       models::mlp_score (the s1 head)
//   2. n.forward(x, sigma, out), n.backward(g)      noise-conditional models
//                                                   (models::sigma_mlp_score): called
//                                                   with sigma = sigma_eff
//   3. n.forward(x, out), n.backward(g)             models::mlp, or any adapter
// Its dimension is checked when it reports one: dim() for 1 and 2; input_dim()
// and output_dim(), else dim(), for 3.
#pragma once
#include <concepts>

#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/error.hpp>

namespace hosm::models {

enum class gps_nu { potential_gradient, score };

inline const char* name(gps_nu c) {
    switch (c) {
        case gps_nu::potential_gradient: return "potential_gradient";
        case gps_nu::score: return "score";
    }
    hosm::detail::fail("models::name(gps_nu)", "argument 'c' = ", static_cast<int>(c),
                       " is not a gps_nu convention");
}

namespace detail {

template <class N, class T>
concept gps_nu_s1_model = requires(N& n, batch_view<const T> x, batch_view<T> out, batch_view<const T> g) {
    n.forward_s1(x, out);
    n.backward_s1(g);
};

template <class N, class T>
concept gps_nu_sigma_model =
    requires(N& n, batch_view<const T> x, T sigma, batch_view<T> out, batch_view<const T> g) {
        n.forward(x, sigma, out);
        n.backward(g);
    };

template <class N, class T>
concept gps_nu_plain_model = requires(N& n, batch_view<const T> x, batch_view<T> out, batch_view<const T> g) {
    n.forward(x, out);
    n.backward(g);
};

template <class N, class T>
concept gps_nu_model = gps_nu_s1_model<N, T> || gps_nu_sigma_model<N, T> || gps_nu_plain_model<N, T>;

template <class T, class N>
void gps_nu_forward(N& n, batch_view<const T> x, T sigma_eff, batch_view<T> out) {
    if constexpr (gps_nu_s1_model<N, T>)
        n.forward_s1(x, out);
    else if constexpr (gps_nu_sigma_model<N, T>)
        n.forward(x, sigma_eff, out);
    else
        n.forward(x, out);
}

template <class T, class N>
void gps_nu_backward(N& n, batch_view<const T> g) {
    if constexpr (gps_nu_s1_model<N, T>)
        n.backward_s1(g);
    else
        n.backward(g);
}

/// Throws if the network reports input or output dimensions other than D.
template <class T, class N>
void gps_nu_check_dim(const char* where, const N& n, index_t D) {
    auto check = [&](const char* what, index_t got) {
        if (got != D)
            hosm::detail::fail(where, "dimension mismatch: the nu model's ", what, " is ", got,
                               ", expected the data dimension D = ", D);
    };
    if constexpr (gps_nu_s1_model<N, T> || gps_nu_sigma_model<N, T>) {
        if constexpr (requires { n.dim(); }) check("dim()", static_cast<index_t>(n.dim()));
    } else if constexpr (requires { n.input_dim(); n.output_dim(); }) {
        check("input_dim()", static_cast<index_t>(n.input_dim()));
        check("output_dim()", static_cast<index_t>(n.output_dim()));
    } else if constexpr (requires { n.dim(); }) {
        check("dim()", static_cast<index_t>(n.dim()));
    }
}

}  // namespace detail
}  // namespace hosm::models
