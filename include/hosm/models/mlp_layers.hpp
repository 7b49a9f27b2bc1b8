// hosm/models/mlp_layers.hpp — the layer stack of an MLP, on parameters held elsewhere.
//
// An MLP with layer sizes n_0 (input D), n_1, ..., n_L (output) and activation f:
//
//   a_{-1} = x,   z_l = W_l a_{l-1} + b_l,   a_l = f(z_l)  (l = 0 .. L-2),
//   y = z_{L-1} = W_{L-1} a_{L-2} + b_{L-1}               (no activation at the end)
//
// W_l is n_{l+1} x n_l (out x in), column-major; b_l has n_{l+1} entries. L >= 1
// is the depth (the number of dense layers; depth 3 = two hidden layers, the
// "3-layer MLP" of seed 000, Sec. 4.4).
//
// Parameter layout (one flat array, offsets relative to its start):
//   weight_offset(0) = 0,  bias_offset(l) = weight_offset(l) + n_{l+1} n_l,
//   weight_offset(l+1) = bias_offset(l) + n_{l+1};  parameter_count() = sum_l n_{l+1}(n_l + 1).
// So W_l(i, k) = p[weight_offset(l) + i + k n_{l+1}], b_l(i) = p[bias_offset(l) + i].
// Gradients use the same layout.
//
// mlp_layers owns no parameters: every pass takes a pointer to them (and to the
// gradients), so several stacks can live in one flat vector (models::mlp owns a
// single stack; models::mlp_score keeps one or two stacks in one vector). All
// pointers and views are in B's memory. Batches are D x N column-major (one
// column per sample). A `workspace` holds what a pass needs between calls and
// only grows: reusing one across calls of the same batch size allocates nothing.
//
// Passes (N samples; every matrix product is one GEMM over the whole batch,
// backend::gemm with m = out, n = N (or K N), k = in; the bias, activation and
// derivative factors are per-sample HOSM_HOST_DEVICE functors over
// backend::for_each_index<B>):
//
//   forward(p, x, blocks, ws)  y = MLP(x). The output rows are delivered as
//       `blocks` {row, rows, data}: rows [row, row + rows) of y go to `data`
//       (rows x N, column-major, leading dimension rows); blocks need not cover
//       every output row (rows not asked for are not computed). The last layer
//       is one GEMM per block on the row slice of W_{L-1}, so a head can write
//       straight into structured storage. ws caches x, z_l and a_l (l <= L-2).
//   backward(p, g, dy_blocks, ws, dx)  with G = dL/dy given for the rows in the
//       blocks (0 elsewhere) and the cache of the last forward in ws:
//         dz_{L-1} = G,  dW_l += dz_l a_{l-1}^T,  db_l += dz_l 1 (row sums),
//         da_{l-1} = W_l^T dz_l,  dz_{l-1} = da_{l-1} o f'(z_{l-1}),
//       adding into g (gradients accumulate: zero them between steps), and
//       dx = da_{-1} = dL/dx if dx.data != nullptr (overwritten, not added).
//   jvp(p, x, V, K, row, rows, out, ws)  forward-mode tangents: per sample j, V_j
//       (D x K, column-major, V stored as a (D K) x N batch) is pushed through
//         zdot_0 = W_0 V_j,  adot_l = f'(z_l) o zdot_l,  zdot_{l+1} = W_{l+1} adot_l,
//       giving out_j = J_j V_j (rows x K) for output rows [row, row + rows), with
//       J_j = dy/dx at x_j. The tangents of all samples are one (n_l x K N)
//       matrix, so each layer is one GEMM with n = K N.
//   jacobian(p, x, row, rows, out, ws)  the exact input Jacobian J_j (rows x D per
//       sample, column-major, out a (rows D) x N batch): jvp with V_j = I, where
//       zdot_0 = W_0 is written directly (no GEMM with the identity). This is the
//       "autodiff of s1" baseline of seed 000 (Sec. 4.4, Tables 1-2): exact up to
//       rounding, cost ~ D forward passes.
//   initialize(params, offset, s, scheme)  fills params[offset, offset + count)
//       (host staging, then one copy to B's memory); parameter k of the stack
//       gets random index offset + k, so stacks at distinct offsets of one vector
//       sharing a stream get independent values (see init_scheme.hpp).
//
// On host back ends (B::host_memory) the element-wise steps run as vectorised
// host kernels instead of the functors (detail/activation_host.hpp: Eigen's
// SIMD exp / log1p in fixed chunks, so results do not depend on buffer
// alignment, batch size or thread count; they match the scalar functors to a
// few ulp), the tangents are scaled column by column (contiguous), and the
// forward products W a and the backward products W^T dz with at most
// detail::small_gemm_max_n right-hand columns (a small batch; W^T dz when W has
// at least detail::small_gemm_tn_min_k<T>() rows) use detail/small_gemm.hpp,
// which reads W in place instead of repacking it on every call as a blocked
// GEMM does.
//
// Preconditions and checks (hosm::error, naming the function and argument):
// sizes has >= 2 entries, all >= 1; x.dim == n_0; x finite; dy finite; dy and
// out counts equal the batch; blocks inside [0, n_L); backward after a forward
// with the same workspace (and the same batch size). Parameters are not checked.
// Cost: forward 2 N sum_l n_l n_{l+1} flops; backward twice that; jacobian D
// times the forward of the hidden layers.
#pragma once
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include <thrust/copy.h>
#include <thrust/fill.h>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/backend/gemm.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/config.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/all_finite.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/models/activation.hpp>
#include <hosm/models/detail/activation_host.hpp>
#include <hosm/models/detail/small_gemm.hpp>
#include <hosm/models/init_scheme.hpp>
#include <hosm/random/stream.hpp>

namespace hosm::models {

namespace detail {

/// z_j += b; a_j = f(z_j) for sample j (rows entries).
template <class T, class A>
struct bias_activation_fn {
    T* z;
    T* a;
    const T* b;
    index_t rows;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        T* zj = z + j * rows;
        T* aj = a + j * rows;
        for (index_t i = 0; i < rows; ++i) {
            const T v = zj[i] + b[i];
            zj[i] = v;
            aj[i] = A::value(v);
        }
    }
};

/// y_j += b (the linear last layer).
template <class T>
struct bias_fn {
    T* y;
    const T* b;
    index_t rows;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        T* yj = y + j * rows;
        for (index_t i = 0; i < rows; ++i) yj[i] += b[i];
    }
};

/// d_j *= f'(z_j) (backward through the activation).
template <class T, class A>
struct mul_derivative_fn {
    T* d;
    const T* z;
    index_t rows;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        T* dj = d + j * rows;
        const T* zj = z + j * rows;
        for (index_t i = 0; i < rows; ++i) dj[i] *= A::derivative(zj[i]);
    }
};

/// Tangents of sample j (K columns of `rows`) scaled row-wise by f'(z_j).
template <class T, class A>
struct tangent_scale_fn {
    T* t;
    const T* z;
    index_t rows, K;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const T* zj = z + j * rows;
        T* tj = t + j * K * rows;
        for (index_t i = 0; i < rows; ++i) {
            const T fd = A::derivative(zj[i]);
            for (index_t k = 0; k < K; ++k) tj[i + k * rows] *= fd;
        }
    }
};

/// First-layer tangents along the identity: adot_0 = diag(f'(z_0j)) W_0 (rows x D).
template <class T, class A>
struct identity_tangent_fn {
    T* t;
    const T* W;
    const T* z;
    index_t rows, D;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const T* zj = z + j * rows;
        T* tj = t + j * D * rows;
        for (index_t i = 0; i < rows; ++i) {
            const T fd = A::derivative(zj[i]);
            for (index_t k = 0; k < D; ++k) tj[i + k * rows] = fd * W[i + k * rows];
        }
    }
};

/// out_j = W(row slice) for every sample: the Jacobian of a depth-1 stack.
template <class T>
struct copy_rows_fn {
    T* out;
    const T* W;  // already offset to the first row
    index_t ld, rows, D;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        T* oj = out + j * D * rows;
        for (index_t k = 0; k < D; ++k)
            for (index_t i = 0; i < rows; ++i) oj[i + k * rows] = W[i + k * ld];
    }
};

/// 1 for a non-finite entry (NaN or +-inf: x - x is NaN exactly then).
template <class T>
struct nonfinite_fn {
    const T* p;
    HOSM_HOST_DEVICE index_t operator()(index_t i) const {
        const T v = p[i];
        return (v - v == T(0)) ? index_t(0) : index_t(1);
    }
};

using hosm::detail::all_finite_host;  // core/all_finite.hpp

/// Throws hosm::error if [p, p + n) (in B's memory) holds a non-finite number.
template <concepts::Backend B, class T>
void check_finite_data(const char* where, const char* name, const T* p, index_t n) {
    if constexpr (B::host_memory) {
        if (all_finite_host(p, n)) return;
        hosm::detail::check_all_finite(where, name, p, n);  // names the first bad entry
    } else {
        const index_t bad = backend::transform_reduce_index<B>(n, nonfinite_fn<T>{p}, index_t(0));
        if (bad != 0) hosm::detail::fail(where, "argument '", name, "' has ", bad, " non-finite entries");
    }
}

template <class V>
void grow(V& v, index_t n) {
    if (static_cast<index_t>(v.size()) < n) v.resize(static_cast<std::size_t>(n));
}

}  // namespace detail

template <class T, concepts::Backend B = backend::cpp>
class mlp_layers {
public:
    using value_type = T;
    using backend_type = B;
    using vector_type = typename B::template vector<T>;

    /// Output rows [row, row + rows) stored in data (rows x N).
    struct block {
        index_t row = 0, rows = 0;
        T* data = nullptr;
    };
    /// dL/dy for output rows [row, row + rows) (rows x N).
    struct const_block {
        index_t row = 0, rows = 0;
        const T* data = nullptr;
    };

    /// Caches of one forward (input copy, z_l, a_l) and scratch for backward
    /// and tangents; grows on demand and is reused.
    class workspace {
    public:
        /// Batch size of the cached forward; -1 when nothing is cached.
        index_t count() const { return count_; }

    private:
        friend class mlp_layers;
        vector_type x_, z_, a_, d0_, d1_, t0_, t1_, ones_, fd_;
        index_t count_ = -1;
        index_t ones_filled_ = 0;
    };

    mlp_layers() = default;

    /// sizes = {n_0 (input), n_1, ..., n_L (output)}: at least two entries, all >= 1.
    mlp_layers(std::vector<index_t> sizes, activation act) : sizes_(std::move(sizes)), act_(act) {
        constexpr const char* where = "models::mlp_layers";
        if (sizes_.size() < 2)
            hosm::detail::fail(where, "argument 'sizes' has ", sizes_.size(),
                               " entries; need the input and output sizes at least");
        for (std::size_t l = 0; l < sizes_.size(); ++l)
            if (sizes_[l] < 1)
                hosm::detail::fail(where, "argument 'sizes' has entry ", sizes_[l], " at position ",
                                   l, "; every layer size must be >= 1");
        (void)name(act_);  // throws for a value outside the enum
        const index_t L = depth();
        offsets_.resize(static_cast<std::size_t>(L + 1));
        index_t off = 0, hidden = 0;
        for (index_t l = 0; l < L; ++l) {
            offsets_[l] = off;
            off += out(l) * (in(l) + 1);
            if (l < L - 1) {
                hidden_offsets_.push_back(hidden);
                hidden += out(l);
                max_hidden_ = std::max(max_hidden_, out(l));
            }
        }
        offsets_[L] = off;
        hidden_total_ = hidden;
    }

    /// Number of dense layers L.
    index_t depth() const { return static_cast<index_t>(sizes_.size()) - 1; }
    index_t input_dim() const { return sizes_.front(); }
    index_t output_dim() const { return sizes_.back(); }
    /// n_l, l in [0, L].
    index_t size(index_t l) const { return sizes_[static_cast<std::size_t>(l)]; }
    const std::vector<index_t>& sizes() const { return sizes_; }
    /// Inputs and outputs of layer l in [0, L).
    index_t in(index_t l) const { return size(l); }
    index_t out(index_t l) const { return size(l + 1); }
    index_t weight_offset(index_t l) const { return offsets_[static_cast<std::size_t>(l)]; }
    index_t bias_offset(index_t l) const { return weight_offset(l) + out(l) * in(l); }
    index_t parameter_count() const { return sizes_.empty() ? 0 : offsets_.back(); }
    activation act() const { return act_; }

    /// params[offset, offset + parameter_count()) from stream s (see the header).
    void initialize(vector_type& params, index_t offset, const random::stream& s,
                    init_scheme scheme) const {
        constexpr const char* where = "models::mlp_layers::initialize";
        hosm::detail::check_at_least(where, "offset", offset, 0);
        if (static_cast<index_t>(params.size()) < offset + parameter_count())
            hosm::detail::fail(where, "argument 'params' has size ", params.size(), ", need ",
                               offset + parameter_count());
        (void)name(scheme);
        std::vector<T> h(static_cast<std::size_t>(parameter_count()));
        for (index_t l = 0; l < depth(); ++l) {
            const index_t w0 = weight_offset(l), b0 = bias_offset(l), e = weight_offset(l) + out(l) * (in(l) + 1);
            for (index_t k = w0; k < e; ++k)
                h[static_cast<std::size_t>(k)] =
                    init_draw<T>(scheme, s, static_cast<std::uint64_t>(offset + k), in(l), out(l), k >= b0);
        }
        thrust::copy(h.begin(), h.end(), params.begin() + offset);
    }

    // ------------------------------------------------------------------ forward

    void forward(const T* params, batch_view<const T> x, std::span<const block> blocks,
                 workspace& ws) const {
        constexpr const char* where = "models::mlp_layers::forward";
        const index_t N = x.count;
        check_blocks(where, blocks);
        forward_hidden(where, params, x, ws);
        const index_t l = depth() - 1;
        const T* prev = last_input(ws);
        for (const block& bl : blocks) {
            if (bl.rows == 0 || N == 0) continue;
            const T* W = params + weight_offset(l) + bl.row;
            layer_gemm(backend::transpose::no, bl.rows, N, in(l), W, out(l), prev, in(l), T(0),
                       bl.data, bl.rows);
            backend::for_each_index<B>(N, detail::bias_fn<T>{bl.data, params + bias_offset(l) + bl.row, bl.rows});
        }
    }

    /// All outputs into y (n_L x N).
    void forward(const T* params, batch_view<const T> x, batch_view<T> y, workspace& ws) const {
        constexpr const char* where = "models::mlp_layers::forward";
        hosm::detail::check_size(where, "y.dim", y.dim, output_dim());
        hosm::detail::check_size(where, "y.count", y.count, x.count);
        const block b{0, output_dim(), y.data};
        forward(params, x, std::span<const block>(&b, 1), ws);
    }

    // ----------------------------------------------------------------- backward

    void backward(const T* params, T* grads, std::span<const const_block> blocks, workspace& ws,
                  batch_view<T> dx = {}) const {
        constexpr const char* where = "models::mlp_layers::backward";
        if (ws.count_ < 0)
            hosm::detail::fail(where, "no forward pass is cached in the workspace; call forward first");
        const index_t N = ws.count_;
        check_blocks(where, blocks);
        for (const const_block& bl : blocks) detail::check_finite_data<B>(where, "dy", bl.data, bl.rows * N);
        if (dx.data != nullptr) {
            hosm::detail::check_size(where, "dx.dim", dx.dim, input_dim());
            hosm::detail::check_size(where, "dx.count", dx.count, N);
        }
        if (N == 0) return;
        using backend::transpose;
        const index_t L = depth();
        const T* ones = ones_of(ws, N);
        T* cur = raw(ws.d0_);
        T* nxt = raw(ws.d1_);

        // last (linear) layer, block by block
        {
            const index_t l = L - 1;
            const T* prev = last_input(ws);
            T* gW = grads + weight_offset(l);
            T* gb = grads + bias_offset(l);
            const T* W = params + weight_offset(l);
            T* dA = L > 1 ? cur : dx.data;
            bool first = true;
            for (const const_block& bl : blocks) {
                if (bl.rows == 0) continue;
                backend::gemm<B>(transpose::no, transpose::yes, bl.rows, in(l), N, T(1), bl.data,
                                 bl.rows, prev, in(l), T(1), gW + bl.row, out(l));
                backend::gemm<B>(transpose::no, transpose::no, bl.rows, index_t(1), N, T(1), bl.data,
                                 bl.rows, ones, N, T(1), gb + bl.row, bl.rows);
                if (dA != nullptr)
                    layer_gemm(transpose::yes, in(l), N, bl.rows, W + bl.row, out(l), bl.data,
                               bl.rows, first ? T(0) : T(1), dA, in(l));
                first = false;
            }
            if (first && dA != nullptr)  // no rows given: dL/dy = 0
                thrust::fill(B::policy(), dA, dA + in(l) * N, T(0));
        }
        // hidden layers, top down; cur holds da_l on entry
        for (index_t l = L - 2; l >= 0; --l) {
            const index_t o = out(l), i = in(l);
            T* z = raw(ws.z_) + hidden_offsets_[static_cast<std::size_t>(l)] * N;
            visit_activation(act_, [&](auto tag) {
                using A = decltype(tag);
                if constexpr (B::host_memory) {
                    T* d = cur;
                    backend::for_each_index<B>(N, [=](index_t j) {
                        detail::host_mul_derivative<A>(z + j * o, d + j * o, o);
                    });
                } else {
                    backend::for_each_index<B>(N, detail::mul_derivative_fn<T, A>{cur, z, o});
                }
            });
            const T* prev = l > 0 ? raw(ws.a_) + hidden_offsets_[static_cast<std::size_t>(l - 1)] * N
                                  : raw(ws.x_);
            backend::gemm<B>(transpose::no, transpose::yes, o, i, N, T(1), cur, o, prev, i, T(1),
                             grads + weight_offset(l), o);
            backend::gemm<B>(transpose::no, transpose::no, o, index_t(1), N, T(1), cur, o, ones, N,
                             T(1), grads + bias_offset(l), o);
            T* dst = l > 0 ? nxt : dx.data;
            if (dst != nullptr)
                layer_gemm(transpose::yes, i, N, o, params + weight_offset(l), o, cur, o, T(0), dst, i);
            std::swap(cur, nxt);
        }
    }

    /// dL/dy for all outputs (n_L x N).
    void backward(const T* params, T* grads, batch_view<const T> dy, workspace& ws,
                  batch_view<T> dx = {}) const {
        constexpr const char* where = "models::mlp_layers::backward";
        hosm::detail::check_size(where, "dy.dim", dy.dim, output_dim());
        hosm::detail::check_size(where, "dy.count", dy.count, ws.count_ < 0 ? dy.count : ws.count_);
        const const_block b{0, output_dim(), dy.data};
        backward(params, grads, std::span<const const_block>(&b, 1), ws, dx);
    }

    // ----------------------------------------------------------------- tangents

    /// out_j = J_j V_j for output rows [row, row + rows); v is (D K) x N, out (rows K) x N.
    void jvp(const T* params, batch_view<const T> x, batch_view<const T> v, index_t K, index_t row,
             index_t rows, batch_view<T> result, workspace& ws) const {
        constexpr const char* where = "models::mlp_layers::jvp";
        hosm::detail::check_at_least(where, "K", K, 1);
        hosm::detail::check_size(where, "v.dim", v.dim, input_dim() * K);
        hosm::detail::check_size(where, "v.count", v.count, x.count);
        detail::check_finite_data<B>(where, "v", v.data, v.size());
        tangents(where, params, x, v.data, K, row, rows, result, ws);
    }

    /// out_j = J_j (rows x D, column-major) for output rows [row, row + rows); out is (rows D) x N.
    void jacobian(const T* params, batch_view<const T> x, index_t row, index_t rows,
                  batch_view<T> result, workspace& ws) const {
        tangents("models::mlp_layers::jacobian", params, x, nullptr, input_dim(), row, rows, result, ws);
    }

private:
    static T* raw(vector_type& v) { return thrust::raw_pointer_cast(v.data()); }

    template <class Block>
    void check_blocks(const char* where, std::span<const Block> blocks) const {
        for (const Block& bl : blocks)
            if (bl.row < 0 || bl.rows < 0 || bl.row + bl.rows > output_dim())
                hosm::detail::fail(where, "output block rows [", bl.row, ", ", bl.row + bl.rows,
                                   ") are outside [0, ", output_dim(), ")");
    }

    const T* ones_of(workspace& ws, index_t N) const {
        if (ws.ones_filled_ < N) {
            ws.ones_.resize(static_cast<std::size_t>(N));
            thrust::fill(ws.ones_.begin(), ws.ones_.end(), T(1));
            ws.ones_filled_ = N;
        }
        return raw(ws.ones_);
    }

    /// Input of the last layer in the cache: a_{L-2}, or x for depth 1.
    const T* last_input(workspace& ws) const {
        const index_t L = depth();
        if (L == 1) return raw(ws.x_);
        return raw(ws.a_) + hidden_offsets_[static_cast<std::size_t>(L - 2)] * ws.count_;
    }

    /// Checks x, copies it into ws and runs the hidden layers (caching z_l, a_l).
    void forward_hidden(const char* where, const T* params, batch_view<const T> x,
                        workspace& ws) const {
        hosm::detail::check_size(where, "x.dim", x.dim, input_dim());
        hosm::detail::check_at_least(where, "x.count", x.count, 0);
        detail::check_finite_data<B>(where, "x", x.data, x.size());
        const index_t N = x.count;
        ws.count_ = -1;
        detail::grow(ws.x_, input_dim() * N);
        detail::grow(ws.z_, hidden_total_ * N);
        detail::grow(ws.a_, hidden_total_ * N);
        detail::grow(ws.d0_, max_hidden_ * N);
        detail::grow(ws.d1_, max_hidden_ * N);
        if (N > 0) thrust::copy(B::policy(), x.data, x.data + x.size(), ws.x_.begin());
        const T* prev = raw(ws.x_);
        for (index_t l = 0; l + 1 < depth() && N > 0; ++l) {
            T* z = raw(ws.z_) + hidden_offsets_[static_cast<std::size_t>(l)] * N;
            T* a = raw(ws.a_) + hidden_offsets_[static_cast<std::size_t>(l)] * N;
            layer_gemm(backend::transpose::no, out(l), N, in(l), params + weight_offset(l), out(l), prev,
                       in(l), T(0), z, out(l));
            visit_activation(act_, [&](auto tag) {
                using A = decltype(tag);
                const T* b = params + bias_offset(l);
                const index_t o = out(l);
                if constexpr (B::host_memory) {
                    backend::for_each_index<B>(N, [=](index_t j) {
                        detail::host_bias_activation<A>(z + j * o, a + j * o, b, o);
                    });
                } else {
                    backend::for_each_index<B>(N, detail::bias_activation_fn<T, A>{z, a, b, o});
                }
            });
            prev = a;
        }
        ws.count_ = N;
    }

    /// Forward-mode tangents (V == nullptr: the identity, K == D).
    void tangents(const char* where, const T* params, batch_view<const T> x, const T* V, index_t K,
                  index_t row, index_t rows, batch_view<T> result, workspace& ws) const {
        using backend::transpose;
        if (row < 0 || rows < 1 || row + rows > output_dim())
            hosm::detail::fail(where, "output rows [", row, ", ", row + rows, ") are empty or outside [0, ",
                               output_dim(), ")");
        hosm::detail::check_size(where, "out.dim", result.dim, rows * K);
        hosm::detail::check_size(where, "out.count", result.count, x.count);
        forward_hidden(where, params, x, ws);
        const index_t N = x.count, D = input_dim(), L = depth(), M = K * N;
        if (N == 0) return;
        if (L == 1) {
            const T* W = params + weight_offset(0) + row;
            if (V == nullptr)
                backend::for_each_index<B>(N, detail::copy_rows_fn<T>{result.data, W, out(0), rows, D});
            else
                backend::gemm<B>(transpose::no, transpose::no, rows, M, D, T(1), W, out(0), V, D, T(0),
                                 result.data, rows);
            return;
        }
        detail::grow(ws.t0_, max_hidden_ * M);
        detail::grow(ws.t1_, max_hidden_ * M);
        T* cur = raw(ws.t0_);
        T* nxt = raw(ws.t1_);
        if constexpr (B::host_memory) detail::grow(ws.fd_, max_hidden_ * N);
        visit_activation(act_, [&](auto tag) {
            using A = decltype(tag);
            const T* z0 = raw(ws.z_);
            if (V == nullptr) {
                if constexpr (B::host_memory)
                    host_identity_tangents<A>(cur, params + weight_offset(0), z0, out(0), D, N, ws);
                else
                    backend::for_each_index<B>(
                        N, detail::identity_tangent_fn<T, A>{cur, params + weight_offset(0), z0, out(0), D});
            } else {
                backend::gemm<B>(transpose::no, transpose::no, out(0), M, D, T(1),
                                 params + weight_offset(0), out(0), V, D, T(0), cur, out(0));
                scale_tangents<A>(cur, z0, out(0), K, N, ws);
            }
            for (index_t l = 1; l + 1 < L; ++l) {
                backend::gemm<B>(transpose::no, transpose::no, out(l), M, in(l), T(1),
                                 params + weight_offset(l), out(l), cur, in(l), T(0), nxt, out(l));
                const T* z = raw(ws.z_) + hidden_offsets_[static_cast<std::size_t>(l)] * N;
                scale_tangents<A>(nxt, z, out(l), K, N, ws);
                std::swap(cur, nxt);
            }
        });
        const index_t l = L - 1;
        backend::gemm<B>(transpose::no, transpose::no, rows, M, in(l), T(1),
                         params + weight_offset(l) + row, out(l), cur, in(l), T(0), result.data, rows);
    }

    /// C = beta C + op(A) Bm (op(A) m x k, Bm k x n, beta 0 or 1): a layer's product.
    /// Host back ends, n <= small_gemm_max_n: detail/small_gemm.hpp for op(A) = A,
    /// and for op(A) = A^T when k >= small_gemm_tn_min_k; else backend::gemm.
    void layer_gemm(backend::transpose ta, index_t m, index_t n, index_t k, const T* A, index_t lda,
                    const T* Bm, index_t ldb, T beta, T* C, index_t ldc) const {
        if constexpr (B::host_memory) {
            // W^T dz: below min_k one reduction per entry of C costs more than Eigen's packing
            const bool small_nn = ta == backend::transpose::no;
            const bool small_tn = !small_nn && k >= detail::small_gemm_tn_min_k<T>();
            if (n <= detail::small_gemm_max_n && (small_nn || small_tn)) {
                if (m == 0 || n == 0) return;
                auto rows = [](index_t blocks, auto f) { backend::for_each_index<B>(blocks, f); };
                if (small_nn)
                    detail::small_gemm_nn(m, n, k, A, lda, Bm, ldb, beta, C, ldc, rows);
                else
                    detail::small_gemm_tn(m, n, k, A, lda, Bm, ldb, beta, C, ldc, rows);
                return;
            }
        }
        backend::gemm<B>(ta, backend::transpose::no, m, n, k, T(1), A, lda, Bm, ldb, beta, C, ldc);
    }

    /// Host: fd = f'(z) for all N samples (rows each) into ws.fd_.
    template <class A>
    const T* host_derivatives(const T* z, index_t rows, index_t N, workspace& ws) const {
        T* fd = raw(ws.fd_);
        backend::for_each_index<B>(N, [=](index_t j) {
            detail::host_derivative<A>(z + j * rows, fd + j * rows, rows);
        });
        return fd;
    }

    /// Tangents of every sample (K columns of `rows`) scaled row-wise by f'(z_j).
    template <class A>
    void scale_tangents(T* t, const T* z, index_t rows, index_t K, index_t N, workspace& ws) const {
        if constexpr (B::host_memory) {
            using arr = Eigen::Array<T, Eigen::Dynamic, 1>;
            const T* fd = host_derivatives<A>(z, rows, N, ws);
            backend::for_each_index<B>(N, [=](index_t j) {
                const Eigen::Map<const arr> f(fd + j * rows, rows);
                T* tj = t + j * K * rows;
                for (index_t k = 0; k < K; ++k) Eigen::Map<arr>(tj + k * rows, rows) *= f;
            });
        } else {
            backend::for_each_index<B>(N, detail::tangent_scale_fn<T, A>{t, z, rows, K});
        }
    }

    /// Host: adot_0 = diag(f'(z_0j)) W_0 for every sample (rows x D each).
    template <class A>
    void host_identity_tangents(T* t, const T* W, const T* z, index_t rows, index_t D, index_t N,
                                workspace& ws) const {
        using arr = Eigen::Array<T, Eigen::Dynamic, 1>;
        const T* fd = host_derivatives<A>(z, rows, N, ws);
        backend::for_each_index<B>(N, [=](index_t j) {
            const Eigen::Map<const arr> f(fd + j * rows, rows);
            T* tj = t + j * D * rows;
            for (index_t k = 0; k < D; ++k)
                Eigen::Map<arr>(tj + k * rows, rows) = f * Eigen::Map<const arr>(W + k * rows, rows);
        });
    }

    std::vector<index_t> sizes_;
    std::vector<index_t> offsets_;         // weight offsets, then the total
    std::vector<index_t> hidden_offsets_;  // row offset of z_l, a_l in the caches (per sample)
    index_t hidden_total_ = 0, max_hidden_ = 0;
    activation act_ = activation::softplus;
};

}  // namespace hosm::models
