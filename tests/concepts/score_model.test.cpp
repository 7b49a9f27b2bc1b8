#include "support/backends.hpp"

#include <vector>

#include <hosm/concepts/score_model.hpp>
#include <hosm/models/mlp.hpp>
#include <hosm/models/mlp_score.hpp>

using namespace hosm;
using hosm::concepts::ScoreModel;

namespace {

// The smallest thing that models ScoreModel (not an MLP).
struct minimal_model {
    using value_type = double;
    using structure = hessian::diagonal;
    using backend_type = backend::cpp;
    std::vector<double> p, g;
    index_t dim() const { return 2; }
    void forward(batch_view<const double>, batch_view<double>,
                 hessian::batch<hessian::diagonal, double, backend::cpp>&) {}
    void backward(batch_view<const double>, const hessian::batch<hessian::diagonal, double, backend::cpp>&) {}
    std::vector<double>& parameters() { return p; }
    const std::vector<double>& parameters() const { return p; }
    std::vector<double>& gradients() { return g; }
    const std::vector<double>& gradients() const { return g; }
};

struct no_backward : minimal_model {
    void backward() = delete;
};
struct no_structure {
    using value_type = double;
    using backend_type = backend::cpp;
    index_t dim() const { return 2; }
};
struct wrong_s2 : minimal_model {  // forward takes the wrong structure
    void forward(batch_view<const double>, batch_view<double>,
                 hessian::batch<hessian::full, double, backend::cpp>&) {}
};
struct bad_backend : minimal_model {
    using backend_type = int;
};
struct no_const_parameters : minimal_model {
    std::vector<double>& parameters() { return p; }
};

}  // namespace

// positive
static_assert(ScoreModel<minimal_model>);
static_assert(ScoreModel<models::mlp_score<float, hessian::diagonal>>);
static_assert(ScoreModel<models::mlp_score<double, hessian::full>>);
static_assert(ScoreModel<models::mlp_score<float, hessian::low_rank<20>>>);
static_assert(ScoreModel<models::mlp_score<double, hessian::low_rank<dynamic>>>);
#if !defined(__CUDACC__)
static_assert(ScoreModel<models::mlp_score<double, hessian::low_rank<3>, backend::omp>>);
#endif
// the documented pattern compiles for a model
static_assert(ScoreModel<models::mlp_score<float, hessian::diagonal>>,
              "hosm: M does not model ScoreModel: needs value_type, structure, backend_type, dim(), "
              "forward(x, s1, s2), backward(g1, g2), parameters(), gradients()");

// negative
static_assert(!ScoreModel<int>);
static_assert(!ScoreModel<no_backward>);
static_assert(!ScoreModel<no_structure>);
static_assert(!ScoreModel<wrong_s2>);
static_assert(!ScoreModel<bad_backend>);
static_assert(!ScoreModel<no_const_parameters>);
static_assert(!ScoreModel<models::mlp<double>>);  // a plain MLP has no s2 head
static_assert(!ScoreModel<const models::mlp_score<double, hessian::diagonal>>);  // forward mutates

TEST_CASE_TEMPLATE("concepts/score_model: a modelled type is usable through the concept", B,
                   HOSM_TEST_BACKENDS) {
    // A generic function constrained by ScoreModel runs an mlp_score.
    auto run = []<ScoreModel M>(M& m) {
        matrix<typename M::value_type> x = matrix<typename M::value_type>::Random(m.dim(), 3);
        matrix<typename M::value_type> s1(m.dim(), 3);
        auto s2 = m.make_s2(3);
        m.forward(view(x), view(s1), s2);
        return s1.allFinite();
    };
    models::mlp_score<double, hessian::low_rank<2>, B> m({.dim = 3, .width = 8});
    CHECK(run(m));
}
