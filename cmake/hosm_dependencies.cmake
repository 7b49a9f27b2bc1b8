# Finds hosm's dependencies; used by the build and by the installed package.
#   Eigen 3.4, xtensor 0.24 (+ xtl): Debian's libeigen3-dev, libxtensor-dev
#   Random123: Debian's librandom123-dev (headers only, no CMake package)
#   CCCL 3 (Thrust, CUB, libcu++): the CUDA toolkit's own CMake package
#   OpenMP: optional, enables hosm::backend::omp
#   BLAS (FindBLAS): only with HOSM_USE_BLAS=ON, for Eigen's EIGEN_USE_BLAS
#   CUDA toolkit (CUDAToolkit package): optional; CUDA::cudart and CUDA::cublas
#     for hosm::cuda (the CUDA back end); CCCL is searched next to it
include(CMakeFindDependencyMacro)

find_dependency(Eigen3 3.4 NO_MODULE)
find_dependency(xtl)
find_dependency(xtensor 0.24)

if(NOT TARGET hosm::random123)
  find_path(HOSM_RANDOM123_INCLUDE_DIR Random123/philox.h)
  if(NOT HOSM_RANDOM123_INCLUDE_DIR)
    message(FATAL_ERROR "hosm: Random123 headers not found (apt-get install librandom123-dev, "
                        "or set HOSM_RANDOM123_INCLUDE_DIR)")
  endif()
  add_library(hosm::random123 INTERFACE IMPORTED)
  set_target_properties(hosm::random123 PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${HOSM_RANDOM123_INCLUDE_DIR}")
endif()

# The toolkit gives CCCL's location and the CUDA::cudart / CUDA::cublas targets
# that hosm::cuda links; host-only use does not need it to be found.
if(NOT TARGET CUDA::cudart)
  find_package(CUDAToolkit QUIET)
endif()

if(NOT TARGET hosm::cccl)
  set(_hosm_cccl_hints /usr/local/cuda/lib/cmake /usr/local/cuda/lib64/cmake)
  if(CUDAToolkit_LIBRARY_ROOT)
    list(PREPEND _hosm_cccl_hints "${CUDAToolkit_LIBRARY_ROOT}/lib/cmake"
                                  "${CUDAToolkit_LIBRARY_ROOT}/lib64/cmake")
  endif()
  find_dependency(CCCL 3 CONFIG HINTS ${_hosm_cccl_hints})
  # hosm takes only CCCL's include paths: CCCL::CCCL would also force
  # THRUST_DEVICE_SYSTEM=CUDA on host translation units, and Thrust's own
  # targets are not importable into an exported package.
  get_filename_component(_hosm_cccl_root "${CCCL_DIR}/../../../include" ABSOLUTE)
  find_path(HOSM_CCCL_INCLUDE_DIR thrust/version.h
            HINTS "${_hosm_cccl_root}/cccl" "${_hosm_cccl_root}" NO_DEFAULT_PATH)
  if(NOT HOSM_CCCL_INCLUDE_DIR)
    message(FATAL_ERROR "hosm: CCCL found at ${CCCL_DIR} but thrust/version.h was not; "
                        "set HOSM_CCCL_INCLUDE_DIR")
  endif()
  add_library(hosm::cccl INTERFACE IMPORTED)
  set_target_properties(hosm::cccl PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${HOSM_CCCL_INCLUDE_DIR}"
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${HOSM_CCCL_INCLUDE_DIR}")
endif()

find_package(OpenMP QUIET COMPONENTS CXX)

if(HOSM_USE_BLAS)
  find_package(BLAS)
  if(NOT TARGET BLAS::BLAS)
    message(FATAL_ERROR "hosm: HOSM_USE_BLAS=ON but no BLAS was found (FindBLAS; "
                        "e.g. apt-get install libopenblas-dev, or set BLA_VENDOR)")
  endif()
endif()
