// hosm/models/mlp_score.hpp — an MLP score model: an s1 head and a structured s2 head.
//
//   models::mlp_score<float, hessian::low_rank<20>> m({.dim = 100}, random::stream{7, 0});
//   auto s2 = m.make_s2(N);                 // hessian::batch<low_rank<20>, float>
//   m.forward(x, s1, s2);                   // s1 ~ grad log q_sigma, s2 ~ its Hessian
//   m.zero_gradients(); m.backward(g1, g2); // gradients() += dL/dtheta
//
// s1(x; theta) in R^D models the first-order score and s2(x; theta) the second
// (seed 000, Sec. 4), s2 with a Hessian structure S:
//
//   S                  s2 head outputs n2 per sample        s2(x)
//   hessian::diagonal  D: d                                 diag(d)        (Eq. 16-17)
//   hessian::low_rank<R> D + D R: alpha, then B column-major diag(alpha) + B B^T (Sec. 4.2)
//   hessian::full      D (D + 1) / 2: the lower triangle,   H(i, j) = H(j, i) = p_k
//                      packed column by column,             k = i + j (2D - j - 1) / 2, i >= j
//
// R = hosm::dynamic takes r from the configuration. The networks are MLPs
// (see mlp_layers.hpp; activation after every layer but the last, so the heads
// are linear and s2 is unconstrained: neither alpha >= 0 nor definiteness is
// imposed, as in seed 000, where the true s2 is typically negative definite):
//
//   separate (shared_trunk = false, seed 000):  s1 = net_1(x), net_1: D -> w ... w -> D;
//       s2 raw = net_2(x), net_2: D -> w ... w -> n2 (depth dense layers each).
//   shared (shared_trunk = true): one network D -> w ... w -> D + n2 whose last
//       layer's rows [0, D) are the s1 head and rows [D, D + n2) the s2 head.
//
// Parameter layout: ONE flat vector, parameters(), in B's memory: network k
// (k = 0, and k = 1 when separate) starts at network_offset(k), with the layout
// of mlp_layers inside (network(k).weight_offset(l), .bias_offset(l)).
// gradients() has the same layout; backward adds into it.
//
// Where the heads write: the last layer is one GEMM per output block straight
// into the destination: s1 into the s1 batch, d into hessian::batch<diagonal>'s
// D x N array, alpha and B into hessian::batch<low_rank>'s alpha and B arrays
// (B's D x R block of sample j is rows D .. D + D R of that sample's head
// output). full is the exception: the packed triangle goes to a workspace and a
// per-sample functor unpacks it into the symmetric D x D matrix.
//
// API (x, s1, g1: D x N batch views; s2, g2: hessian::batch of structure S, all
// in B's memory; N may differ between calls — workspaces grow, never shrink):
//
//   forward(x, s1, s2)     both heads; caches for backward
//   forward_s1(x, s1)      the s1 head only (separate: net_1 only; shared: the
//                          trunk and the s1 rows), e.g. for DSM or sampling
//   backward(g1, g2)       g1 = dL/ds1, g2 = dL/ds2 in S's layout (diagonal:
//                          dL/dd; low_rank: dL/dalpha and dL/dB; full: dL/dH_ij
//                          for all D^2 entries taken as independent, which the
//                          model maps to the packed outputs by
//                          dL/dp_k = G_ij + G_ji (i != j), G_ii (i == j)).
//                          Needs a forward (not forward_s1) of the same batch.
//   backward_s1(g1)        s2's gradient taken as 0; after forward or forward_s1
//   backward_s2(g2)        s1's gradient taken as 0 (= backward(0, g2) without
//                          net_1's backward); after forward
//   jacobian_s1(x, J, symmetrize = false)
//                          J_j = ds1/dx at x_j, exact, by forward-mode tangents
//                          (the "autodiff of s1" baseline of seed 000, Sec. 4.4),
//                          into hessian::batch<full>: J(i, k) = ds1_i/dx_k. A
//                          learned s1 is in general NOT a gradient field, so J is
//                          NOT symmetric and is stored as computed (the D x D slot
//                          then breaks full's "both triangles equal" convention);
//                          symmetrize = true stores (J + J^T) / 2 instead, the
//                          nearest symmetric matrix in Frobenius norm.
//   jacobian_s1(x, Jd)     diag(J_j) into hessian::batch<diagonal> (computed from
//                          the full Jacobian: D tangents per sample)
//   The Jacobian passes use their own workspace: the forward cache is kept.
//
// Errors (hosm::error naming the function and argument): dim, width or depth < 1;
// rank outside [1, dim] for low_rank (or != R for a fixed R); x, s1, s2, g1, g2
// of the wrong dimension, count or rank; non-finite x, g1 or g2; backward
// without the forward it needs.
#pragma once
#include <array>
#include <span>
#include <type_traits>
#include <vector>

#include <thrust/fill.h>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/models/mlp_layers.hpp>
#include <hosm/models/mlp_score_config.hpp>
#include <hosm/random/stream.hpp>

namespace hosm::models {

namespace detail {

/// H_j(i, j') = H_j(j', i) = p_k from the packed lower triangle of sample j.
template <class T>
struct unpack_lower_fn {
    const T* p;
    T* h;
    index_t D;
    HOSM_HOST_DEVICE void operator()(index_t s) const {
        const index_t n2 = D * (D + 1) / 2;
        const T* ps = p + s * n2;
        T* hs = h + s * D * D;
        index_t k = 0;
        for (index_t j = 0; j < D; ++j)
            for (index_t i = j; i < D; ++i) {
                const T v = ps[k++];
                hs[i + j * D] = v;
                hs[j + i * D] = v;
            }
    }
};

/// dL/dp_k = G(i, j) + G(j, i) (i != j), G(i, i): the adjoint of unpack_lower_fn.
template <class T>
struct pack_lower_adjoint_fn {
    const T* g;
    T* p;
    index_t D;
    HOSM_HOST_DEVICE void operator()(index_t s) const {
        const index_t n2 = D * (D + 1) / 2;
        const T* gs = g + s * D * D;
        T* ps = p + s * n2;
        index_t k = 0;
        for (index_t j = 0; j < D; ++j)
            for (index_t i = j; i < D; ++i)
                ps[k++] = i == j ? gs[i + i * D] : gs[i + j * D] + gs[j + i * D];
    }
};

/// J_s = (J_s + J_s^T) / 2 in place.
template <class T>
struct symmetrize_fn {
    T* h;
    index_t D;
    HOSM_HOST_DEVICE void operator()(index_t s) const {
        T* hs = h + s * D * D;
        for (index_t j = 0; j < D; ++j)
            for (index_t i = j + 1; i < D; ++i) {
                const T v = (hs[i + j * D] + hs[j + i * D]) / T(2);
                hs[i + j * D] = v;
                hs[j + i * D] = v;
            }
    }
};

/// d_s = diag(J_s).
template <class T>
struct diagonal_of_fn {
    const T* h;
    T* d;
    index_t D;
    HOSM_HOST_DEVICE void operator()(index_t s) const {
        const T* hs = h + s * D * D;
        for (index_t i = 0; i < D; ++i) d[i + s * D] = hs[i + i * D];
    }
};

}  // namespace detail

template <class T, class Structure, concepts::Backend B = backend::cpp>
class mlp_score {
    static_assert(std::is_same_v<Structure, hessian::full> ||
                      std::is_same_v<Structure, hessian::diagonal> ||
                      hessian::is_low_rank_v<Structure>,
                  "hosm::models::mlp_score: Structure must be hessian::full, hessian::diagonal "
                  "or hessian::low_rank<R>");

public:
    using value_type = T;
    using structure = Structure;
    using backend_type = B;
    using vector_type = typename B::template vector<T>;
    using layers_type = mlp_layers<T, B>;
    using s2_batch = hessian::batch<Structure, T, B>;

    explicit mlp_score(const mlp_score_config& cfg, const random::stream& s = {}) : cfg_(cfg) {
        constexpr const char* where = "models::mlp_score";
        hosm::detail::check_at_least(where, "dim", cfg.dim, 1);
        hosm::detail::check_at_least(where, "width", cfg.width, 1);
        hosm::detail::check_at_least(where, "depth", cfg.depth, 1);
        (void)name(cfg.activation);
        (void)name(cfg.init);
        const index_t D = cfg.dim;
        if constexpr (hessian::is_low_rank_v<Structure>) {
            if constexpr (Structure::rank == dynamic) {
                rank_ = cfg.rank;
                hosm::detail::check_at_least(where, "rank", rank_, 1);
            } else {
                rank_ = Structure::rank;
                if (cfg.rank != 0 && cfg.rank != rank_)
                    hosm::detail::fail(where, "argument 'rank' = ", cfg.rank,
                                       " differs from the structure's fixed rank ", rank_);
            }
            if (rank_ > D)
                hosm::detail::fail(where, "argument 'rank' = ", rank_, " exceeds the dimension ", D);
            n2_ = D + D * rank_;
        } else if constexpr (std::is_same_v<Structure, hessian::diagonal>) {
            n2_ = D;
        } else {
            n2_ = D * (D + 1) / 2;
        }
        auto sizes = [&](index_t out) {
            std::vector<index_t> s{D};
            for (index_t l = 1; l < cfg.depth; ++l) s.push_back(cfg.width);
            s.push_back(out);
            return s;
        };
        if (cfg.shared_trunk) {
            nets_.emplace_back(sizes(D + n2_), cfg.activation);
            offsets_ = {0};
            ws_.resize(1);
        } else {
            nets_.emplace_back(sizes(D), cfg.activation);
            nets_.emplace_back(sizes(n2_), cfg.activation);
            offsets_ = {0, nets_[0].parameter_count()};
            ws_.resize(2);
        }
        index_t total = 0;
        for (const auto& n : nets_) total += n.parameter_count();
        params_.resize(static_cast<std::size_t>(total));
        grads_.resize(static_cast<std::size_t>(total));
        initialize(s);
        zero_gradients();
    }

    // ------------------------------------------------------------- description

    index_t dim() const { return cfg_.dim; }
    /// r for low_rank structures, 0 otherwise.
    index_t rank() const { return rank_; }
    /// Outputs of the s2 head per sample (see the table in the header).
    index_t s2_outputs() const { return n2_; }
    const mlp_score_config& config() const { return cfg_; }
    bool shared_trunk() const { return cfg_.shared_trunk; }
    /// 1 (shared trunk) or 2 (separate networks).
    index_t network_count() const { return static_cast<index_t>(nets_.size()); }
    const layers_type& network(index_t k) const { return nets_[static_cast<std::size_t>(k)]; }
    index_t network_offset(index_t k) const { return offsets_[static_cast<std::size_t>(k)]; }
    /// First output row of the s2 head in its network (D shared, 0 separate).
    index_t s2_row() const { return cfg_.shared_trunk ? cfg_.dim : 0; }
    index_t parameter_count() const { return static_cast<index_t>(params_.size()); }

    /// An s2 batch of the right shape (dim, rank) for N samples.
    s2_batch make_s2(index_t count) const {
        if constexpr (hessian::is_low_rank_v<Structure>) {
            if constexpr (Structure::rank == dynamic) return s2_batch(cfg_.dim, count, rank_);
            else return s2_batch(cfg_.dim, count);
        } else {
            return s2_batch(cfg_.dim, count);
        }
    }

    // -------------------------------------------------------------- parameters

    vector_type& parameters() { return params_; }
    const vector_type& parameters() const { return params_; }
    vector_type& gradients() { return grads_; }
    const vector_type& gradients() const { return grads_; }
    void zero_gradients() { thrust::fill(grads_.begin(), grads_.end(), T(0)); }

    /// Redraws every parameter from stream s with the configured init_scheme;
    /// parameter k of the flat vector gets random index k.
    void initialize(const random::stream& s) {
        for (std::size_t k = 0; k < nets_.size(); ++k)
            nets_[k].initialize(params_, offsets_[k], s, cfg_.init);
    }

    // ----------------------------------------------------------------- passes

    void forward(batch_view<const T> x, batch_view<T> s1, s2_batch& s2) {
        constexpr const char* where = "models::mlp_score::forward";
        check_x(where, x);
        check_s1(where, "s1", s1, x.count);
        check_s2(where, "s2", s2, x.count);
        cached_ = cache::none;
        const index_t N = x.count, D = dim();
        std::array<typename layers_type::block, 3> b2{};
        const index_t nb2 = s2_blocks(s2, N, b2);
        if (cfg_.shared_trunk) {
            std::array<typename layers_type::block, 4> all{};
            all[0] = {0, D, s1.data};
            for (index_t k = 0; k < nb2; ++k) all[static_cast<std::size_t>(k + 1)] = b2[static_cast<std::size_t>(k)];
            nets_[0].forward(p(0), x, std::span<const typename layers_type::block>(all.data(), static_cast<std::size_t>(nb2 + 1)), ws_[0]);
        } else {
            const typename layers_type::block b1{0, D, s1.data};
            nets_[0].forward(p(0), x, std::span<const typename layers_type::block>(&b1, 1), ws_[0]);
            nets_[1].forward(p(1), x, std::span<const typename layers_type::block>(b2.data(), static_cast<std::size_t>(nb2)), ws_[1]);
        }
        if constexpr (std::is_same_v<Structure, hessian::full>)
            backend::for_each_index<B>(N, detail::unpack_lower_fn<T>{raw(packed_), s2.data(), D});
        cached_ = cache::both;
        cached_count_ = N;
    }

    void forward_s1(batch_view<const T> x, batch_view<T> s1) {
        constexpr const char* where = "models::mlp_score::forward_s1";
        check_x(where, x);
        check_s1(where, "s1", s1, x.count);
        cached_ = cache::none;
        const typename layers_type::block b1{0, dim(), s1.data};
        nets_[0].forward(p(0), x, std::span<const typename layers_type::block>(&b1, 1), ws_[0]);
        cached_ = cache::s1;
        cached_count_ = x.count;
    }

    void backward(batch_view<const T> g1, const s2_batch& g2) {
        constexpr const char* where = "models::mlp_score::backward";
        if (cached_ != cache::both)
            hosm::detail::fail(where, cached_ == cache::s1
                                          ? "the last pass was forward_s1; backward needs forward (or use backward_s1)"
                                          : "no forward pass is cached; call forward first");
        const index_t N = cached_count_, D = dim();
        check_s1(where, "g1", g1, N);
        check_s2(where, "g2", g2, N);
        detail::check_finite_data<B>(where, "g1", g1.data, g1.size());
        std::array<typename layers_type::const_block, 3> b2{};
        const index_t nb2 = g2_blocks(where, g2, N, b2);
        using cspan = std::span<const typename layers_type::const_block>;
        if (cfg_.shared_trunk) {
            std::array<typename layers_type::const_block, 4> all{};
            all[0] = {0, D, g1.data};
            for (index_t k = 0; k < nb2; ++k) all[static_cast<std::size_t>(k + 1)] = b2[static_cast<std::size_t>(k)];
            nets_[0].backward(p(0), g(0), cspan(all.data(), static_cast<std::size_t>(nb2 + 1)), ws_[0]);
        } else {
            const typename layers_type::const_block b1{0, D, g1.data};
            nets_[0].backward(p(0), g(0), cspan(&b1, 1), ws_[0]);
            nets_[1].backward(p(1), g(1), cspan(b2.data(), static_cast<std::size_t>(nb2)), ws_[1]);
        }
    }

    /// backward(0, g2) without the s1 work: s1's gradient is taken as 0 (for the
    /// objectives that take s1 as given). Backward passes add, so leaving a
    /// gradient untouched is adding its 0: separate networks run net_2 only
    /// (net_1's gradients are left as they are); a shared trunk runs the trunk
    /// with the s2 output rows only.
    void backward_s2(const s2_batch& g2) {
        constexpr const char* where = "models::mlp_score::backward_s2";
        if (cached_ != cache::both)
            hosm::detail::fail(where, cached_ == cache::s1
                                          ? "the last pass was forward_s1; backward_s2 needs forward"
                                          : "no forward pass is cached; call forward first");
        const index_t N = cached_count_;
        check_s2(where, "g2", g2, N);
        std::array<typename layers_type::const_block, 3> b2{};
        const index_t nb2 = g2_blocks(where, g2, N, b2);
        using cspan = std::span<const typename layers_type::const_block>;
        const std::size_t k = cfg_.shared_trunk ? 0 : 1;
        nets_[k].backward(p(k), g(k), cspan(b2.data(), static_cast<std::size_t>(nb2)), ws_[k]);
    }

    void backward_s1(batch_view<const T> g1) {
        constexpr const char* where = "models::mlp_score::backward_s1";
        if (cached_ == cache::none)
            hosm::detail::fail(where, "no forward pass is cached; call forward or forward_s1 first");
        check_s1(where, "g1", g1, cached_count_);
        detail::check_finite_data<B>(where, "g1", g1.data, g1.size());
        const typename layers_type::const_block b1{0, dim(), g1.data};
        nets_[0].backward(p(0), g(0), std::span<const typename layers_type::const_block>(&b1, 1), ws_[0]);
    }

    /// J_j = ds1/dx at x_j into J (as computed, or (J + J^T) / 2 if symmetrize).
    void jacobian_s1(batch_view<const T> x, hessian::batch<hessian::full, T, B>& J,
                     bool symmetrize = false) {
        constexpr const char* where = "models::mlp_score::jacobian_s1";
        check_x(where, x);
        hosm::detail::check_size(where, "J.dim", J.dim(), dim());
        hosm::detail::check_size(where, "J.count", J.count(), x.count);
        const index_t D = dim();
        nets_[0].jacobian(p(0), x, 0, D, batch_view<T>{J.data(), D * D, x.count}, jacobian_ws_);
        if (symmetrize) backend::for_each_index<B>(x.count, detail::symmetrize_fn<T>{J.data(), D});
    }

    /// diag(ds1/dx) at every x_j into Jd.
    void jacobian_s1(batch_view<const T> x, hessian::batch<hessian::diagonal, T, B>& Jd) {
        constexpr const char* where = "models::mlp_score::jacobian_s1";
        check_x(where, x);
        hosm::detail::check_size(where, "J.dim", Jd.dim(), dim());
        hosm::detail::check_size(where, "J.count", Jd.count(), x.count);
        const index_t D = dim();
        detail::grow(jacobian_buffer_, D * D * x.count);
        nets_[0].jacobian(p(0), x, 0, D, batch_view<T>{raw(jacobian_buffer_), D * D, x.count}, jacobian_ws_);
        backend::for_each_index<B>(x.count, detail::diagonal_of_fn<T>{raw(jacobian_buffer_), Jd.data(), D});
    }

private:
    enum class cache { none, s1, both };

    static T* raw(vector_type& v) { return thrust::raw_pointer_cast(v.data()); }
    const T* p(std::size_t k) const { return thrust::raw_pointer_cast(params_.data()) + offsets_[k]; }
    T* g(std::size_t k) { return thrust::raw_pointer_cast(grads_.data()) + offsets_[k]; }

    void check_x(const char* where, batch_view<const T> x) const {
        hosm::detail::check_size(where, "x.dim", x.dim, dim());
        hosm::detail::check_at_least(where, "x.count", x.count, 0);
        detail::check_finite_data<B>(where, "x", x.data, x.size());
    }
    /// name is "s1" or "g1" (messages name e.g. 's1.dim').
    template <class U>
    void check_s1(const char* where, const char* name, batch_view<U> v, index_t N) const {
        if (v.dim != dim())
            hosm::detail::fail(where, "dimension mismatch: argument '", name, ".dim' has size ", v.dim,
                               ", expected ", dim());
        if (v.count != N)
            hosm::detail::fail(where, "dimension mismatch: argument '", name, ".count' has size ",
                               v.count, ", expected ", N);
    }
    /// name is "s2" or "g2".
    void check_s2(const char* where, const char* name, const s2_batch& s2, index_t N) const {
        if (s2.dim() != dim())
            hosm::detail::fail(where, "dimension mismatch: argument '", name, ".dim' has size ",
                               s2.dim(), ", expected ", dim());
        if (s2.count() != N)
            hosm::detail::fail(where, "dimension mismatch: argument '", name, ".count' has size ",
                               s2.count(), ", expected ", N);
        if constexpr (hessian::is_low_rank_v<Structure>)
            if (s2.rank() != rank_)
                hosm::detail::fail(where, "dimension mismatch: argument '", name, ".rank' is ",
                                   s2.rank(), ", expected ", rank_);
    }

    /// Output blocks of the s2 head for storage s2 (see the header).
    index_t s2_blocks(s2_batch& s2, index_t N, std::array<typename layers_type::block, 3>& b) {
        const index_t D = dim(), r0 = s2_row();
        if constexpr (std::is_same_v<Structure, hessian::diagonal>) {
            b[0] = {r0, D, s2.data()};
            return 1;
        } else if constexpr (std::is_same_v<Structure, hessian::full>) {
            detail::grow(packed_, n2_ * N);
            b[0] = {r0, n2_, raw(packed_)};
            return 1;
        } else {
            b[0] = {r0, D, s2.alpha_data()};
            b[1] = {r0 + D, D * rank_, s2.B_data()};
            return 2;
        }
    }
    index_t g2_blocks(const char* where, const s2_batch& g2, index_t N,
                      std::array<typename layers_type::const_block, 3>& b) {
        const index_t D = dim(), r0 = s2_row();
        if constexpr (std::is_same_v<Structure, hessian::diagonal>) {
            detail::check_finite_data<B>(where, "g2", g2.data(), D * N);
            b[0] = {r0, D, g2.data()};
            return 1;
        } else if constexpr (std::is_same_v<Structure, hessian::full>) {
            detail::check_finite_data<B>(where, "g2", g2.data(), D * D * N);
            detail::grow(packed_grad_, n2_ * N);
            backend::for_each_index<B>(N, detail::pack_lower_adjoint_fn<T>{g2.data(), raw(packed_grad_), D});
            b[0] = {r0, n2_, raw(packed_grad_)};
            return 1;
        } else {
            detail::check_finite_data<B>(where, "g2.alpha", g2.alpha_data(), D * N);
            detail::check_finite_data<B>(where, "g2.B", g2.B_data(), D * rank_ * N);
            b[0] = {r0, D, g2.alpha_data()};
            b[1] = {r0 + D, D * rank_, g2.B_data()};
            return 2;
        }
    }

    mlp_score_config cfg_;
    index_t rank_ = 0, n2_ = 0;
    std::vector<layers_type> nets_;
    std::vector<index_t> offsets_;
    vector_type params_, grads_;
    std::vector<typename layers_type::workspace> ws_;
    typename layers_type::workspace jacobian_ws_;
    vector_type packed_, packed_grad_, jacobian_buffer_;
    cache cached_ = cache::none;
    index_t cached_count_ = 0;
};

}  // namespace hosm::models
