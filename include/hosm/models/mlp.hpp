// hosm/models/mlp.hpp — a plain multilayer perceptron that owns its parameters.
//
//   models::mlp<T, B> net({D, 256, 256, D}, activation::softplus, random::stream{7, 0});
//   net.forward(x, y);          // y = W_2 f(W_1 f(W_0 x + b_0) + b_1) + b_2, batched
//   net.backward(dy, dx);       // gradients() += dL/dtheta; dx = dL/dx (optional)
//   net.jacobian(x, J);         // J_j = dy/dx at x_j, exact, forward-mode
//
// The network, its parameter layout and every pass are those of
// models::mlp_layers (see hosm/models/mlp_layers.hpp for the formulas): sizes
// {n_0, ..., n_L}, depth L dense layers, activation f after every layer but the
// last. All parameters live in ONE flat vector of B's memory, parameters(), so
// an optimiser treats them as one array: layer l's W_l (n_{l+1} x n_l,
// column-major) starts at layers().weight_offset(l) and b_l at
// layers().bias_offset(l). gradients() has the same layout; backward adds into
// it (call zero_gradients() between optimisation steps).
//
// Initialisation: from a random::stream with an init_scheme (default
// init_scheme::pytorch, W, b ~ U(-1/sqrt(n_in), 1/sqrt(n_in)); see
// hosm/models/init_scheme.hpp); parameter k gets random index k.
//
// API (x: D x N batch, y: n_L x N, all views in B's memory):
//   forward(x, y)            caches what backward needs (in an internal workspace)
//   backward(dy, dx = {})    dy = dL/dy (n_L x N) for the last forward's batch;
//                            dx (D x N, optional) receives dL/dx
//   jacobian(x, J)           J: (n_L D) x N batch, sample j's n_L x D Jacobian
//                            column-major (uses its own workspace: the forward
//                            cache for backward is kept)
//   jvp(x, v, K, out)        v: (D K) x N, out: (n_L K) x N; out_j = J_j V_j
// Errors (hosm::error): bad sizes, dimension mismatches, non-finite x or dy,
// backward without a forward.
#pragma once
#include <span>
#include <vector>

#include <thrust/fill.h>

#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/models/activation.hpp>
#include <hosm/models/init_scheme.hpp>
#include <hosm/models/mlp_layers.hpp>
#include <hosm/random/stream.hpp>

namespace hosm::models {

template <class T, concepts::Backend B = backend::cpp>
class mlp {
public:
    using value_type = T;
    using backend_type = B;
    using vector_type = typename B::template vector<T>;
    using layers_type = mlp_layers<T, B>;

    explicit mlp(std::vector<index_t> sizes, activation act = activation::softplus,
                 const random::stream& s = {}, init_scheme scheme = init_scheme::pytorch)
        : layers_(std::move(sizes), act) {
        params_.resize(static_cast<std::size_t>(layers_.parameter_count()));
        grads_.resize(static_cast<std::size_t>(layers_.parameter_count()));
        initialize(s, scheme);
        zero_gradients();
    }

    index_t input_dim() const { return layers_.input_dim(); }
    index_t output_dim() const { return layers_.output_dim(); }
    index_t depth() const { return layers_.depth(); }
    index_t parameter_count() const { return layers_.parameter_count(); }
    activation act() const { return layers_.act(); }
    const layers_type& layers() const { return layers_; }

    vector_type& parameters() { return params_; }
    const vector_type& parameters() const { return params_; }
    vector_type& gradients() { return grads_; }
    const vector_type& gradients() const { return grads_; }
    void zero_gradients() { thrust::fill(grads_.begin(), grads_.end(), T(0)); }

    /// Redraws every parameter from stream s.
    void initialize(const random::stream& s, init_scheme scheme = init_scheme::pytorch) {
        layers_.initialize(params_, 0, s, scheme);
    }

    void forward(batch_view<const T> x, batch_view<T> y) { layers_.forward(p(), x, y, ws_); }

    void backward(batch_view<const T> dy, batch_view<T> dx = {}) {
        layers_.backward(p(), g(), dy, ws_, dx);
    }

    void jacobian(batch_view<const T> x, batch_view<T> J) {
        layers_.jacobian(p(), x, 0, output_dim(), J, tangent_ws_);
    }

    void jvp(batch_view<const T> x, batch_view<const T> v, index_t K, batch_view<T> out) {
        layers_.jvp(p(), x, v, K, 0, output_dim(), out, tangent_ws_);
    }

private:
    const T* p() const { return thrust::raw_pointer_cast(params_.data()); }
    T* g() { return thrust::raw_pointer_cast(grads_.data()); }

    layers_type layers_;
    vector_type params_, grads_;
    typename layers_type::workspace ws_, tangent_ws_;
};

}  // namespace hosm::models
