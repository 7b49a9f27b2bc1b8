# Conan 2 recipe for hosm (header-only).
#
#   conan create . --build=missing
#   conan create . --build=missing -nr    (offline: no remote is needed, the
#                                          recipe has no Conan requirements)
#
# hosm's dependencies (Eigen 3.4, xtensor 0.24 + xtl, Random123, CCCL 3 from the
# CUDA toolkit, OpenMP) are taken from the system, as on Debian 12 with
# scripts/deps.sh: the package carries hosm's own CMake config, which finds them
# with find_package, so consumers use `find_package(hosm)` and `hosm::hosm`
# exactly as with a plain `cmake --install`.
from conan import ConanFile
from conan.tools.cmake import CMake, CMakeToolchain, cmake_layout
from conan.tools.files import load
import os
import re


class HosmConan(ConanFile):
    name = "hosm"
    description = "Header-only C++20 library for high-order score matching"
    license = "MIT"
    topics = ("score-matching", "header-only", "thrust", "cuda")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    exports_sources = "CMakeLists.txt", "cmake/*", "include/*", "LICENSE"
    no_copy_source = True

    def set_version(self):
        text = load(self, os.path.join(self.recipe_folder, "CMakeLists.txt"))
        self.version = re.search(r"project\(hosm VERSION ([0-9.]+)", text).group(1)

    def layout(self):
        cmake_layout(self)

    def generate(self):
        tc = CMakeToolchain(self)
        for opt in ("HOSM_BUILD_TESTS", "HOSM_BUILD_EXAMPLES", "HOSM_BUILD_BENCH", "HOSM_ENABLE_CUDA"):
            tc.cache_variables[opt] = False
        tc.generate()

    def package(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.install()

    def package_id(self):
        self.info.clear()

    def package_info(self):
        # Consumers use the package's own hosmConfig.cmake (it finds the
        # system dependencies); Conan only puts its folder on the search path.
        self.cpp_info.set_property("cmake_find_mode", "none")
        self.cpp_info.builddirs = [os.path.join("share", "cmake", "hosm")]
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
