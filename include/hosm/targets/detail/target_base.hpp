// hosm/targets/detail/target_base.hpp — the batched and host API shared by the
// analytic targets (CRTP base; the targets document it in their headers).
//
// Derived provides:
//   static constexpr const char* name        e.g. "targets::gaussian"
//   index_t dim() const
//   view_type view() const                   the per-sample HOSM_HOST_DEVICE view, with
//       T log_density(const T* x) const
//       void score(const T* x, T* out) const
//       void hessian(const T* x, hessian::full_view<T>, T* work) const     (and
//            diagonal_view<T>, low_rank_view<T>)
//       void sample(const random::stream&, std::uint64_t index, T* out) const
//   index_t hessian_workspace() const        scratch numbers per sample for hessian()
//   index_t low_rank_rank() const            smallest rank R for which the low-rank
//                                            form is exact (the batch's R must be >= it)
//
// The base gives, with x a D x N batch_view<const T> in B's memory:
//   sample(s, out, first)                    out D x N; column j is the draw of sample
//                                            index first + j (independent of batching)
//   log_density(x, out)                      out 1 x N
//   score(x, out)                            out D x N
//   hessian(x, H) for H a hessian::batch<full | diagonal | low_rank<R>, T, B>
//   hessian_full / hessian_diagonal / hessian_low_rank(x, H)   the same, named
// and host conveniences on hosm::matrix<T> / hosm::vector<T> (copied through B's
// memory, so they work on every back end):
//   sample(s, n, first) -> D x n
//   log_density(x) -> 1 x N,  score(x) -> D x N
//   hessian_full(x) -> D x D,  hessian_diagonal(x) -> D,
//   hessian_low_rank(x) -> {alpha (D), B (D x low_rank_rank())}     at one point x
//
// Errors (hosm::error, naming the function and argument): a batch whose shape
// does not match (D rows for x, 1 x N for log_density's out, ...); a Hessian
// batch of another dimension or count; a low-rank batch of rank below
// low_rank_rank(); a non-finite entry in x.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>
#include <thrust/copy.h>
#include <thrust/device_ptr.h>
#include <utility>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/noise/detail/batch_checks.hpp>
#include <hosm/random/stream.hpp>

namespace hosm::targets::detail {

template <class V, class T>
struct sample_fn {
    V v;
    random::stream s;
    batch_view<T> out;
    std::uint64_t first;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        v.sample(s, first + static_cast<std::uint64_t>(j), out.col(j));
    }
};

template <class V, class T>
struct log_density_fn {
    V v;
    batch_view<const T> x;
    T* out;
    HOSM_HOST_DEVICE void operator()(index_t j) const { out[j] = v.log_density(x.col(j)); }
};

template <class V, class T>
struct score_fn {
    V v;
    batch_view<const T> x;
    batch_view<T> out;
    HOSM_HOST_DEVICE void operator()(index_t j) const { v.score(x.col(j), out.col(j)); }
};

template <class V, class T>
struct hessian_full_fn {
    V v;
    batch_view<const T> x;
    T* h;
    T* work;
    index_t ws;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const index_t D = x.dim;
        v.hessian(x.col(j), hessian::full_view<T>{h + j * D * D, D}, work ? work + j * ws : work);
    }
};

template <class V, class T>
struct hessian_diagonal_fn {
    V v;
    batch_view<const T> x;
    T* d;
    T* work;
    index_t ws;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const index_t D = x.dim;
        v.hessian(x.col(j), hessian::diagonal_view<T>{d + j * D, D}, work ? work + j * ws : work);
    }
};

template <class V, class T>
struct hessian_low_rank_fn {
    V v;
    batch_view<const T> x;
    T* alpha;
    T* B;
    index_t rank;
    T* work;
    index_t ws;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const index_t D = x.dim;
        v.hessian(x.col(j), hessian::low_rank_view<T>{alpha + j * D, B + j * D * rank, D, rank},
                  work ? work + j * ws : work);
    }
};

/// Copies n numbers from B's memory to host memory.
template <concepts::Backend B, class T>
void copy_to_host(const T* p, index_t n, T* host) {
    if constexpr (B::host_memory) {
        std::copy(p, p + n, host);
    } else {
        thrust::copy(thrust::device_pointer_cast(p), thrust::device_pointer_cast(p) + n, host);
    }
}

template <class Derived, class T, class B>
class target_base {
public:
    using value_type = T;
    using backend_type = B;

    // ---- batched -------------------------------------------------------------

    void sample(const random::stream& s, batch_view<T> out, std::uint64_t first = 0) const {
        const std::string where = self().name + std::string("::sample");
        noise::detail::check_shape(where.c_str(), "out", out, self().dim(), out.count);
        backend::for_each_index<B>(out.count,
                                   make<sample_fn>(self().view(), s, out, first));
    }

    void log_density(batch_view<const T> x, batch_view<T> out) const {
        const std::string where = self().name + std::string("::log_density");
        check_x(where.c_str(), x);
        noise::detail::check_shape(where.c_str(), "out", out, 1, x.count);
        backend::for_each_index<B>(x.count, make<log_density_fn>(self().view(), x, out.data));
    }

    void score(batch_view<const T> x, batch_view<T> out) const {
        const std::string where = self().name + std::string("::score");
        check_x(where.c_str(), x);
        noise::detail::check_shape(where.c_str(), "out", out, self().dim(), x.count);
        // a target may have a batched host kernel (e.g. gaussian_mixture with
        // diagonal covariances); score_host returns false where it does not apply
        if constexpr (B::host_memory && requires(const Derived& d) { d.score_host(x, out); })
            if (self().score_host(x, out)) return;
        backend::for_each_index<B>(x.count, make<score_fn>(self().view(), x, out));
    }

    void hessian(batch_view<const T> x, hessian::batch<hessian::full, T, B>& H) const {
        const std::string where = self().name + std::string("::hessian_full");
        check_x(where.c_str(), x);
        check_hessian(where.c_str(), H.dim(), H.count(), x.count);
        const index_t ws = self().hessian_workspace();
        batch<T, B> work = workspace(ws, x.count);
        backend::for_each_index<B>(
            x.count, make<hessian_full_fn>(self().view(), x, H.data(), work_ptr(work, ws), ws));
    }

    void hessian(batch_view<const T> x, hessian::batch<hessian::diagonal, T, B>& H) const {
        const std::string where = self().name + std::string("::hessian_diagonal");
        check_x(where.c_str(), x);
        check_hessian(where.c_str(), H.dim(), H.count(), x.count);
        const index_t ws = self().hessian_workspace();
        batch<T, B> work = workspace(ws, x.count);
        backend::for_each_index<B>(x.count, make<hessian_diagonal_fn>(
                                                self().view(), x, H.data(), work_ptr(work, ws), ws));
    }

    template <int R>
    void hessian(batch_view<const T> x, hessian::batch<hessian::low_rank<R>, T, B>& H) const {
        const std::string where = self().name + std::string("::hessian_low_rank");
        check_x(where.c_str(), x);
        check_hessian(where.c_str(), H.dim(), H.count(), x.count);
        if (H.rank() < self().low_rank_rank())
            hosm::detail::fail(where.c_str(), "argument 'H' has rank ", H.rank(),
                               "; the exact low-rank Hessian of this target needs rank >= ",
                               self().low_rank_rank(), " (low_rank_rank())");
        const index_t ws = self().hessian_workspace();
        batch<T, B> work = workspace(ws, x.count);
        backend::for_each_index<B>(
            x.count, make<hessian_low_rank_fn>(self().view(), x, H.alpha_data(), H.B_data(),
                                                     H.rank(), work_ptr(work, ws), ws));
    }

    void hessian_full(batch_view<const T> x, hessian::batch<hessian::full, T, B>& H) const {
        hessian(x, H);
    }
    void hessian_diagonal(batch_view<const T> x,
                          hessian::batch<hessian::diagonal, T, B>& H) const {
        hessian(x, H);
    }
    template <int R>
    void hessian_low_rank(batch_view<const T> x,
                          hessian::batch<hessian::low_rank<R>, T, B>& H) const {
        hessian(x, H);
    }

    // ---- host conveniences ------------------------------------------------------

    matrix<T> sample(const random::stream& s, index_t n, std::uint64_t first = 0) const {
        hosm::detail::check_at_least((self().name + std::string("::sample")).c_str(), "n", n, 0);
        if (n == 0) return matrix<T>(self().dim(), 0);
        batch<T, B> out(self().dim(), n);
        sample(s, out.view(), first);
        return out.to_eigen();
    }

    matrix<T> log_density(const matrix<T>& x) const {
        check_host_rows("::log_density", x);
        const batch<T, B> xb(x);
        batch<T, B> out(1, x.cols());
        log_density(xb.view(), out.view());
        return out.to_eigen();
    }

    matrix<T> score(const matrix<T>& x) const {
        check_host_rows("::score", x);
        const batch<T, B> xb(x);
        batch<T, B> out(self().dim(), x.cols());
        score(xb.view(), out.view());
        return out.to_eigen();
    }

    matrix<T> hessian_full(const vector<T>& x) const {
        check_host_rows("::hessian_full", x);
        const index_t D = self().dim();
        const batch<T, B> xb{matrix<T>(x)};
        hessian::batch<hessian::full, T, B> H(D, 1);
        hessian(xb.view(), H);
        matrix<T> out(D, D);
        copy_to_host<B>(H.data(), D * D, out.data());
        return out;
    }

    vector<T> hessian_diagonal(const vector<T>& x) const {
        check_host_rows("::hessian_diagonal", x);
        const index_t D = self().dim();
        const batch<T, B> xb{matrix<T>(x)};
        hessian::batch<hessian::diagonal, T, B> H(D, 1);
        hessian(xb.view(), H);
        vector<T> out(D);
        copy_to_host<B>(H.data(), D, out.data());
        return out;
    }

    /// {alpha, B} with s2(x) = diag(alpha) + B B^T, B of D x low_rank_rank().
    std::pair<vector<T>, matrix<T>> hessian_low_rank(const vector<T>& x) const {
        check_host_rows("::hessian_low_rank", x);
        const index_t D = self().dim(), R = self().low_rank_rank();
        const batch<T, B> xb{matrix<T>(x)};
        hessian::batch<hessian::low_rank<hosm::dynamic>, T, B> H(D, 1, R);
        hessian(xb.view(), H);
        vector<T> alpha(D);
        matrix<T> Bm(D, R);
        copy_to_host<B>(H.alpha_data(), D, alpha.data());
        copy_to_host<B>(H.B_data(), D * R, Bm.data());
        return {std::move(alpha), std::move(Bm)};
    }

protected:
    target_base() = default;

private:
    const Derived& self() const { return static_cast<const Derived&>(*this); }

    /// F<view type, T>{args...}: a kernel functor over the derived target's view.
    template <template <class, class> class F, class V, class... A>
    static F<V, T> make(const V& v, A&&... a) {
        return F<V, T>{v, std::forward<A>(a)...};
    }

    void check_x(const char* where, batch_view<const T> x) const {
        noise::detail::check_shape(where, "x", x, self().dim(), x.count);
        noise::detail::check_finite_batch<B>(where, "x", x);
    }

    void check_hessian(const char* where, index_t dim, index_t count, index_t n) const {
        if (dim != self().dim() || count != n)
            hosm::detail::fail(where, "dimension mismatch: argument 'H' holds ", count,
                               " Hessians of dimension ", dim, ", expected ", n, " of dimension ",
                               self().dim());
    }

    template <class M>
    void check_host_rows(const char* what, const M& x) const {
        if (x.rows() != self().dim())
            hosm::detail::fail((self().name + std::string(what)).c_str(),
                               "dimension mismatch: argument 'x' has ", x.rows(),
                               " rows, expected ", self().dim());
    }

    static batch<T, B> workspace(index_t ws, index_t n) {
        return ws > 0 && n > 0 ? batch<T, B>(ws, n) : batch<T, B>();
    }
    static T* work_ptr(batch<T, B>& w, index_t ws) {
        return ws > 0 && w.count() > 0 ? w.view().data : nullptr;
    }
};

}  // namespace hosm::targets::detail
