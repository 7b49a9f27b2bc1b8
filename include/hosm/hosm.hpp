// hosm/hosm.hpp — the umbrella header: every public header of hosm that the
// host compiler builds, layer by layer (see DESIGN.md). The CUDA back end
// (hosm/backend/cuda.hpp) needs nvcc and is not included; include it
// yourself in .cu translation units. Note that hosm/backend/omp.hpp is
// included, so translation units that include this header are host
// translation units (omp.hpp refuses nvcc).
//
//   #include <hosm/hosm.hpp>
//   using namespace hosm;
#pragma once

// configuration
#include <hosm/config.hpp>

// backend
#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/backend/gemm.hpp>
#include <hosm/backend/omp.hpp>
#include <hosm/backend/transpose.hpp>

// concepts
#include <hosm/concepts/backend.hpp>
#include <hosm/concepts/hessian_structure.hpp>
#include <hosm/concepts/sampler.hpp>
#include <hosm/concepts/score_model.hpp>
#include <hosm/concepts/score_source.hpp>
#include <hosm/concepts/target.hpp>


// core
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/core/error.hpp>
#include <hosm/core/types.hpp>

// diagnostics
#include <hosm/diagnostics/ess.hpp>
#include <hosm/diagnostics/imq_kernel.hpp>
#include <hosm/diagnostics/ksd.hpp>
#include <hosm/diagnostics/mmd.hpp>
#include <hosm/diagnostics/moments.hpp>
#include <hosm/diagnostics/rbf_kernel.hpp>
#include <hosm/diagnostics/rhat.hpp>
#include <hosm/diagnostics/score_error.hpp>
#include <hosm/diagnostics/trace_view.hpp>

// fd
#include <hosm/fd/coefficients.hpp>
#include <hosm/fd/directional.hpp>
#include <hosm/fd/stencil.hpp>

// hessian
#include <hosm/hessian/batch.hpp>
#include <hosm/hessian/diagonal.hpp>
#include <hosm/hessian/full.hpp>
#include <hosm/hessian/low_rank.hpp>
#include <hosm/hessian/operations.hpp>
#include <hosm/hessian/solve.hpp>

// io
#include <hosm/io/array.hpp>
#include <hosm/io/csv.hpp>
#include <hosm/io/dtype.hpp>
#include <hosm/io/npy.hpp>
#include <hosm/io/npz.hpp>

// models
#include <hosm/models/activation.hpp>
#include <hosm/models/energy_mlp.hpp>
#include <hosm/models/exponential_family.hpp>
#include <hosm/models/gauss_bernoulli_rbm.hpp>
#include <hosm/models/gps.hpp>
#include <hosm/models/init_scheme.hpp>
#include <hosm/models/mlp.hpp>
#include <hosm/models/mlp_layers.hpp>
#include <hosm/models/mlp_score.hpp>
#include <hosm/models/mlp_score_config.hpp>
#include <hosm/models/sigma_mlp_score.hpp>

// noise
#include <hosm/noise/gaussian.hpp>
#include <hosm/noise/multimeasurement.hpp>
#include <hosm/noise/schedule.hpp>

// objectives
#include <hosm/objectives/d2sm.hpp>
#include <hosm/objectives/d2sm_centered.hpp>
#include <hosm/objectives/d2sm_vr.hpp>
#include <hosm/objectives/dsm.hpp>
#include <hosm/objectives/dsm_vr.hpp>
#include <hosm/objectives/fd_dsm.hpp>
#include <hosm/objectives/fd_ssm.hpp>
#include <hosm/objectives/fd_ssm_vr.hpp>
#include <hosm/objectives/gps_denoising.hpp>
#include <hosm/objectives/joint.hpp>
#include <hosm/objectives/kth_order.hpp>
#include <hosm/objectives/multiscale.hpp>
#include <hosm/objectives/sm.hpp>
#include <hosm/objectives/ssm.hpp>
#include <hosm/objectives/ssm_vr.hpp>
#include <hosm/objectives/variance_reduction/antithetic.hpp>
#include <hosm/objectives/variance_reduction/none.hpp>

// optim
#include <hosm/optim/adam.hpp>
#include <hosm/optim/clip.hpp>
#include <hosm/optim/ema.hpp>
#include <hosm/optim/schedule.hpp>
#include <hosm/optim/schedule/constant.hpp>
#include <hosm/optim/schedule/cosine.hpp>
#include <hosm/optim/schedule/exponential.hpp>
#include <hosm/optim/schedule/step_decay.hpp>
#include <hosm/optim/sgd.hpp>

// random
#include <hosm/random/normal.hpp>
#include <hosm/random/philox.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/random/uniform.hpp>

// samplers
#include <hosm/samplers/annealed_langevin.hpp>
#include <hosm/samplers/baoab.hpp>
#include <hosm/samplers/chains.hpp>
#include <hosm/samplers/condition_number.hpp>
#include <hosm/samplers/langevin.hpp>
#include <hosm/samplers/mala.hpp>
#include <hosm/samplers/ozaki.hpp>
#include <hosm/samplers/reverse_sde.hpp>
#include <hosm/samplers/sachs.hpp>
#include <hosm/samplers/walk_jump.hpp>

// targets
#include <hosm/targets/correlated_gaussian.hpp>
#include <hosm/targets/gaussian.hpp>
#include <hosm/targets/gaussian_mixture.hpp>
#include <hosm/targets/m_density.hpp>
#include <hosm/targets/mixture_of_logistics.hpp>
#include <hosm/targets/toys.hpp>

// train
#include <hosm/train/data_samples.hpp>
#include <hosm/train/history.hpp>
#include <hosm/train/model_concepts.hpp>
#include <hosm/train/model_source.hpp>
#include <hosm/train/optimizer_state.hpp>
#include <hosm/train/options.hpp>
#include <hosm/train/progress_meter.hpp>
#include <hosm/train/progress_sink.hpp>
#include <hosm/train/sample_source.hpp>
#include <hosm/train/step_policy.hpp>
#include <hosm/train/stream_ids.hpp>
#include <hosm/train/target_samples.hpp>
#include <hosm/train/trainer.hpp>

// tweedie
#include <hosm/tweedie/denoise.hpp>
#include <hosm/tweedie/moments.hpp>
#include <hosm/tweedie/posterior.hpp>

// the composition
#include <hosm/experiment.hpp>
