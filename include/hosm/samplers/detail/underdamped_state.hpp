// hosm/samplers/detail/underdamped_state.hpp — the state of a batch of
// underdamped (kinetic) Langevin chains: positions, velocities and the count of
// steps taken. Used by samplers::baoab, samplers::sachs and samplers::walk_jump
// (and re-exported by their headers).
//
//   samplers::underdamped_state<T, B> st(dim, count);      x = v = 0
//   samplers::underdamped_state<T, B> st(x0);              x = x0 (D x N host matrix), v = 0
//   samplers::underdamped_state<T, B> st(x0, v0);          both given (same shape)
//   st.x, st.v        hosm::batch<T, B>, D x N (column j = chain j), in B's memory
//   st.step           steps taken so far (std::uint64_t). The samplers key the
//                     Gaussian noise of a step by (seed, stream id, chain, step),
//                     so continuing a state with run(n1) then run(n2) gives the
//                     same chains as one run(n1 + n2).
//   st.dim(), st.count()
//
// (A chain container shared with the first-order samplers, samplers/chains.hpp,
// did not exist when this was written; positions are a plain hosm::batch.)
//
// Errors (hosm::error): dim < 1 or count < 0; x0 and v0 of different shapes.
#pragma once
#include <cstdint>

#include <hosm/backend/batch.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>

namespace hosm::samplers {

template <class T, concepts::Backend B = backend::cpp>
struct underdamped_state {
    using value_type = T;
    using backend_type = B;

    batch<T, B> x;  // positions, D x N
    batch<T, B> v;  // velocities, D x N
    std::uint64_t step = 0;

    underdamped_state() = default;
    underdamped_state(index_t dim, index_t count) : x(dim, count), v(dim, count) {}
    explicit underdamped_state(const matrix<T>& x0)
        : x(x0), v(static_cast<index_t>(x0.rows()), static_cast<index_t>(x0.cols())) {}
    underdamped_state(const matrix<T>& x0, const matrix<T>& v0) : x(x0), v(v0) {
        if (v0.rows() != x0.rows() || v0.cols() != x0.cols())
            hosm::detail::fail("samplers::underdamped_state",
                               "dimension mismatch: argument 'v0' is ", v0.rows(), " x ", v0.cols(),
                               ", expected ", x0.rows(), " x ", x0.cols(), " (the shape of 'x0')");
    }

    index_t dim() const { return x.dim(); }
    index_t count() const { return x.count(); }
};

}  // namespace hosm::samplers
