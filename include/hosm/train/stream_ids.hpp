// hosm/train/stream_ids.hpp — the random stream ids a training run uses under
// its seed (random::stream{seed, id}); distinct ids give independent numbers.
//
//   data   0x44415441 "DATA"   clean samples (targets) / minibatch indices (data)
//   noise  0x4e4f4953 "NOIS"   the Gaussian noise z of the denoising objectives
//   init   0x494e4954 "INIT"   model initialisation (used by hosm::experiment)
//   chain  0x4348414e "CHAN"   sampler noise (hosm::experiment)
//   start  0x53545254 "STRT"   initial chain states (hosm::experiment)
#pragma once
#include <cstdint>

namespace hosm::train::stream_ids {

inline constexpr std::uint32_t data = 0x44415441u;
inline constexpr std::uint32_t noise = 0x4e4f4953u;
inline constexpr std::uint32_t init = 0x494e4954u;
inline constexpr std::uint32_t chain = 0x4348414eu;
inline constexpr std::uint32_t start = 0x53545254u;

}  // namespace hosm::train::stream_ids
