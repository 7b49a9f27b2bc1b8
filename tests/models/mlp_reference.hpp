// Test support for tests/models: a straightforward per-sample Eigen evaluation
// of an MLP read from the documented flat parameter layout (W_l out x in
// column-major, then b_l, layer after layer), and a central-difference helper.
#pragma once
#include <cmath>
#include <vector>

#include <hosm/core/eigen.hpp>
#include <hosm/models/activation.hpp>

namespace hosm_test {

using hosm::index_t;

/// y = MLP(x) for one sample.
template <class T>
hosm::vector<T> mlp_reference(const std::vector<index_t>& sizes, hosm::models::activation act,
                              const T* p, const hosm::vector<T>& x) {
    hosm::vector<T> a = x;
    index_t off = 0;
    const index_t L = static_cast<index_t>(sizes.size()) - 1;
    for (index_t l = 0; l < L; ++l) {
        const index_t in = sizes[l], out = sizes[l + 1];
        Eigen::Map<const hosm::matrix<T>> W(p + off, out, in);
        Eigen::Map<const hosm::vector<T>> b(p + off + out * in, out);
        off += out * (in + 1);
        hosm::vector<T> z = W * a + b;
        if (l + 1 < L)
            hosm::models::visit_activation(act, [&](auto tag) {
                for (index_t i = 0; i < out; ++i) z[i] = decltype(tag)::value(z[i]);
            });
        a = z;
    }
    return a;
}

/// Column by column over a D x N batch.
template <class T>
hosm::matrix<T> mlp_reference(const std::vector<index_t>& sizes, hosm::models::activation act,
                              const T* p, const hosm::matrix<T>& x) {
    hosm::matrix<T> y(sizes.back(), x.cols());
    for (index_t j = 0; j < x.cols(); ++j)
        y.col(j) = mlp_reference<T>(sizes, act, p, hosm::vector<T>(x.col(j)));
    return y;
}

/// Central difference of f at v[k] with step h (1 + |v[k]|) (v restored after).
template <class F>
double central_difference(double* v, index_t k, double h, F&& f) {
    const double v0 = v[k], step = h * (1.0 + std::fabs(v0));
    v[k] = v0 + step;
    const double fp = f();
    v[k] = v0 - step;
    const double fm = f();
    v[k] = v0;
    return (fp - fm) / (2 * step);
}

}  // namespace hosm_test
