// hosm/backend/algorithms.hpp — the batched primitives every back end gives.
//
//   for_each_index<B>(n, f)             f(i) for i in [0, n), on B's system
//   transform_reduce_index<B>(n, f, init)  sum of f(i) for i in [0, n)
//   reduce_sum<B>(p, n)                  sum of p[0..n) (p in B's memory)
//
// `f` is a HOSM_HOST_DEVICE functor (on the CUDA back end it must be callable
// on the device). Reductions use Thrust's, whose order of summation can differ
// between back ends and thread counts; per-element work never does.
#pragma once
#include <thrust/for_each.h>
#include <thrust/functional.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/reduce.h>
#include <thrust/transform_reduce.h>

#include <hosm/concepts/backend.hpp>
#include <hosm/core/types.hpp>

namespace hosm::backend {

template <concepts::Backend B, class F>
void for_each_index(index_t n, F f) {
    if (n <= 0) return;
    thrust::counting_iterator<index_t> first(0);
    thrust::for_each(B::policy(), first, first + n, f);
}

template <concepts::Backend B, class F, class T>
T transform_reduce_index(index_t n, F f, T init) {
    if (n <= 0) return init;
    thrust::counting_iterator<index_t> first(0);
    return thrust::transform_reduce(B::policy(), first, first + n, f, init, thrust::plus<T>());
}

template <concepts::Backend B, class T>
T reduce_sum(const T* p, index_t n) {
    if (n <= 0) return T(0);
    return thrust::reduce(B::policy(), p, p + n, T(0), thrust::plus<T>());
}

}  // namespace hosm::backend
