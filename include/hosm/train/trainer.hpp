// hosm/train/trainer.hpp — the training loop: a model, an objective, an
// optimiser, minibatches from an analytic target or a data matrix, with
// EMA, gradient clipping, a learning-rate schedule, a live progress line,
// .npz checkpoints and a divergence guard.
//
//   models::mlp_score<float, hessian::diagonal> model({.dim = 2, .width = 64}, random::stream{1, 0});
//   train::trainer tr(model, objectives::joint_vr<float>(0.1f, 1.0f),
//                     train::options{.steps = 2000, .batch = 256, .lr = 2e-3,
//                                    .checkpoint_path = "run.npz", .checkpoint_every = 500});
//   train::history h = tr.run(target);          // any hosm::targets class
//   train::history h = tr.run(X);               // or a D x n hosm::matrix<T> of data
//
// One step t (t = 0, 1, ..., options.steps - 1):
//   1. x = the clean minibatch of step t (train::target_samples / data_samples:
//      counter-based, a function of (seed, t, batch) only);
//   2. the learning rate is options.schedule(t) if a schedule is set;
//   3. gradients() = 0; L = step_policy<Objective>::run(...) evaluates the model
//      where the objective needs it (x + sigma z, x - sigma z, x; z from the
//      noise stream at sample indices t * batch + j) and back-propagates the
//      objective's gradient (train/step_policy.hpp);
//   4. divergence guard: L and the gradient's global norm must be finite;
//   5. clipping (clip_norm, then clip_value), the optimiser's step, a check
//      that the new parameters are finite, the EMA update;
//   6. L is appended to the history, the progress line redrawn
//      (progress_meter.hpp), and every checkpoint_every steps a checkpoint written.
// At the end a final checkpoint is written (when checkpoint_path is set).
//
// Checkpoints (.npz, hosm/io/npz.hpp, written atomically: a crash or a
// divergence never leaves a half-written or bad file in place of the last good
// one). np.load(path) gives:
//   "format"        int64, 1
//   "step"          int64, steps completed
//   "params"        T (P,), the model's flat parameter vector (its own layout)
//   "loss_history"  float64 (step,), the loss of every step so far
//   "seed", "batch" uint64 / int64, the run's random seed and batch size
//   "sigma"         float64, the objective's noise level
//   the optimiser's state (optimizer_state.hpp: "adam/t", "adam/m", "adam/v")
//   "ema/average", "ema/count"  when options.ema_decay is set
// load_checkpoint(path) restores parameters, optimiser, EMA, step and history,
// so run() continues where the saved run stopped; because every random number
// is a function of (seed, step, sample index) the resumed run is bit-for-bit
// the uninterrupted one on the same back end and thread count (reductions of
// the omp back end may round differently under another thread count; they only
// enter the loss values, not the parameters, for hosm's models).
// options.resume = true loads checkpoint_path at the start of run() if it exists.
//
// Divergence: when the loss, the gradient or the updated parameters are not
// finite, or the objective, the model or the optimiser reject the step
// (non-finite outputs), run() stops with hosm::error
//   hosm: train::trainer: training diverged at step 17 (loss = inf; last finite
//   loss 3.2e+05 at step 16): the loss is not finite; last good checkpoint
//   'run.npz' (step 15) kept
// (when the objective itself rejects the step, e.g. because the loss overflowed,
// the loss reads "not finite (the step was rejected)" and the reason is the
// objective's message).
// The step's update is not applied (except when the update itself overflowed,
// which the message says), no checkpoint is written after the failure, and the
// steps before it are in losses().
//
// API
//   trainer(model, objective, options)               optimiser from
//                                                    optimizer_state<Opt>::make(options.lr)
//   trainer(model, objective, options, optimizer)    a configured optimiser
//   run(source)        source: a train::SampleSource, a sampleable target, or a
//                      hosm::matrix<T> (D x n data) -> train::history
//   save_checkpoint(path) const, load_checkpoint(path)
//   step(), losses(), settings(), objective(), optimizer(), model()
//   has_ema(), ema(), copy_ema_to_model()            the averaged parameters
//
// Errors (hosm::error naming the argument and value): every invalid option
// (train::validate); a source or data of another dimension than the model;
// non-finite data; a schedule value that is not finite and >= 0; a checkpoint
// that does not match (parameter count or dtype, seed, batch, sigma, a step
// beyond options.steps, missing members); the divergence above.
#pragma once
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <thrust/copy.h>

#include <hosm/backend/batch.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/core/error.hpp>
#include <hosm/io/array.hpp>
#include <hosm/io/npz.hpp>
#include <hosm/optim/adam.hpp>
#include <hosm/optim/clip.hpp>
#include <hosm/optim/ema.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/train/data_samples.hpp>
#include <hosm/train/history.hpp>
#include <hosm/train/model_concepts.hpp>
#include <hosm/train/optimizer_state.hpp>
#include <hosm/train/options.hpp>
#include <hosm/train/progress_meter.hpp>
#include <hosm/train/sample_source.hpp>
#include <hosm/train/step_policy.hpp>
#include <hosm/train/stream_ids.hpp>
#include <hosm/train/target_samples.hpp>

namespace hosm::train {

namespace detail {

template <class M>
struct default_optimizer {
    using type = void;
};
template <class M>
    requires requires { typename M::value_type; typename M::backend_type; }
struct default_optimizer<M> {
    using type = optim::adam<typename M::value_type, typename M::backend_type>;
};

template <class T>
inline constexpr bool always_false = false;

}  // namespace detail

template <class Model, class Objective,
          class Optimizer = typename detail::default_optimizer<Model>::type>
class trainer {
    static_assert(TrainableModel<Model>,
                  "hosm: train::trainer<Model, ...>: Model does not model train::TrainableModel: "
                  "needs value_type, backend_type, dim(), parameters(), gradients(), "
                  "zero_gradients() (see hosm/train/model_concepts.hpp)");
    static_assert(HasStepPolicy<Objective>,
                  "hosm: train::trainer<..., Objective>: no train::step_policy for Objective; "
                  "supported: objectives::dsm, dsm_vr, d2sm, d2sm_vr, joint, joint_vr, "
                  "kth_order<1>, kth_order<2>, d2sm_centered, d2sm_centered_vr (see "
                  "hosm/train/step_policy.hpp)");
    static_assert(TrainableWith<Objective, Model>,
                  "hosm: train::trainer: the model cannot be trained with this objective: the "
                  "value types must agree, s1 objectives need forward_s1/backward_s1, s2 "
                  "objectives forward/backward/make_s2 (kth_order<2>: a hessian::diagonal model)");
    static_assert(CheckpointableOptimizer<Optimizer>,
                  "hosm: train::trainer<..., Optimizer>: no train::optimizer_state for Optimizer "
                  "(optim::adam and optim::sgd have one; see hosm/train/optimizer_state.hpp)");

public:
    using model_type = Model;
    using objective_type = Objective;
    using optimizer_type = Optimizer;
    using value_type = typename Model::value_type;
    using backend_type = typename Model::backend_type;
    using policy = step_policy<Objective>;
    using T = value_type;
    using B = backend_type;

    trainer(Model& model, Objective objective, options opt)
        : trainer(model, std::move(objective), opt, make_optimizer(opt)) {}

    trainer(Model& model, Objective objective, options opt, Optimizer optimizer)
        : model_(&model), obj_(std::move(objective)), opt_(std::move(opt)),
          optimizer_(std::move(optimizer)) {
        validate(opt_, "train::trainer");
        if (opt_.ema_decay) ema_.emplace(static_cast<T>(*opt_.ema_decay));
        if (model.parameters().size() == 0)
            hosm::detail::fail("train::trainer", "argument 'model' has no parameters");
    }

    // ------------------------------------------------------------- accessors

    index_t step() const { return step_; }
    const std::vector<double>& losses() const { return losses_; }
    const options& settings() const { return opt_; }
    const Objective& objective() const { return obj_; }
    const Optimizer& optimizer() const { return optimizer_; }
    Model& model() const { return *model_; }
    bool has_ema() const { return ema_.has_value(); }
    const optim::ema<T, B>& ema() const {
        if (!ema_) hosm::detail::fail("train::trainer::ema", "options.ema_decay was not set");
        return *ema_;
    }
    /// The model's parameters become the EMA average (after at least one step).
    void copy_ema_to_model() {
        constexpr const char* where = "train::trainer::copy_ema_to_model";
        if (!ema_) hosm::detail::fail(where, "options.ema_decay was not set");
        if (ema_->count() == 0) hosm::detail::fail(where, "no step has been taken yet");
        ema_->copy_to(model_->parameters());
    }

    // ------------------------------------------------------------------ run

    /// Trains on a SampleSource or a sampleable analytic target.
    template <class Source>
    history run(const Source& source) {
        if constexpr (SampleSource<Source, T, B>) {
            return run_source(source);
        } else if constexpr (SampleableTarget<Source, T, B>) {
            return run_source(target_samples<Source>(source, opt_.seed));
        } else if constexpr (std::is_base_of_v<Eigen::MatrixBase<Source>, Source>) {
            return run(matrix<T>(source));  // an Eigen expression of data
        } else {
            static_assert(detail::always_false<Source>,
                          "hosm: train::trainer::run: the source is neither a train::SampleSource "
                          "(dim(), draw(step, out)) nor a target with sample(stream, out, first), "
                          "nor a hosm::matrix<T> of data");
            return {};
        }
    }

    /// Trains on a D x n data matrix (minibatches drawn with replacement).
    history run(const matrix<T>& data) {
        if (data.rows() != static_cast<index_t>(model_->dim()))
            hosm::detail::fail("train::trainer::run", "dimension mismatch: argument 'data' has ",
                               data.rows(), " rows, the model's dimension is ", model_->dim());
        return run_source(data_samples<T, B>(data, opt_.seed));
    }

    // ---------------------------------------------------------- checkpoints

    void save_checkpoint(const std::filesystem::path& path) const {
        io::arrays a;
        a["format"] = io::array::scalar<std::int64_t>(1);
        a["step"] = io::array::scalar<std::int64_t>(step_);
        a["params"] = detail::host_array(model_->parameters());
        a["loss_history"] = io::array::from(losses_.data(), {static_cast<index_t>(losses_.size())});
        a["seed"] = io::array::scalar<std::uint64_t>(opt_.seed);
        a["batch"] = io::array::scalar<std::int64_t>(opt_.batch);
        a["sigma"] = io::array::scalar<double>(static_cast<double>(obj_.sigma()));
        optimizer_state<Optimizer>::save(optimizer_, a);
        if (ema_ && ema_->count() > 0) {
            a["ema/average"] = detail::host_array(ema_->average());
            a["ema/count"] = io::array::scalar<std::int64_t>(ema_->count());
        }
        io::save_npz(path, a);
    }

    void load_checkpoint(const std::filesystem::path& path) {
        constexpr const char* where = "train::load_checkpoint";
        const std::string file = path.string();
        const io::arrays a = io::load_npz(path);
        if (detail::member_int(a, "format", file) != 1)
            hosm::detail::fail(where, "file '", file, "': unknown checkpoint format ",
                               detail::member_int(a, "format", file));
        const std::int64_t step = detail::member_int(a, "step", file);
        if (step < 0 || step > opt_.steps)
            hosm::detail::fail(where, "file '", file, "': its step ", step,
                               " is outside [0, options.steps = ", opt_.steps, "]");
        const index_t n = static_cast<index_t>(model_->parameters().size());
        const std::vector<T> params = detail::member_values<T>(a, "params", n, file);
        hosm::detail::check_all_finite(where, "params", params.data(), n);
        const std::vector<double> hist =
            detail::member_values<double>(a, "loss_history", static_cast<index_t>(step), file);
        {
            const io::array& s = detail::member(a, "seed", file);
            if (s.type() != io::dtype::uint64 || s.size() != 1 || s.item<std::uint64_t>() != opt_.seed)
                hosm::detail::fail(where, "file '", file, "' was written with another seed than "
                                   "options.seed = ", opt_.seed, " (a resumed run must use the same seed)");
        }
        const std::int64_t batch = detail::member_int(a, "batch", file);
        if (batch != opt_.batch)
            hosm::detail::fail(where, "file '", file, "' was written with batch = ", batch,
                               ", options.batch = ", opt_.batch, " (a resumed run must use the same batch)");
        const std::vector<double> sig = detail::member_values<double>(a, "sigma", 1, file);
        if (sig[0] != static_cast<double>(obj_.sigma()))
            hosm::detail::fail(where, "file '", file, "' was written with sigma = ", sig[0],
                               ", the objective's sigma is ", static_cast<double>(obj_.sigma()));
        std::optional<optim::ema<T, B>> ema;
        if (ema_) {
            ema.emplace(ema_->decay());
            if (a.count("ema/average")) {
                const std::vector<T> avg = detail::member_values<T>(a, "ema/average", n, file);
                ema->restore(static_cast<index_t>(detail::member_int(a, "ema/count", file)),
                             avg.data(), n);
            } else if (step > 0) {
                hosm::detail::fail(where, "file '", file, "' has no 'ema/average' but "
                                   "options.ema_decay is set");
            }
        }
        Optimizer opt = optimizer_;
        optimizer_state<Optimizer>::load(opt, a, n, file);
        // everything read and checked: commit
        thrust::copy(params.begin(), params.end(), model_->parameters().begin());
        optimizer_ = std::move(opt);
        if (ema_) ema_ = std::move(ema);
        step_ = static_cast<index_t>(step);
        losses_ = hist;
        last_checkpoint_ = file;
        last_checkpoint_step_ = step_;
    }

private:
    static Optimizer make_optimizer(const options& o) {
        hosm::detail::check_positive("train::trainer", "lr", o.lr);
        return optimizer_state<Optimizer>::make(o.lr);
    }

    /// Throws the divergence error; loss is the step's loss as text.
    [[noreturn]] void diverged(index_t t, const std::string& loss, const std::string& reason) const {
        if (opt_.progress.enabled()) opt_.progress.write("\n");
        std::string last = losses_.empty()
                               ? std::string("no earlier step")
                               : hosm::detail::concat("last finite loss ", losses_.back(),
                                                      " at step ", losses_.size() - 1);
        std::string ck = last_checkpoint_.empty()
                             ? std::string("no checkpoint has been written")
                             : hosm::detail::concat("last good checkpoint '", last_checkpoint_,
                                                    "' (step ", last_checkpoint_step_, ") kept");
        throw error(hosm::detail::concat("hosm: train::trainer: training diverged at step ", t,
                                         " (loss = ", loss, "; ", last, "): ", reason, "; ", ck));
    }

    template <class Source>
    history run_source(const Source& src) {
        constexpr const char* where = "train::trainer::run";
        const index_t D = static_cast<index_t>(model_->dim());
        if (static_cast<index_t>(src.dim()) != D)
            hosm::detail::fail(where, "dimension mismatch: the samples have dimension ", src.dim(),
                               ", the model's dimension is ", D);
        if (opt_.resume && std::filesystem::exists(opt_.checkpoint_path))
            load_checkpoint(opt_.checkpoint_path);
        history h;
        h.first_step = step_;
        const index_t N = opt_.batch;
        batch<T, B> x(D, N);
        progress_meter pm(opt_.progress, opt_.steps, step_, opt_.progress_interval);
        for (double l : losses_) pm.observe(l);
        const random::stream noise{opt_.seed, stream_ids::noise};
        const auto t0 = progress_meter::clock::now();
        auto& params = model_->parameters();
        auto& grads = model_->gradients();
        const index_t P = static_cast<index_t>(params.size());
        T* p = thrust::raw_pointer_cast(params.data());
        T* g = thrust::raw_pointer_cast(grads.data());

        while (step_ < opt_.steps) {
            const index_t t = step_;
            src.draw(t, x.view());
            if (opt_.schedule) {
                const double lr = opt_.schedule(t);
                if (!(std::isfinite(lr) && lr >= 0.0))
                    hosm::detail::fail(where, "argument 'schedule' gave the learning rate ", lr,
                                       " at step ", t, " (must be finite and >= 0)");
                optimizer_.set_lr(static_cast<T>(lr));
            }
            model_->zero_gradients();
            double loss = 0;
            try {
                loss = static_cast<double>(policy::run(obj_, *model_, std::as_const(x).view(), noise,
                                                       static_cast<std::uint64_t>(t) *
                                                           static_cast<std::uint64_t>(N),
                                                       ws_));
            } catch (const error& e) {
                diverged(t, "not finite (the step was rejected)", e.what());
            }
            if (!std::isfinite(loss)) diverged(t, hosm::detail::concat(loss), "the loss is not finite");
            const T gnorm = optim::global_norm<B>(static_cast<const T*>(g), P);
            if (!std::isfinite(static_cast<double>(gnorm)))
                diverged(t, hosm::detail::concat(loss), hosm::detail::concat("the gradient norm is ", gnorm));
            if (opt_.clip_norm > 0) optim::clip_by_norm<B>(g, P, static_cast<T>(opt_.clip_norm));
            if (opt_.clip_value > 0) optim::clip_by_value<B>(g, P, static_cast<T>(opt_.clip_value));
            try {
                optimizer_.step(params, grads);
            } catch (const error& e) {
                diverged(t, hosm::detail::concat(loss), hosm::detail::concat("the optimiser rejected the step: ", e.what()));
            }
            const T pnorm = optim::global_norm<B>(static_cast<const T*>(p), P);
            if (!std::isfinite(static_cast<double>(pnorm)))
                diverged(t, hosm::detail::concat(loss), "the update overflowed: the model's parameters in memory are "
                                  "now non-finite (reload the checkpoint)");
            if (ema_) ema_->update(params);
            losses_.push_back(loss);
            step_ = t + 1;
            pm.update(step_, loss);
            if (opt_.checkpoint_every > 0 && step_ % opt_.checkpoint_every == 0 &&
                step_ < opt_.steps) {
                save_checkpoint(opt_.checkpoint_path);
                last_checkpoint_ = opt_.checkpoint_path;
                last_checkpoint_step_ = step_;
            }
        }
        if (!opt_.checkpoint_path.empty() &&
            !(last_checkpoint_ == opt_.checkpoint_path && last_checkpoint_step_ == step_)) {
            save_checkpoint(opt_.checkpoint_path);
            last_checkpoint_ = opt_.checkpoint_path;
            last_checkpoint_step_ = step_;
        }
        pm.finish(step_);
        h.steps = step_;
        h.loss = losses_;
        h.seconds = std::chrono::duration<double>(progress_meter::clock::now() - t0).count();
        h.smoothed = pm.smoothed();
        h.checkpoint = last_checkpoint_;
        return h;
    }

    Model* model_;
    Objective obj_;
    options opt_;
    Optimizer optimizer_;
    std::optional<optim::ema<T, B>> ema_;
    typename policy::template workspace<Model> ws_;
    index_t step_ = 0;
    std::vector<double> losses_;
    std::string last_checkpoint_;
    index_t last_checkpoint_step_ = 0;
};

}  // namespace hosm::train
