// hosm/backend/transpose.hpp — the op(X) flag of the GEMM interface.
#pragma once

namespace hosm::backend {

/// op(X) = X (no) or X^T (yes), as cuBLAS's CUBLAS_OP_N / CUBLAS_OP_T.
enum class transpose { no, yes };

}  // namespace hosm::backend
