/**
 * @file fmi/core.hpp
 * @brief Errors (FMI::Error, FMI::Utils::Timeout), FMI::in_place, FMI::Utils (peer numbers,
 * hints, built-in ops, reduction functions), and the wrapper's status checks and datatype mapping.
 *
 * Part of the C++ wrapper: programs include <fmi.hpp>, which includes this file.
 */
#ifndef FMI_CORE_HPP
#define FMI_CORE_HPP

#if __cplusplus < 201703L && !(defined(_MSVC_LANG) && _MSVC_LANG >= 201703L)
#error "fmi.hpp requires C++17 or newer"
#endif

#include <fmi.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

/** @brief Everything of the C++ wrapper lives in namespace FMI, as in the original FMI library. */
namespace FMI {

/** @brief Exception thrown for every failed libfmi call; carries the fmi_status of the failure. */
class Error : public std::runtime_error {
public:
    /**
     * @param status The failing status (never FMI_SUCCESS).
     * @param message Human-readable detail, normally fmi_last_error_message().
     */
    Error(fmi_status status, const std::string &message) : std::runtime_error(message), status_(status) {}

    /** @brief The fmi_status code of the failure. */
    fmi_status status() const noexcept { return status_; }

private:
    fmi_status status_;
};

/**
 * @brief The type of FMI::in_place, which stands for a buffer the call does not need because the
 *        data already is in the other one (MPI_IN_PLACE; the C API's FMI_IN_PLACE).
 */
struct InPlace {};

/**
 * @brief Passed instead of a buffer to the in-place forms: comm.allreduce(FMI::in_place, buf, op),
 *        comm.gather(FMI::in_place, all, root) at the root, comm.scatter(all, FMI::in_place, root)
 *        at the root, ... (see each overload). Off the root of a rooted call it is an error
 *        (FMI_ERR_INVALID_ARG): the other peers call the ordinary form.
 */
inline constexpr InPlace in_place{};

/** @brief Utilities of the original FMI library: peer numbers, hints, errors and reduction functions. */
namespace Utils {

/** @brief Type of peer ids and peer counts (as in the original FMI). */
using peer_num = unsigned int;

/** @brief Thrown when an operation does not finish within the communicator timeout (FMI_ERR_TIMEOUT). */
class Timeout : public Error {
public:
    /** @brief Timeout with the original FMI message "Timeout was reached". */
    Timeout() : Error(FMI_ERR_TIMEOUT, "Timeout was reached") {}
    /** @param message Detail message from libfmi. */
    explicit Timeout(const std::string &message) : Error(FMI_ERR_TIMEOUT, message) {}
};

/** @brief Optimisation goal of the channel selection: minimise latency (fast) or cost (cheap, the default). */
enum Hint { fast, cheap };

/** @brief Built-in reduction operations (executed inside libfmi, no callback). */
enum class Op : fmi_op {
    sum = FMI_OP_SUM,   ///< a + b (not on FMI_BYTE)
    prod = FMI_OP_PROD, ///< a * b (not on FMI_BYTE)
    min = FMI_OP_MIN,   ///< minimum (not on FMI_BYTE)
    max = FMI_OP_MAX,   ///< maximum (not on FMI_BYTE)
    band = FMI_OP_BAND, ///< bitwise and (integers and bytes)
    bor = FMI_OP_BOR,   ///< bitwise or (integers and bytes)
    bxor = FMI_OP_BXOR, ///< bitwise xor (integers and bytes)
    land = FMI_OP_LAND, ///< logical and (integers)
    lor = FMI_OP_LOR    ///< logical or (integers)
};

/**
 * @brief A binary reduction function T(T,T) with the user's commutativity / associativity claims.
 *
 * The first argument is the accumulated (left) value, the second the incoming (right) value.
 * A function that is not both commutative and associative is evaluated as a strict left-to-right
 * fold in rank order. Same constructor as the original FMI (commutative first).
 * Used with Data<T> as Function<T>; with Data<std::vector<A>> either as Function<A> (applied
 * element-wise) or, as in the original FMI, as Function<std::vector<A>> (applied to whole vectors,
 * always as an ordered fold).
 */
template <typename T>
class Function {
public:
    /**
     * @param fn The binary function. It runs on the calling thread during the operation; an exception
     *           it throws is rethrown by the operation once the operation has finished.
     * @param is_commutative True if fn(a,b) == fn(b,a).
     * @param is_associative True if fn(fn(a,b),c) == fn(a,fn(b,c)).
     */
    Function(std::function<T(T, T)> fn, bool is_commutative, bool is_associative)
        : commutative(is_commutative), associative(is_associative), f(std::move(fn)) {}

    /** @brief Applies the function: returns f(a, b). */
    T operator()(T a, T b) const { return f(a, b); }

    /** @brief User-provided information about commutativity. */
    bool commutative;
    /** @brief User-provided information about associativity. */
    bool associative;

private:
    std::function<T(T, T)> f;
};

} // namespace Utils

/** @brief Implementation details; not part of the public interface. */
namespace detail {

/** @brief Builds the exception for a failed status (Timeout for FMI_ERR_TIMEOUT). */
inline void throw_status(fmi_status status) {
    const char *detail = fmi_last_error_message();
    std::string message = (detail != nullptr && detail[0] != '\0') ? detail : fmi_strerror(static_cast<int>(status));
    if (message.empty()) {
        message = "libfmi error " + std::to_string(static_cast<int>(status));
    }
    if (status == FMI_ERR_TIMEOUT) {
        throw Utils::Timeout(message);
    }
    throw Error(status, message);
}

/** @brief Throws unless status is FMI_SUCCESS. */
inline void check(fmi_status status) {
    if (status != FMI_SUCCESS) {
        throw_status(status);
    }
}

/** @brief Throws FMI_ERR_SIZE_MISMATCH for a buffer size that cannot work (checked before calling C). */
[[noreturn]] inline void size_error(const std::string &what) { throw Error(FMI_ERR_SIZE_MISMATCH, what); }

/** @brief The fmi_datatype of an element type; bool and other unsupported types fail to compile. */
template <typename T>
constexpr fmi_datatype datatype_of() {
    using U = std::remove_cv_t<T>;
    static_assert(!std::is_same_v<U, bool>, "FMI: bool has no FMI datatype; use std::uint8_t");
    if constexpr (std::is_same_v<U, std::byte>) {
        return FMI_BYTE;
    } else if constexpr (std::is_floating_point_v<U>) {
        static_assert(std::is_same_v<U, float> || std::is_same_v<U, double>, "FMI: long double is not supported");
        return std::is_same_v<U, float> ? FMI_FLOAT : FMI_DOUBLE;
    } else if constexpr (std::is_integral_v<U>) {
        constexpr bool s = std::is_signed_v<U>;
        if constexpr (sizeof(U) == 1) {
            return s ? FMI_INT8 : FMI_UINT8;
        } else if constexpr (sizeof(U) == 2) {
            return s ? FMI_INT16 : FMI_UINT16;
        } else if constexpr (sizeof(U) == 4) {
            return s ? FMI_INT32 : FMI_UINT32;
        } else {
            static_assert(sizeof(U) == 8, "FMI: integer types wider than 64 bits are not supported");
            return s ? FMI_INT64 : FMI_UINT64;
        }
    } else {
        static_assert(std::is_trivially_copyable_v<U>, "FMI: element type must be trivially copyable");
        return FMI_BYTE; // raw bytes; see Comm::Data
    }
}

/** @brief True if T maps to a typed (non-byte) datatype, i.e. can be used in reductions. */
template <typename T>
constexpr bool is_reducible_v = std::is_arithmetic_v<std::remove_cv_t<T>> && !std::is_same_v<std::remove_cv_t<T>, bool>;

} // namespace detail

} // namespace FMI

#endif // FMI_CORE_HPP
