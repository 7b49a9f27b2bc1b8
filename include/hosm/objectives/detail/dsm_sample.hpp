// hosm/objectives/detail/dsm_sample.hpp — per-sample DSM and DSM-VR integrands
// and their gradients (HOSM_HOST_DEVICE; no allocation, no exceptions). The
// formulas and their derivations are in hosm/objectives/dsm.hpp and dsm_vr.hpp.
//
//   dsm_sample(D, s1, z, sigma)                 (1/2) |s1 + z/sigma|^2
//   dsm_backward(D, s1, z, sigma, c, g, add)    g (+)= c (s1 + z/sigma)
//   dsm_vr_sample(D, sp, sm, z, sigma)          (1/4)(|sp|^2 + |sm|^2) + z.(sp - sm)/(2 sigma)
//   dsm_vr_backward(D, sp, sm, z, sigma, c, gp, gm, add)
//                                               gp (+)= (c/2)(sp + z/sigma),
//                                               gm (+)= (c/2)(sm - z/sigma)
#pragma once
#include <hosm/config.hpp>
#include <hosm/core/types.hpp>

namespace hosm::objectives::detail {

template <class T>
HOSM_HOST_DEVICE inline T dsm_sample(index_t D, const T* s1, const T* z, T sigma) {
    const T inv = T(1) / sigma;
    T l = T(0);
    for (index_t i = 0; i < D; ++i) {
        const T r = s1[i] + z[i] * inv;
        l += r * r;
    }
    return l / T(2);
}

template <class T>
HOSM_HOST_DEVICE inline void dsm_backward(index_t D, const T* s1, const T* z, T sigma, T c, T* g,
                                          bool add) {
    const T inv = T(1) / sigma;
    for (index_t i = 0; i < D; ++i) {
        const T v = c * (s1[i] + z[i] * inv);
        g[i] = add ? g[i] + v : v;
    }
}

template <class T>
HOSM_HOST_DEVICE inline T dsm_vr_sample(index_t D, const T* sp, const T* sm, const T* z, T sigma) {
    T sq = T(0), cross = T(0);
    for (index_t i = 0; i < D; ++i) {
        sq += sp[i] * sp[i] + sm[i] * sm[i];
        cross += z[i] * (sp[i] - sm[i]);
    }
    return sq / T(4) + cross / (T(2) * sigma);
}

template <class T>
HOSM_HOST_DEVICE inline void dsm_vr_backward(index_t D, const T* sp, const T* sm, const T* z,
                                             T sigma, T c, T* gp, T* gm, bool add) {
    const T inv = T(1) / sigma, h = c / T(2);
    for (index_t i = 0; i < D; ++i) {
        const T vp = h * (sp[i] + z[i] * inv);
        const T vm = h * (sm[i] - z[i] * inv);
        gp[i] = add ? gp[i] + vp : vp;
        gm[i] = add ? gm[i] + vm : vm;
    }
}

}  // namespace hosm::objectives::detail
