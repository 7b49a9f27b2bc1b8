// hosm/models/init_scheme.hpp — random initialisation of dense layers.
//
// A dense layer y = W x + b with W of out x in ("fan_in" = in, "fan_out" = out)
// is initialised by one of
//
//   init_scheme::pytorch        W_ij, b_i ~ U(-1/sqrt(in), 1/sqrt(in))
//                               (torch.nn.Linear's default; the seeds' code
//                               used PyTorch defaults, so this is hosm's default)
//   init_scheme::lecun_normal   W_ij ~ N(0, 1/in),          b = 0
//   init_scheme::glorot_normal  W_ij ~ N(0, 2/(in + out)),  b = 0
//   init_scheme::he_normal      W_ij ~ N(0, 2/in),          b = 0
//
// init_draw<T>(scheme, s, index, in, out, is_bias) returns the value of the
// parameter with global random index `index` drawn from random::stream s:
// s.normal<T>(index, 0) scaled for the normal schemes, (2 u - 1) / sqrt(in)
// with u = s.uniform<T>(index, 0) for pytorch. A parameter's value depends
// only on (s, index), never on the back end or the thread count; callers give
// every parameter of a model a distinct index (its flat offset).
#pragma once
#include <cmath>
#include <cstdint>

#include <hosm/core/error.hpp>
#include <hosm/core/types.hpp>
#include <hosm/random/stream.hpp>

namespace hosm::models {

enum class init_scheme { pytorch, lecun_normal, glorot_normal, he_normal };

/// "pytorch", "lecun_normal", "glorot_normal" or "he_normal".
inline const char* name(init_scheme s) {
    switch (s) {
        case init_scheme::pytorch: return "pytorch";
        case init_scheme::lecun_normal: return "lecun_normal";
        case init_scheme::glorot_normal: return "glorot_normal";
        case init_scheme::he_normal: return "he_normal";
    }
    hosm::detail::fail("models::name(init_scheme)", "argument 's' = ", static_cast<int>(s),
                       " is not an init_scheme");
}

/// One initial parameter value (see the header). in, out >= 1.
template <class T>
T init_draw(init_scheme scheme, const random::stream& s, std::uint64_t index, index_t in,
            index_t out, bool is_bias) {
    const T fan_in = static_cast<T>(in), fan_out = static_cast<T>(out);
    switch (scheme) {
        case init_scheme::pytorch:
            return (T(2) * s.uniform<T>(index, 0) - T(1)) / std::sqrt(fan_in);
        case init_scheme::lecun_normal:
            return is_bias ? T(0) : s.normal<T>(index, 0) * std::sqrt(T(1) / fan_in);
        case init_scheme::glorot_normal:
            return is_bias ? T(0) : s.normal<T>(index, 0) * std::sqrt(T(2) / (fan_in + fan_out));
        case init_scheme::he_normal:
            return is_bias ? T(0) : s.normal<T>(index, 0) * std::sqrt(T(2) / fan_in);
    }
    hosm::detail::fail("models::init_draw", "argument 'scheme' = ", static_cast<int>(scheme),
                       " is not an init_scheme");
}

}  // namespace hosm::models
