// hosm/samplers/detail/langevin_host.hpp — the ULA update vectorised across
// chains, for host back ends.
//
// ula_fn (langevin_kernels.hpp) updates one chain at a time; for a small D
// most of its time is one Philox call and the scalar log, sqrt, cos, sin of
// each Box–Muller pair. Here 16 chains go through together:
//
//   * Philox4x32-10 on 16 counters at once (lane l: index key(j0 + l)), in
//     32-bit integer lanes (one AVX-512 register where the compiler targets
//     AVX-512, else a plain lane loop): the same 10 rounds and key schedule as
//     Random123's r123::Philox4x32, so the 128 random bits of every chain are
//     exactly those of random::philox_block;
//   * Box–Muller (random/normal.hpp) on 16 pairs as Eigen arrays: the same
//     uniforms (bits_to_open_unit), r = sqrt(-2 log u1), n0 = r cos(2 pi u2),
//     n1 = r sin(2 pi u2), with Eigen's SIMD log / cos / sin — so a normal equals
//     stream.normal(key, k) to a few ulp (libm's scalar functions against
//     Eigen's packet ones), not bit for bit;
//   * out = x + half_eps g + sqrt_eps z, and nonfinite_score for a non-finite g.
//
// Every chain goes through the same code whatever its place in a block (the
// last block is padded), so chains are identical for every batching and on
// cpp and omp (for_blocks spreads blocks over the back end's threads).
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <type_traits>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include <hosm/core/batch_view.hpp>
#include <hosm/core/types.hpp>
#include <hosm/random/philox.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/samplers/chains.hpp>

namespace hosm::samplers::detail {

inline constexpr index_t ula_lanes = 16;

/// Philox4x32-10 of 16 counters that differ in words 2 and 3 (the sample index).
struct philox16 {
    std::uint32_t w[4][ula_lanes];

    void run(std::uint32_t c0, std::uint32_t c1, const std::uint32_t* c2, const std::uint32_t* c3,
             std::uint64_t seed) {
        constexpr std::uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
        constexpr std::uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
        std::uint32_t k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
#if defined(__AVX512F__)
        // 16 lanes in one register; mulhilo: even lanes from mul_epu32, odd
        // lanes from mul_epu32 of the lanes shifted down, blended
        const __m512i m0 = _mm512_set1_epi32(static_cast<int>(M0)), m1 = _mm512_set1_epi32(static_cast<int>(M1));
        __m512i x0 = _mm512_set1_epi32(static_cast<int>(c0)), x1 = _mm512_set1_epi32(static_cast<int>(c1));
        __m512i x2 = _mm512_loadu_si512(c2), x3 = _mm512_loadu_si512(c3);
        auto hi = [](__m512i a, __m512i m) {
            const __m512i even = _mm512_srli_epi64(_mm512_mul_epu32(a, m), 32);
            const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
            return _mm512_mask_blend_epi32(__mmask16(0xAAAA), even, odd);
        };
        for (int r = 0; r < 10; ++r) {
            if (r > 0) {
                k0 += W0;
                k1 += W1;
            }
            const __m512i h0 = hi(x0, m0), h1 = hi(x2, m1);
            const __m512i l0 = _mm512_mullo_epi32(x0, m0), l1 = _mm512_mullo_epi32(x2, m1);
            x0 = _mm512_xor_si512(_mm512_xor_si512(h1, x1), _mm512_set1_epi32(static_cast<int>(k0)));
            x2 = _mm512_xor_si512(_mm512_xor_si512(h0, x3), _mm512_set1_epi32(static_cast<int>(k1)));
            x1 = l1;
            x3 = l0;
        }
        _mm512_storeu_si512(w[0], x0);
        _mm512_storeu_si512(w[1], x1);
        _mm512_storeu_si512(w[2], x2);
        _mm512_storeu_si512(w[3], x3);
#else
        std::uint32_t x0[ula_lanes], x1[ula_lanes], x2[ula_lanes], x3[ula_lanes];
        for (index_t l = 0; l < ula_lanes; ++l) {
            x0[l] = c0;
            x1[l] = c1;
            x2[l] = c2[l];
            x3[l] = c3[l];
        }
        for (int r = 0; r < 10; ++r) {
            if (r > 0) {
                k0 += W0;
                k1 += W1;
            }
            for (index_t l = 0; l < ula_lanes; ++l) {
                const std::uint64_t p0 = std::uint64_t(M0) * x0[l];
                const std::uint64_t p1 = std::uint64_t(M1) * x2[l];
                const std::uint32_t n0 = std::uint32_t(p1 >> 32) ^ x1[l] ^ k0;
                const std::uint32_t n2 = std::uint32_t(p0 >> 32) ^ x3[l] ^ k1;
                x0[l] = n0;
                x1[l] = std::uint32_t(p1);
                x2[l] = n2;
                x3[l] = std::uint32_t(p0);
            }
        }
        for (index_t l = 0; l < ula_lanes; ++l) {
            w[0][l] = x0[l];
            w[1][l] = x1[l];
            w[2][l] = x2[l];
            w[3][l] = x3[l];
        }
#endif
    }
};

/// The two normals of every lane from its Philox block (random::box_muller's
/// formula; see the header).
template <class T>
inline void box_muller16(const philox16& b, Eigen::Array<T, ula_lanes, 1>& n0,
                         Eigen::Array<T, ula_lanes, 1>& n1) {
    using A = Eigen::Array<T, ula_lanes, 1>;
    A u1, u2;
    for (index_t l = 0; l < ula_lanes; ++l) {
        if constexpr (std::is_same_v<T, double>) {
            const std::uint64_t a = std::uint64_t(b.w[0][l]) | (std::uint64_t(b.w[1][l]) << 32);
            const std::uint64_t c = std::uint64_t(b.w[2][l]) | (std::uint64_t(b.w[3][l]) << 32);
            u1(l) = (static_cast<double>(a >> 12) + 0.5) * 0x1.0p-52;
            u2(l) = (static_cast<double>(c >> 12) + 0.5) * 0x1.0p-52;
        } else {
            // (b >> 41) of the 64-bit word (w0 | w1 << 32) is w1 >> 9
            u1(l) = (static_cast<float>(b.w[1][l] >> 9) + 0.5f) * 0x1.0p-23f;
            u2(l) = (static_cast<float>(b.w[3][l] >> 9) + 0.5f) * 0x1.0p-23f;
        }
    }
    constexpr T two_pi = T(6.283185307179586476925286766559);
    const A r = (T(-2) * u1.log()).sqrt();
    const A t = two_pi * u2;
    n0 = r * t.cos();
    n1 = r * t.sin();
}

/// One ULA step of all chains (host): out = x + half_eps g + sqrt_eps z.
template <class T, class ForBlocks>
void ula_host(batch_view<const T> x, batch_view<const T> g, batch_view<T> out, int* status,
              const random::stream& s, draw_key key, T half_eps, T sqrt_eps, ForBlocks&& for_blocks) {
    using A = Eigen::Array<T, ula_lanes, 1>;
    const index_t D = x.dim, N = x.count;
    for_blocks((N + ula_lanes - 1) / ula_lanes, [=](index_t blk) {
        const index_t j0 = blk * ula_lanes, len = N - j0 < ula_lanes ? N - j0 : ula_lanes;
        std::uint32_t c2[ula_lanes], c3[ula_lanes];
        for (index_t l = 0; l < ula_lanes; ++l) {
            const std::uint64_t idx = key(j0 + (l < len ? l : 0));
            c2[l] = static_cast<std::uint32_t>(idx);
            c3[l] = static_cast<std::uint32_t>(idx >> 32);
        }
        int st[ula_lanes] = {};
        philox16 b;
        A n0, n1;
        for (index_t k = 0; k < D; k += 2) {
            const std::uint32_t blockno = static_cast<std::uint32_t>(k >> 1);
            b.run((blockno & 0x7fffffffu) | static_cast<std::uint32_t>(random::domain::normal), s.id,
                  c2, c3, s.seed);
            box_muller16<T>(b, n0, n1);
            for (index_t l = 0; l < len; ++l) {
                const index_t j = j0 + l;
                const T* xj = x.data + j * D;
                const T* gj = g.data + j * D;
                T* o = out.data + j * D;
                for (index_t kk = k; kk < k + 2 && kk < D; ++kk) {
                    const T gv = gj[kk];
                    if (!(gv - gv == T(0))) st[l] |= nonfinite_score;
                    o[kk] = xj[kk] + half_eps * gv + sqrt_eps * (kk == k ? n0(l) : n1(l));
                }
            }
        }
        for (index_t l = 0; l < len; ++l)
            if (st[l]) status[j0 + l] |= st[l];
    });
}

}  // namespace hosm::samplers::detail
