// hosm/train/model_concepts.hpp — what the training loop needs from a model.
//
// TrainableModel<M>: a flat parameter vector and its gradient in the model's
// back end, which the optimiser updates in place:
//   typename M::value_type, typename M::backend_type (a concepts::Backend)
//   cm.dim()                              D
//   m.parameters(), m.gradients()         B vectors of the same size
//   m.zero_gradients()                    gradients() = 0 (backward passes add)
//
// FirstOrderModel<M>: TrainableModel with a first-order head alone, which the
// s1 objectives (DSM, DSM-VR, k-th order with K = 1) train:
//   m.forward_s1(x, s1)                   x D x N, s1 D x N
//   m.backward_s1(g1)                     gradients() += (dL/ds1)^T ds1/dtheta
//
// SecondOrderModel<M>: TrainableModel and concepts::ScoreModel (forward(x, s1,
// s2), backward(g1, g2) with s2 a hessian::batch<M::structure, T, B>), plus
//   cm.make_s2(N)                         an s2 batch of the model's shape
// which the joint objectives (D2SM, joint, and their VR forms) train.
// models::mlp_score models all three.
#pragma once
#include <concepts>
#include <cstddef>

#include <hosm/concepts/backend.hpp>
#include <hosm/concepts/score_model.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/types.hpp>

namespace hosm::train {

template <class M>
concept TrainableModel =
    requires {
        typename M::value_type;
        typename M::backend_type;
    } && concepts::Backend<typename M::backend_type> && requires(M& m, const M& cm) {
        { cm.dim() } -> std::convertible_to<index_t>;
        { m.parameters().size() } -> std::convertible_to<std::size_t>;
        { m.gradients().size() } -> std::convertible_to<std::size_t>;
        m.parameters().data();
        m.gradients().data();
        m.zero_gradients();
    };

template <class M>
concept FirstOrderModel =
    TrainableModel<M> && requires(M& m, batch_view<const typename M::value_type> x,
                                  batch_view<typename M::value_type> s1) {
        m.forward_s1(x, s1);
        m.backward_s1(x);
    };

template <class M>
concept SecondOrderModel = TrainableModel<M> && concepts::ScoreModel<M> &&
                           requires(const M& cm, index_t n) { cm.make_s2(n); };

}  // namespace hosm::train
