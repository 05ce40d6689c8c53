/**
 * @file fmi/data.hpp
 * @brief Typed data buffers, as in the original FMI (FMI::Comm::Data).
 *
 * Part of the C++ wrapper: programs include <fmi.hpp>, which includes this file.
 */
#ifndef FMI_DATA_HPP
#define FMI_DATA_HPP

#include "core.hpp"

namespace FMI {

/** @brief Typed data buffers, as in the original FMI (FMI::Comm::Data). */
namespace Comm {

/**
 * @brief A single value of fundamental type T (int8..uint64, float, double, char, std::byte).
 *
 * Sent as one element of the matching fmi_datatype. bool is rejected at compile time.
 * Other trivially copyable types are sent as raw bytes (FMI_BYTE) and cannot be reduced.
 */
template <typename T>
class Data {
public:
    /** @brief The fmi_datatype used on the wire. */
    static constexpr fmi_datatype datatype = detail::datatype_of<T>();

    /** @brief Value-initialised value. */
    Data() = default;
    /** @brief Wraps a copy of value. */
    Data(T value) : val(value) {}

    /** @brief sizeof(T). */
    std::size_t size_in_bytes() const { return sizeof(T); }
    /** @brief Number of elements passed to the C API (1, or sizeof(T) for raw-byte types). */
    std::size_t count() const { return datatype == FMI_BYTE ? sizeof(T) : 1; }
    /** @brief Pointer to the start of the buffer. */
    char *data() { return reinterpret_cast<char *>(&val); }
    /** @brief Pointer to the start of the buffer. */
    const char *data() const { return reinterpret_cast<const char *>(&val); }
    /** @brief Returns the value. */
    T get() const { return val; }

    /** @brief Prints the value. */
    friend std::ostream &operator<<(std::ostream &o, const Data &t) { return o << t.get(); }
    /** @brief Compares the values. */
    friend bool operator==(const Data &lhs, const Data &rhs) { return lhs.get() == rhs.get(); }

private:
    T val{};
};

/**
 * @brief A std::vector<A> buffer; its size must be set before it is received into.
 *
 * Arithmetic A uses the matching fmi_datatype (one element per A); other trivially copyable A are
 * sent as raw bytes (FMI_BYTE) and cannot be reduced.
 */
template <typename A>
class Data<std::vector<A>> {
public:
    /** @brief The fmi_datatype used on the wire. */
    static constexpr fmi_datatype datatype = detail::datatype_of<A>();

    /** @brief Empty vector. */
    Data() = default;
    /** @brief Vector of n value-initialised elements. */
    Data(std::size_t n) : val(n) {}
    /** @brief Wraps (takes) the given vector. */
    Data(std::vector<A> value) : val(std::move(value)) {}

    /** @brief sizeof(A) * number of elements. */
    std::size_t size_in_bytes() const { return sizeof(A) * val.size(); }
    /** @brief Number of elements of A. */
    std::size_t size() const { return val.size(); }
    /** @brief Number of elements passed to the C API (elements, or bytes for raw-byte types). */
    std::size_t count() const { return datatype == FMI_BYTE ? size_in_bytes() : val.size(); }
    /** @brief Pointer to the start of the vector storage. */
    char *data() { return reinterpret_cast<char *>(val.data()); }
    /** @brief Pointer to the start of the vector storage. */
    const char *data() const { return reinterpret_cast<const char *>(val.data()); }
    /** @brief The vector (modifiable). */
    std::vector<A> &get() { return val; }
    /** @brief The vector. */
    const std::vector<A> &get() const { return val; }

private:
    std::vector<A> val;
};

/** @brief Raw memory (pointer + length in bytes), not owned; sent as FMI_BYTE. Cannot be reduced. */
template <>
class Data<void *> {
public:
    /** @brief The fmi_datatype used on the wire. */
    static constexpr fmi_datatype datatype = FMI_BYTE;

    /** @brief Empty buffer. */
    Data() = default;
    /** @brief Wraps bytes bytes at ptr (not copied, not freed). */
    Data(void *ptr, std::size_t bytes) : buf(ptr), len(bytes) {}

    /** @brief The length in bytes. */
    std::size_t size_in_bytes() const { return len; }
    /** @brief Number of elements passed to the C API (bytes). */
    std::size_t count() const { return len; }
    /** @brief Pointer to the start of the buffer. */
    char *data() { return static_cast<char *>(buf); }
    /** @brief Pointer to the start of the buffer. */
    const char *data() const { return static_cast<const char *>(buf); }
    /** @brief The wrapped pointer. */
    void *get() const { return buf; }

private:
    void *buf = nullptr;
    std::size_t len = 0;
};

} // namespace Comm

} // namespace FMI

#endif // FMI_DATA_HPP
