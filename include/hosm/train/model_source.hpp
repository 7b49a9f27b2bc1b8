// hosm/train/model_source.hpp — a (trained) score model seen as a sampler's
// score source (concepts::ScoreSource / concepts::HessianSource).
//
//   train::model_source<M> src(model);
//   samplers::run(ula, src, chains, 1000);          s1 from the model
//   samplers::run(ozaki, src, chains, 1000);        s1 and s2 from the model
//
//   src.dim()                 the model's D
//   src.score(x, out)         out = s1(x): model.forward_s1 when the model has it,
//                             else model.forward (s2 computed and dropped)
//   src.hessian(x, H)         H = s2(x) in the structure S of H: the model's own
//                             structure is copied; any structure converts to
//                             hessian::diagonal (diag of s2) and to hessian::full
//                             (the dense matrix). Other conversions (e.g. full to
//                             low_rank) do not compile.
//   src.low_rank_rank()       the model's rank, for low-rank models
//   backend_type              the model's back end
//
// Samplers take sources by const reference; the model's passes are not const
// (they keep a forward cache), so the source holds a pointer to the model and
// its own buffers as `mutable` members: a source must not be used by two
// threads at once, and score/hessian overwrite the model's forward cache
// (do not interleave them with training passes). The model must outlive the
// source. Errors: those of the model's forward passes (shapes, non-finite x).
#pragma once
#include <optional>
#include <type_traits>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/hessian/diagonal.hpp>
#include <hosm/hessian/full.hpp>
#include <hosm/hessian/low_rank.hpp>
#include <hosm/hessian/operations.hpp>
#include <hosm/train/detail/buffers.hpp>
#include <hosm/train/model_concepts.hpp>

namespace hosm::train {

namespace detail {

template <class Ref, class T>
struct to_dense_fn {
    Ref H;
    T* out;
    index_t D;
    HOSM_HOST_DEVICE void operator()(index_t j) const { to_dense(H.sample(j), out + j * D * D); }
};

}  // namespace detail

template <class M>
class model_source {
    static_assert(TrainableModel<M> && concepts::ScoreModel<M>,
                  "hosm: train::model_source<M>: M does not model concepts::ScoreModel (needs "
                  "value_type, structure, backend_type, dim(), forward(x, s1, s2), backward(g1, "
                  "g2), parameters(), gradients())");

public:
    using model_type = M;
    using value_type = typename M::value_type;
    using backend_type = typename M::backend_type;
    using structure = typename M::structure;
    using T = value_type;
    using B = backend_type;

    explicit model_source(M& model) : model_(&model) {}

    index_t dim() const { return static_cast<index_t>(model_->dim()); }
    M& model() const { return *model_; }

    index_t low_rank_rank() const
        requires hessian::is_low_rank_v<structure>
    {
        return model_->rank();
    }

    void score(batch_view<const T> x, batch_view<T> out) const {
        if constexpr (FirstOrderModel<M>) {
            model_->forward_s1(x, out);
        } else {
            detail::ensure_s2(*model_, s2_, x.count);
            model_->forward(x, out, *s2_);
        }
    }

    template <class S>
    void hessian(batch_view<const T> x, hessian::batch<S, T, B>& H) const {
        static_assert(std::is_same_v<S, structure> || std::is_same_v<S, hessian::diagonal> ||
                          std::is_same_v<S, hessian::full>,
                      "hosm: train::model_source::hessian: the model's s2 converts to its own "
                      "structure, hessian::diagonal or hessian::full only");
        constexpr const char* where = "train::model_source::hessian";
        hosm::detail::check_size(where, "H.dim", H.dim(), dim());
        hosm::detail::check_size(where, "H.count", H.count(), x.count);
        detail::ensure(s1_, dim(), x.count);
        if constexpr (std::is_same_v<S, structure>) {
            if constexpr (hessian::is_low_rank_v<S>)
                hosm::detail::check_size(where, "H.rank", H.rank(), model_->rank());
            model_->forward(x, s1_.view(), H);
        } else {
            detail::ensure_s2(*model_, s2_, x.count);
            model_->forward(x, s1_.view(), *s2_);
            const auto& s2 = std::as_const(*s2_);
            if constexpr (std::is_same_v<S, hessian::diagonal>) {
                hessian::diagonal_of<B>(s2, H.diagonals());
            } else {
                backend::for_each_index<B>(
                    x.count, detail::to_dense_fn<decltype(hessian::detail::cref(s2)), T>{
                                 hessian::detail::cref(s2), H.data(), dim()});
            }
        }
    }

private:
    M* model_;
    mutable batch<T, B> s1_;
    mutable std::optional<hessian::batch<structure, T, B>> s2_;
};

}  // namespace hosm::train
