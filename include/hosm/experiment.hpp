// hosm/experiment.hpp — the compile-time composition of a score-matching
// experiment: model, noise kernel, score order, objective, sampler, back end.
//
//   using exp2 = hosm::experiment<
//       models::mlp_score<float, hessian::diagonal>,  // s1 head + s2 head of a structure
//       noise::gaussian<float>,                       // the noise kernel q_sigma(x~ | x)
//       order<2>,                                     // highest score order trained
//       objectives::joint_vr<float>,                  // L_D2SM-VR + gamma L_DSM-VR
//       samplers::ozaki<hessian::diagonal, float>,    // uses s1 and diag(s2)
//       backend::omp>;                                // or backend::cpp
//
//   auto target = targets::two_mode_gaussian<float>();
//   auto r = exp2::train(target, config{.sigma = 0.3, .steps = 2000});
//   r.model, r.history.loss                           the trained model, the losses
//   matrix<float> x = r.sample(x0);                   config.sampler_steps Ozaki steps
//                                                     from the D x n states x0
//
// Axes (each checked at the first line of a wrong instantiation by a
// static_assert that says what is missing):
//   Model      a train::TrainableModel; rebound to Backend (rebind_backend below),
//              built by model_factory<Model>::make(dim, config, stream). Built in:
//              models::mlp_score<T, S, any back end> (config.width, depth,
//              activation, rank for low_rank<dynamic>, shared_trunk).
//   Noise      noise::gaussian<T>: the denoising objectives assume x~ = x + sigma z
//              with sigma = config.sigma (the multimeasurement kernel of GPS is
//              not an axis value here).
//   Order      order<1> (s1 is trained) or order<2> (s1 and s2); it must equal
//              the objective's train::step_policy<Objective>::order.
//   Objective  one with a train::step_policy (dsm, dsm_vr, kth_order<1> for
//              order<1>; d2sm, d2sm_vr, joint, joint_vr for order<2>) that
//              trains s1, value type T; built from config.sigma (and
//              config.gamma for the joint objectives). The objectives that
//              take s1 as GIVEN (kth_order<2>, d2sm_centered, d2sm_centered_vr:
//              step_policy<...>::trains_s1 is false) are refused: an experiment
//              trains one objective from a fresh model, so they would fit s2
//              about an untrained s1. Run them in a staged<First, Second>
//              (below), or with train::trainer after a DSM / DSM-VR trainer
//              on the same model (tests/train/trainer.test.cpp).
//              staged<First, Second>: two trainers on one model. First (an
//              order-1 objective: dsm, dsm_vr, kth_order<1>) trains s1 for
//              config.s1_steps steps (unset: config.steps); then Second, whose
//              order is Order (e.g. d2sm_centered_vr, kth_order<2>, or joint_vr
//              to go on jointly), trains for config.steps steps with a fresh
//              optimiser and schedule on fresh data: its trainer's seed is
//              config.seed ^ staged_seed_mask, so its batches and noise are
//              not the first stage's. With an s1-given Second and separate s1
//              and s2 networks, the first stage's s1 is kept bitwise.
//   Sampler    a sampler of hosm/samplers rebound to Backend, constructed as
//              Sampler(config.step_size, random::stream{config.seed, "CHAN"});
//              it must model concepts::Sampler for train::model_source<Model>.
//              Samplers that read s2 (those with a `structure`, e.g. ozaki<S>)
//              need order<2>.
//   Backend    backend::cpp or backend::omp (the host back ends; the Ozaki
//              full/low-rank paths and Eigen models are host-only), any
//              concepts::Backend whose memory is host memory.
//
// experiment<...>::train(target, cfg) draws the training batches from the
// target (any sampleable hosm::targets class in host memory);
// experiment<...>::train(X, cfg) from a D x n data matrix. It validates cfg,
// builds the model from stream (cfg.seed, "INIT"), runs train::trainer and,
// when cfg.ema_decay is set, puts the EMA average into the returned model.
// The result (experiment_result) holds
//   model, history (train::history; of the second stage when staged), cfg,
//   s1_history (the first stage's when staged; empty otherwise)
//   source()          a train::model_source over the model (scores for samplers)
//   make_sampler()    the configured Sampler
//   sample(x0 [, steps])        runs the sampler from the host D x n states x0
//                               (default cfg.sampler_steps) and returns the states
//   sample(n [, steps])         the same from n states x0 ~ N(0, I) drawn from
//                               stream (cfg.seed, "STRT")
//
// config fields (double scalars, converted to T):
//   sigma (0.1) gamma (1) width (64) depth (3) activation (softplus)
//   shared_trunk (false) rank (0, low_rank<dynamic> only)
//   steps (2000) batch (128) lr (1e-3) cosine (true: cosine decay from lr to
//   min_lr_ratio * lr) min_lr_ratio (0.05) seed (0) ema_decay (unset)
//   clip_norm (0) checkpoint_path ("") checkpoint_every (0) resume (false)
//   progress (standard error) step_size (0.01) sampler_steps (1000)
//   s1_steps (unset: steps; the first stage of a staged objective only)
// Errors (hosm::error naming the field and value): sigma not finite and > 0,
// gamma < 0, min_lr_ratio outside [0, 1], step_size not finite and > 0,
// sampler_steps < 0, s1_steps < 1, s1_steps set without a staged objective,
// checkpoint_path or resume with a staged objective (two runs would share one
// checkpoint; checkpoint them with two train::trainer), and those of the model,
// the trainer and the sampler.
#pragma once
#include <cmath>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/concepts/sampler.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/models/activation.hpp>
#include <hosm/models/mlp_score.hpp>
#include <hosm/noise/gaussian.hpp>
#include <hosm/optim/schedule/cosine.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/samplers/chains.hpp>
#include <hosm/samplers/langevin.hpp>
#include <hosm/samplers/mala.hpp>
#include <hosm/samplers/ozaki.hpp>
#include <hosm/train/model_concepts.hpp>
#include <hosm/train/model_source.hpp>
#include <hosm/train/options.hpp>
#include <hosm/train/progress_sink.hpp>
#include <hosm/train/step_policy.hpp>
#include <hosm/train/stream_ids.hpp>
#include <hosm/train/trainer.hpp>

namespace hosm {

/// The highest score order an experiment trains (1: s1; 2: s1 and s2).
template <int K>
struct order {
    static_assert(K == 1 || K == 2, "hosm: order<K>: hosm's experiments train order 1 or 2");
    static constexpr int value = K;
};

/// The objective axis of staged training: First trains s1 for
/// config.s1_steps steps, then Second trains for config.steps steps on the
/// same model (see the header).
template <class First, class Second>
struct staged {
    using first_type = First;
    using second_type = Second;
    using value_type = typename Second::value_type;
};

/// XOR-ed into config.seed for the second stage's trainer ("STG2" << 32).
inline constexpr std::uint64_t staged_seed_mask = std::uint64_t(0x53544732u) << 32;

/// The settings of an experiment (see the header for the fields).
struct config {
    double sigma = 0.1;
    double gamma = 1.0;
    index_t width = 64;
    index_t depth = 3;
    models::activation activation = models::activation::softplus;
    bool shared_trunk = false;
    index_t rank = 0;
    index_t steps = 2000;
    index_t batch = 128;
    double lr = 1e-3;
    bool cosine = true;
    double min_lr_ratio = 0.05;
    std::uint64_t seed = 0;
    std::optional<double> ema_decay{};
    double clip_norm = 0;
    std::string checkpoint_path{};
    index_t checkpoint_every = 0;
    bool resume = false;
    train::progress_sink progress = train::progress_sink::standard_error();
    double step_size = 0.01;
    index_t sampler_steps = 1000;
    std::optional<index_t> s1_steps{};
};

// ------------------------------------------------------------ customization

/// X with its back end replaced by B (member `type`). Specialized for the
/// models and samplers of hosm; a type already on B is kept; other types have
/// no `type`. Specialize it for your own types.
namespace detail {
template <class X, class B>
struct keep_if_on {};  // no `type`: hosm does not know how to rebind X
template <class X, class B>
    requires requires { typename X::backend_type; } && std::is_same_v<typename X::backend_type, B>
struct keep_if_on<X, B> {
    using type = X;
};
}  // namespace detail

template <class X, class B>
struct rebind_backend : detail::keep_if_on<X, B> {};
template <class T, class S, class B0, class B>
struct rebind_backend<models::mlp_score<T, S, B0>, B> {
    using type = models::mlp_score<T, S, B>;
};
template <class T, class B0, class B>
struct rebind_backend<samplers::langevin<T, B0>, B> {
    using type = samplers::langevin<T, B>;
};
template <class T, class B0, class B>
struct rebind_backend<samplers::mala<T, B0>, B> {
    using type = samplers::mala<T, B>;
};
template <class S, class T, class B0, class B>
struct rebind_backend<samplers::ozaki<S, T, B0>, B> {
    using type = samplers::ozaki<S, T, B>;
};
template <class X, class B>
using rebind_backend_t = typename rebind_backend<X, B>::type;

/// How an experiment builds its model: make(dim, cfg, stream) -> Model.
template <class Model>
struct model_factory;

template <class T, class S, class B>
struct model_factory<models::mlp_score<T, S, B>> {
    static models::mlp_score<T, S, B> make(index_t dim, const config& c, const random::stream& s) {
        models::mlp_score_config mc;
        mc.dim = dim;
        mc.width = c.width;
        mc.depth = c.depth;
        mc.activation = c.activation;
        mc.shared_trunk = c.shared_trunk;
        mc.rank = c.rank;
        return models::mlp_score<T, S, B>(mc, s);
    }
};

/// How an experiment builds its objective from cfg (sigma, and gamma when the
/// objective takes two numbers).
template <class Objective>
struct objective_factory {
    using T = typename Objective::value_type;
    static Objective make(const config& c) {
        if constexpr (std::is_constructible_v<Objective, T, T>)
            return Objective(static_cast<T>(c.sigma), static_cast<T>(c.gamma));
        else
            return Objective(static_cast<T>(c.sigma));
    }
};

namespace detail {

template <class S>
concept ReadsHessian = requires { typename S::structure; };

template <class N, class T>
concept GaussianNoiseKernel = std::same_as<N, noise::gaussian<T>>;

template <class X, class B>
concept Rebindable = requires { typename rebind_backend<X, B>::type; };

/// Objective, or staged<First, Second> split into its stages (first = void
/// when not staged; last = the objective that trains last).
template <class O>
struct stages {
    static constexpr bool is_staged = false;
    using first = void;
    using last = O;
};
template <class F, class S>
struct stages<staged<F, S>> {
    static constexpr bool is_staged = true;
    using first = F;
    using last = S;
};

/// The conditions on the objective axis (see experiment's static_asserts).
template <class O, class Order, class M>
concept ObjectiveAxis =
    train::HasStepPolicy<typename stages<O>::last> &&
    (train::step_policy<typename stages<O>::last>::order == Order::value) &&
    (stages<O>::is_staged || train::step_policy<O>::trains_s1) &&
    train::TrainableWith<typename stages<O>::last, M> &&
    (!stages<O>::is_staged ||
     (train::HasStepPolicy<typename stages<O>::first> &&
      train::step_policy<typename stages<O>::first>::order == 1 &&
      std::is_same_v<typename stages<O>::first::value_type, typename M::value_type> &&
      train::TrainableWith<typename stages<O>::first, M>));

}  // namespace detail

/// The axes compose into an experiment: the conjunction of every condition
/// that experiment<...> checks with a static_assert (use it to test a
/// combination without a hard error).
template <class Model, class Noise, class Order, class Objective, class Sampler, class Backend>
concept ExperimentAxes =
    concepts::Backend<Backend> && Backend::host_memory && detail::Rebindable<Model, Backend> &&
    train::TrainableModel<rebind_backend_t<Model, Backend>> &&
    requires { model_factory<rebind_backend_t<Model, Backend>>::make(index_t(1), config{}, random::stream{}); } &&
    detail::GaussianNoiseKernel<Noise, typename rebind_backend_t<Model, Backend>::value_type> &&
    requires { Order::value; } &&
    detail::ObjectiveAxis<Objective, Order, rebind_backend_t<Model, Backend>> &&
    detail::Rebindable<Sampler, Backend> &&
    concepts::Sampler<rebind_backend_t<Sampler, Backend>,
                      train::model_source<rebind_backend_t<Model, Backend>>,
                      typename rebind_backend_t<Model, Backend>::value_type, Backend> &&
    (!detail::ReadsHessian<rebind_backend_t<Sampler, Backend>> || Order::value == 2) &&
    std::is_constructible_v<rebind_backend_t<Sampler, Backend>,
                            typename rebind_backend_t<Model, Backend>::value_type, random::stream>;

template <class Experiment>
class experiment_result;

// ----------------------------------------------------------------- experiment

template <class Model, class Noise, class Order, class Objective, class Sampler,
          class Backend = backend::cpp>
struct experiment {
    static_assert(concepts::Backend<Backend>,
                  "hosm: experiment<..., Backend>: Backend does not model concepts::Backend "
                  "(use backend::cpp or backend::omp)");
    static_assert(Backend::host_memory,
                  "hosm: experiment<..., Backend>: the experiment runs on host back ends "
                  "(backend::cpp, backend::omp)");

    static_assert(detail::Rebindable<Model, Backend>,
                  "hosm: experiment<Model, ...>: Model is not on Backend and hosm::rebind_backend "
                  "does not know how to rebind it (specialize rebind_backend, or give Model on Backend)");
    using model_type = rebind_backend_t<Model, Backend>;
    static_assert(train::TrainableModel<model_type>,
                  "hosm: experiment<Model, ...>: Model does not model train::TrainableModel "
                  "(value_type, backend_type, dim(), parameters(), gradients(), zero_gradients())");
    using value_type = typename model_type::value_type;
    using T = value_type;
    using backend_type = Backend;

    static_assert(requires { model_factory<model_type>::make(index_t(1), config{}, random::stream{}); },
                  "hosm: experiment<Model, ...>: no hosm::model_factory<Model> builds this model "
                  "(models::mlp_score has one; specialize model_factory for others)");
    static_assert(detail::GaussianNoiseKernel<Noise, T>,
                  "hosm: experiment<..., Noise, ...>: Noise must be noise::gaussian<T> with the "
                  "model's value type T: the denoising objectives assume x~ = x + sigma z");
    static_assert(requires { Order::value; },
                  "hosm: experiment<..., Order, ...>: Order must be hosm::order<1> or hosm::order<2>");
    static constexpr int score_order = Order::value;

    using objective_type = Objective;
    static constexpr bool is_staged = detail::stages<Objective>::is_staged;
    /// The objective of the (last) stage that trains the model's final scores.
    using last_objective_type = typename detail::stages<Objective>::last;
    /// The first stage's objective of staged<First, Second>; void otherwise.
    using first_objective_type = typename detail::stages<Objective>::first;

    static_assert(train::HasStepPolicy<last_objective_type>,
                  "hosm: experiment<..., Objective, ...>: the trainer has no step policy for "
                  "Objective (or staged's Second); use objectives::dsm, dsm_vr, kth_order<1> "
                  "(order<1>) or d2sm, d2sm_vr, joint, joint_vr (order<2>), or a staged<First, Second>");
    static_assert(std::is_same_v<typename last_objective_type::value_type, T>,
                  "hosm: experiment: the objective's value type differs from the model's");
    static_assert(train::step_policy<last_objective_type>::order == score_order,
                  "hosm: experiment: order<K> differs from the objective's order (dsm, dsm_vr and "
                  "kth_order<1> train s1: order<1>; d2sm, joint and their VR forms train s2: order<2>)");
    static_assert(is_staged || train::step_policy<last_objective_type>::trains_s1,
                  "hosm: experiment<..., Objective, ...>: Objective takes s1 as given (kth_order<2>, "
                  "d2sm_centered, d2sm_centered_vr) and would fit s2 about the fresh model's s1; use "
                  "staged<objectives::dsm_vr<T>, Objective> (s1 first, then this objective)");
    static_assert(train::TrainableWith<last_objective_type, model_type>,
                  "hosm: experiment: the model lacks the passes the objective needs (s1 objectives: "
                  "forward_s1/backward_s1; s2 objectives: forward/backward/make_s2)");
    static_assert(!is_staged || detail::ObjectiveAxis<Objective, Order, model_type>,
                  "hosm: experiment<..., staged<First, Second>, ...>: First must be an order-1 "
                  "objective with a step policy (dsm, dsm_vr, kth_order<1>) of the model's value type");

    static_assert(detail::Rebindable<Sampler, Backend>,
                  "hosm: experiment<..., Sampler, ...>: Sampler is not on Backend and "
                  "hosm::rebind_backend does not know how to rebind it");
    using sampler_type = rebind_backend_t<Sampler, Backend>;
    using source_type = train::model_source<model_type>;
    static_assert(concepts::Sampler<sampler_type, source_type, T, Backend>,
                  "hosm: experiment<..., Sampler, ...>: Sampler cannot step chains with scores of "
                  "the model (needs S::name and step(src, chains) accepting train::model_source; "
                  "see hosm/concepts/sampler.hpp)");
    static_assert(!detail::ReadsHessian<sampler_type> || score_order == 2,
                  "hosm: experiment: the sampler uses s2 (e.g. samplers::ozaki), which order<1> "
                  "does not train: use order<2> with a second-order objective");
    static_assert(std::is_constructible_v<sampler_type, T, random::stream>,
                  "hosm: experiment: the sampler must be constructible as Sampler(step_size, stream)");

    using result_type = experiment_result<experiment>;

    /// Throws hosm::error naming the first invalid field of c.
    static void validate(const config& c) {
        constexpr const char* where = "experiment::config";
        hosm::detail::check_positive(where, "sigma", c.sigma);
        hosm::detail::check_nonnegative(where, "gamma", c.gamma);
        if (!(c.min_lr_ratio >= 0.0 && c.min_lr_ratio <= 1.0))
            hosm::detail::fail(where, "argument 'min_lr_ratio' must be in [0, 1], got ", c.min_lr_ratio);
        hosm::detail::check_positive(where, "step_size", c.step_size);
        hosm::detail::check_at_least(where, "sampler_steps", c.sampler_steps, 0);
        if constexpr (is_staged) {
            if (c.s1_steps) hosm::detail::check_at_least(where, "s1_steps", *c.s1_steps, 1);
            if (!c.checkpoint_path.empty() || c.resume)
                hosm::detail::fail(where, "argument 'checkpoint_path' = \"", c.checkpoint_path,
                                   "\" (resume = ", c.resume ? "true" : "false",
                                   "): a staged objective runs two trainers, which would share one "
                                   "checkpoint; leave it empty, or checkpoint each stage with its own "
                                   "train::trainer");
            train::validate(stage_options(c, 1), where);
        } else if (c.s1_steps) {
            hosm::detail::fail(where, "argument 's1_steps' = ", *c.s1_steps,
                               " is set, but the objective is not staged<First, Second>");
        }
        train::validate(options(c), where);
    }

    /// The trainer's options for c (of the last stage when staged).
    static train::options options(const config& c) { return stage_options(c, is_staged ? 2 : 0); }

    /// The options of stage 1 (s1_steps steps, seed c.seed) or stage 2 (steps
    /// steps, seed c.seed ^ staged_seed_mask) of a staged objective; 0: the
    /// single run of an objective that is not staged.
    static train::options stage_options(const config& c, int stage) {
        train::options o;
        o.steps = stage == 1 ? c.s1_steps.value_or(c.steps) : c.steps;
        o.batch = c.batch;
        o.lr = c.lr;
        o.seed = stage == 2 ? c.seed ^ staged_seed_mask : c.seed;
        o.ema_decay = c.ema_decay;
        o.clip_norm = c.clip_norm;
        if (c.cosine && o.steps >= 1 && c.lr > 0 && std::isfinite(c.lr))
            o.schedule = optim::schedule::cosine<double>(c.lr, o.steps, c.min_lr_ratio * c.lr);
        o.checkpoint_path = c.checkpoint_path;
        o.checkpoint_every = c.checkpoint_every;
        o.resume = c.resume;
        o.progress = c.progress;
        return o;
    }

    /// Trains on an analytic target (batches drawn with its sampler).
    template <class Target>
        requires(!std::is_base_of_v<Eigen::MatrixBase<Target>, Target>)
    static result_type train(const Target& target, const config& c) {
        static_assert(train::SampleableTarget<Target, T, Backend>,
                      "hosm: experiment::train: the target has no sample(stream, out, first) for "
                      "the model's value type (every hosm::targets class has one)");
        if constexpr (requires { typename Target::backend_type; })
            static_assert(Target::backend_type::host_memory == Backend::host_memory,
                          "hosm: experiment::train: the target's memory is not the back end's");
        return run(static_cast<index_t>(target.dim()), c,
                   [&](auto& tr) { return tr.run(target); });
    }

    /// Trains on a D x n data matrix (minibatches drawn with replacement).
    static result_type train(const matrix<T>& data, const config& c) {
        return run(static_cast<index_t>(data.rows()), c, [&](auto& tr) { return tr.run(data); });
    }

    /// An Eigen expression of data (evaluated into a matrix first).
    template <class Derived>
    static result_type train(const Eigen::MatrixBase<Derived>& data, const config& c) {
        return train(matrix<T>(data), c);
    }

private:
    template <class Run>
    static result_type run(index_t dim, const config& c, Run&& go) {
        validate(c);
        hosm::detail::check_at_least("experiment::train", "dim (of the target or data)", dim, 1);
        model_type model = model_factory<model_type>::make(dim, c, random::stream{c.seed, train::stream_ids::init});
        train::history h, h1;
        auto stage = [&]<class O>(std::type_identity<O>, const train::options& o) {
            hosm::train::trainer<model_type, O> tr(model, objective_factory<O>::make(c), o);
            train::history r = go(tr);
            if (tr.has_ema()) tr.copy_ema_to_model();
            return r;
        };
        if constexpr (is_staged) {
            h1 = stage(std::type_identity<first_objective_type>{}, stage_options(c, 1));
            h = stage(std::type_identity<last_objective_type>{}, stage_options(c, 2));
        } else {
            h = stage(std::type_identity<Objective>{}, options(c));
        }
        return result_type(std::move(model), std::move(h), c, std::move(h1));
    }
};

// ----------------------------------------------------------------- result

template <class Experiment>
class experiment_result {
public:
    using experiment_type = Experiment;
    using model_type = typename Experiment::model_type;
    using sampler_type = typename Experiment::sampler_type;
    using source_type = typename Experiment::source_type;
    using T = typename Experiment::value_type;
    using B = typename Experiment::backend_type;

    experiment_result(model_type m, train::history h, config c, train::history h1 = {})
        : model(std::move(m)), history(std::move(h)), cfg(std::move(c)), s1_history(std::move(h1)) {}

    model_type model;
    train::history history;  // of the (last) training run
    config cfg;
    train::history s1_history;  // of a staged objective's first stage; empty otherwise

    const std::vector<double>& losses() const { return history.loss; }

    /// The model as a score source (valid while this result lives and is not moved).
    source_type source() { return source_type(model); }

    sampler_type make_sampler() const {
        return sampler_type(static_cast<T>(cfg.step_size),
                            random::stream{cfg.seed, train::stream_ids::chain});
    }

    /// Runs `steps` sampler steps from the D x n host states x0; the final states.
    matrix<T> sample(const matrix<T>& x0, index_t steps) {
        hosm::detail::check_at_least("experiment_result::sample", "steps", steps, 0);
        hosm::detail::check_size("experiment_result::sample", "x0.rows", x0.rows(), model.dim());
        samplers::chains<T, B> c(x0);
        sampler_type s = make_sampler();
        const source_type src = source();
        samplers::run(s, src, c, steps);
        return c.to_eigen();
    }
    matrix<T> sample(const matrix<T>& x0) { return sample(x0, cfg.sampler_steps); }

    /// The same from n states x0 ~ N(0, I) (stream (cfg.seed, "STRT")).
    matrix<T> sample(index_t n, index_t steps) {
        hosm::detail::check_at_least("experiment_result::sample", "n", n, 1);
        batch<T, B> x0(model.dim(), n);
        random::fill_normal<B>(random::stream{cfg.seed, train::stream_ids::start}, x0.view());
        return sample(x0.to_eigen(), steps);
    }
    matrix<T> sample(index_t n) { return sample(n, cfg.sampler_steps); }
};

}  // namespace hosm
