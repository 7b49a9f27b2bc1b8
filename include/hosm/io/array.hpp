// hosm/io/array.hpp — a host n-d array of one of the io dtypes, the unit that
// .npy files and .npz members hold.
//
// An array has a dtype (float32, float64, int64, uint64), a shape (d_0, ...,
// d_{k-1}) with k >= 0 (k = 0 is a scalar, one element), a memory order and
// size() = d_0 ... d_{k-1} elements stored contiguously:
//   C order (fortran_order() false): the last index varies fastest (NumPy's default);
//   Fortran order (true): the first index varies fastest.
// hosm matrices are column-major, so a D x N matrix is stored as shape
// (D, N) with fortran_order true: NumPy reads it back as the same D x N
// matrix, and NumPy's own C-order (D, N) arrays are transposed into place by
// to_matrix(). The order flag only matters for k >= 2.
//
// API
//   io::array a(dtype, shape, fortran_order = false)     zero-filled
//   io::array::from<T>(const T* data, shape, fortran_order = false)   copies
//   io::array::scalar<T>(v)                              shape (), one value
//   io::array::from_eigen(m)   Eigen column vector -> shape (n,);
//                              matrix -> shape (rows, cols), Fortran order
//   io::array::from_vector(v)  any vector with .size(), .begin(), value_type
//                              (std::vector, thrust host or device vector)
//                              -> shape (n,)
//   a.type(), a.shape(), a.ndim(), a.size(), a.nbytes(), a.fortran_order()
//   a.data<T>()      typed pointer to the elements in storage order
//   a.to_vector<T>() copy of the elements in storage order
//   a.to_matrix<T>() hosm::matrix<T>: 2-d arrays as they are (either order),
//                    1-d arrays as one column, 0-d as 1 x 1
//   a.item<T>()      the value of a one-element array
//   a.bytes()        the raw little-endian payload (nbytes() bytes)
//   a == b           same dtype, shape, order and bitwise equal elements
//
// Errors (hosm::error naming the function and the value): a negative
// dimension; an element count that overflows; a dtype other than T's in
// data<T>, to_vector<T>, to_matrix<T>, item<T>; to_matrix on k > 2;
// item on size() != 1.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <Eigen/Dense>
#include <thrust/copy.h>

#include <hosm/core/eigen.hpp>
#include <hosm/core/error.hpp>
#include <hosm/core/types.hpp>
#include <hosm/io/dtype.hpp>

namespace hosm::io {

class array {
public:
    using shape_type = std::vector<index_t>;

    /// A float64 array of shape (0,).
    array() : array(dtype::float64, shape_type{0}) {}

    array(dtype type, shape_type shape, bool fortran_order = false)
        : shape_(std::move(shape)), fortran_(fortran_order) {
        const std::size_t n = checked_size("io::array", shape_, item_size(type));
        switch (type) {
            case dtype::float32: data_ = std::vector<float>(n); break;
            case dtype::float64: data_ = std::vector<double>(n); break;
            case dtype::int64: data_ = std::vector<std::int64_t>(n); break;
            case dtype::uint64: data_ = std::vector<std::uint64_t>(n); break;
        }
    }

    template <class T>
    static array from(const T* data, shape_type shape, bool fortran_order = false) {
        array a(dtype_of<T>, std::move(shape), fortran_order);
        if (a.size() > 0) {
            if (data == nullptr) hosm::detail::fail("io::array::from", "argument 'data' is a null pointer");
            std::memcpy(a.data<T>(), data, a.nbytes());
        }
        return a;
    }

    template <class T>
    static array scalar(T value) {
        return from(&value, shape_type{});
    }

    template <class Derived>
    static array from_eigen(const Eigen::MatrixBase<Derived>& m) {
        using T = typename Derived::Scalar;
        const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor> c = m;
        if constexpr (Derived::ColsAtCompileTime == 1)
            return from(c.data(), shape_type{static_cast<index_t>(c.rows())});
        else
            return from(c.data(), shape_type{static_cast<index_t>(c.rows()), static_cast<index_t>(c.cols())},
                        true);
    }

    template <class Vector>
    static array from_vector(const Vector& v) {
        using T = typename Vector::value_type;
        array a(dtype_of<T>, shape_type{static_cast<index_t>(v.size())});
        if (a.size() > 0) thrust::copy(v.begin(), v.end(), a.data<T>());
        return a;
    }

    dtype type() const { return static_cast<dtype>(data_.index()); }
    const shape_type& shape() const { return shape_; }
    index_t ndim() const { return static_cast<index_t>(shape_.size()); }
    index_t size() const {
        return std::visit([](const auto& v) { return static_cast<index_t>(v.size()); }, data_);
    }
    std::size_t nbytes() const { return static_cast<std::size_t>(size()) * item_size(type()); }
    bool fortran_order() const { return fortran_; }

    template <class T>
    T* data() {
        return storage<T>("io::array::data").data();
    }
    template <class T>
    const T* data() const {
        return storage<T>("io::array::data").data();
    }
    /// The raw payload (nbytes() bytes, little-endian).
    const void* bytes() const {
        return std::visit([](const auto& v) { return static_cast<const void*>(v.data()); }, data_);
    }
    void* bytes() {
        return std::visit([](auto& v) { return static_cast<void*>(v.data()); }, data_);
    }

    template <class T>
    std::vector<T> to_vector() const {
        return storage<T>("io::array::to_vector");
    }

    template <class T>
    T item() const {
        const auto& v = storage<T>("io::array::item");
        if (v.size() != 1)
            hosm::detail::fail("io::array::item", "the array has ", v.size(), " elements, expected 1");
        return v[0];
    }

    template <class T>
    matrix<T> to_matrix() const {
        constexpr const char* where = "io::array::to_matrix";
        const auto& v = storage<T>(where);
        if (ndim() > 2) hosm::detail::fail(where, "the array has ", ndim(), " dimensions, expected at most 2");
        if (ndim() < 2) {
            matrix<T> m(static_cast<Eigen::Index>(v.size()), 1);
            for (std::size_t i = 0; i < v.size(); ++i) m(static_cast<Eigen::Index>(i), 0) = v[i];
            return m;
        }
        const index_t r = shape_[0], c = shape_[1];
        matrix<T> m(r, c);
        if (fortran_) {
            if (!v.empty()) std::memcpy(m.data(), v.data(), v.size() * sizeof(T));
        } else {
            for (index_t i = 0; i < r; ++i)
                for (index_t j = 0; j < c; ++j) m(i, j) = v[static_cast<std::size_t>(i * c + j)];
        }
        return m;
    }

    friend bool operator==(const array& a, const array& b) {
        return a.type() == b.type() && a.shape_ == b.shape_ &&
               (a.fortran_ == b.fortran_ || a.ndim() < 2) && a.nbytes() == b.nbytes() &&
               (a.nbytes() == 0 || std::memcmp(a.bytes(), b.bytes(), a.nbytes()) == 0);
    }

    /// Number of elements of `shape` after checking each dimension is >= 0
    /// and that size * itemsize fits in std::size_t and index_t.
    static std::size_t checked_size(const char* where, const shape_type& shape, std::size_t itemsize) {
        const std::size_t limit = static_cast<std::size_t>(std::numeric_limits<index_t>::max()) / itemsize;
        std::size_t n = 1;
        for (std::size_t k = 0; k < shape.size(); ++k) {
            if (shape[k] < 0)
                hosm::detail::fail(where, "dimension ", k, " of the shape is negative: ", shape[k]);
            const auto d = static_cast<std::size_t>(shape[k]);
            if (d != 0 && n > limit / d)
                hosm::detail::fail(where, "the shape's element count overflows (dimension ", k, " = ", d, ")");
            n *= d;
        }
        return n;
    }

private:
    template <class T>
    const std::vector<T>& storage(const char* where) const {
        if (type() != dtype_of<T>)
            hosm::detail::fail(where, "the array has dtype ", type_name(type()), " ('", descr(type()),
                               "'), requested ", type_name(dtype_of<T>));
        return std::get<std::vector<T>>(data_);
    }
    template <class T>
    std::vector<T>& storage(const char* where) {
        return const_cast<std::vector<T>&>(std::as_const(*this).storage<T>(where));
    }

    // variant index == static_cast<int>(dtype)
    std::variant<std::vector<float>, std::vector<double>, std::vector<std::int64_t>, std::vector<std::uint64_t>>
        data_;
    shape_type shape_;
    bool fortran_ = false;
};

}  // namespace hosm::io
