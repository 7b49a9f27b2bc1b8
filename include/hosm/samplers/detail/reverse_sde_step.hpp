// hosm/samplers/detail/reverse_sde_step.hpp — the coefficients of one
// exponential-integrator step of a reverse-time SDE (used by samplers::ve_sde,
// samplers::vp_sde and samplers::reverse_sde; see samplers/reverse_sde.hpp).
//
// A step from forward time t down to t' < t, with the score frozen at
// s = s_t(x) (seed 001, "Discretize the reverse SDE using an exponential
// integrator"), solves the linear SDE exactly:
//
//     x' = a x + c s + sqrt(v) xi,    xi ~ N(0, I).
#pragma once

namespace hosm::samplers {

template <class T>
struct reverse_step {
    T a;  // multiplies x
    T c;  // multiplies the score s_t(x)
    T v;  // variance of the added Gaussian noise
};

}  // namespace hosm::samplers
