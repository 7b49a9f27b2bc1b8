// hosm/concepts/target.hpp — what a density with exact scores must provide.
//
// A Target exposes its element type and back end, its dimension, and batched
// log density and first-order score over D x N batch views in its back end's
// memory:
//
//   typename Tg::value_type, typename Tg::backend_type
//   t.dim()                        -> index_t (D)
//   t.log_density(x, out)          x batch_view<const T> D x N, out batch_view<T> 1 x N
//   t.score(x, out)                out batch_view<T> D x N: s1 = grad log p
//
// Every hosm::targets class (gaussian, gaussian_mixture, mixture_of_logistics,
// m_density<...>) models it. Use it as
//   static_assert(hosm::concepts::Target<Tg>, "hosm: Tg does not model Target: "
//                 "needs value_type, backend_type, dim(), log_density(x, out), score(x, out)");
#pragma once
#include <concepts>

#include <hosm/core/batch_view.hpp>
#include <hosm/core/types.hpp>

namespace hosm::concepts {

template <class Tg>
concept Target = requires(const Tg& t, batch_view<const typename Tg::value_type> x,
                          batch_view<typename Tg::value_type> out) {
    typename Tg::value_type;
    typename Tg::backend_type;
    { t.dim() } -> std::convertible_to<index_t>;
    t.log_density(x, out);
    t.score(x, out);
};

}  // namespace hosm::concepts
