// hosm/concepts/score_model.hpp — what a trainable score model must provide.
//
// A ScoreModel M maps a D x N batch x to first-order scores s1 (D x N) and
// second-order scores s2 of a Hessian structure (hessian::batch<structure, T,
// B>), and back-propagates dL/ds1, dL/ds2 into gradients with respect to its
// flat parameter vector. models::mlp_score is the reference model.
//
//   typename M::value_type        T, the scalar (float, double)
//   typename M::structure         hessian::full, hessian::diagonal, hessian::low_rank<R>
//   typename M::backend_type      the back end whose memory the batches live in
//   cm.dim()                      D, convertible to index_t                  (cm: const M&)
//   m.forward(x, s1, s2)          x: batch_view<const T>, s1: batch_view<T>,
//                                 s2: hessian::batch<structure, T, backend_type>&
//   m.backward(g1, g2)            g1: batch_view<const T>,
//                                 g2: const hessian::batch<structure, T, backend_type>&
//   m.parameters(), cm.parameters(), m.gradients(), cm.gradients()
//                                 contiguous flat arrays with .size()
//
// Check a template argument at the first line of the code that needs it, so a
// wrong type fails with one readable message instead of pages of errors:
//
//   template <class M>
//   auto train(M& model, ...) {
//       static_assert(hosm::concepts::ScoreModel<M>,
//                     "hosm: M does not model ScoreModel: needs value_type, structure, "
//                     "backend_type, dim(), forward(x, s1, s2), backward(g1, g2), "
//                     "parameters(), gradients() (see hosm/concepts/score_model.hpp)");
//       ...
//   }
#pragma once
#include <concepts>
#include <cstddef>

#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/types.hpp>
#include <hosm/hessian/batch.hpp>

namespace hosm::concepts {

template <class M>
concept ScoreModel =
    requires {
        typename M::value_type;
        typename M::structure;
        typename M::backend_type;
    } && Backend<typename M::backend_type> &&
    requires(M& m, const M& cm, batch_view<const typename M::value_type> x,
             batch_view<typename M::value_type> s1,
             hessian::batch<typename M::structure, typename M::value_type, typename M::backend_type>& s2,
             const hessian::batch<typename M::structure, typename M::value_type,
                                  typename M::backend_type>& g2) {
        { cm.dim() } -> std::convertible_to<index_t>;
        m.forward(x, s1, s2);
        m.backward(x, g2);
        { m.parameters().size() } -> std::convertible_to<std::size_t>;
        { cm.parameters().size() } -> std::convertible_to<std::size_t>;
        { m.gradients().size() } -> std::convertible_to<std::size_t>;
        { cm.gradients().size() } -> std::convertible_to<std::size_t>;
    };

}  // namespace hosm::concepts
