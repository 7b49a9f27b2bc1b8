// hosm/models/detail/sigma_conditioning.hpp — how models::sigma_mlp_score
// makes an MLP depend on the noise level sigma (see sigma_mlp_score.hpp).
//
//   sigma_conditioning::log_sigma_input               s1(x, sigma) = f([x; log sigma])
//   sigma_conditioning::output_scale                  s1(x, sigma) = f(x) / sigma
//   sigma_conditioning::log_sigma_input_output_scale  s1(x, sigma) = f([x; log sigma]) / sigma
//
// name(c) gives "log_sigma_input", ... for messages; a value outside the enum
// throws hosm::error.
#pragma once
#include <hosm/core/error.hpp>

namespace hosm::models {

enum class sigma_conditioning { log_sigma_input, output_scale, log_sigma_input_output_scale };

inline const char* name(sigma_conditioning c) {
    switch (c) {
        case sigma_conditioning::log_sigma_input: return "log_sigma_input";
        case sigma_conditioning::output_scale: return "output_scale";
        case sigma_conditioning::log_sigma_input_output_scale: return "log_sigma_input_output_scale";
    }
    hosm::detail::fail("models::name(sigma_conditioning)", "argument 'c' = ", static_cast<int>(c),
                       " is not a sigma_conditioning");
}

/// True if the network sees log sigma as an extra input.
inline bool takes_log_sigma(sigma_conditioning c) {
    return c != sigma_conditioning::output_scale;
}
/// True if the output is divided by sigma.
inline bool scales_output(sigma_conditioning c) {
    return c != sigma_conditioning::log_sigma_input;
}

}  // namespace hosm::models
