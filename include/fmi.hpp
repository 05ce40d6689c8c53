/**
 * @file fmi.hpp
 * @brief Header-only C++17 RAII wrapper over the libfmi C API (fmi.h).
 *
 * Offers the interface of the original FMI C++ library (spcl/fmi), so existing FMI code ports
 * by changing only the include:
 *
 * @code
 * #include <fmi.hpp>
 * FMI::Communicator comm(peer_id, num_peers, "config/fmi.json", "job-42");
 * FMI::Comm::Data<std::vector<double>> in(std::vector<double>(8, 1.0)), out(8);
 * comm.allreduce(in, out, FMI::Utils::Function<double>([](double a, double b) { return a + b; }, true, true));
 * @endcode
 *
 * Every failure throws FMI::Error (or FMI::Utils::Timeout for FMI_ERR_TIMEOUT) carrying the
 * fmi_status and the library's detail message; an exception thrown by a user reduction function is
 * rethrown after the call. Additions over the original: Communicator::from_env(), rank(), size(),
 * set_timeout(), timeout(), finalize(), allgather(), alltoall(), built-in reduction ops (FMI::Utils::Op),
 * tagged messages (send/recv with a tag, probe, iprobe), non-blocking calls returning FMI::Request
 * (isend, irecv, ibarrier, ibcast, iallreduce, ireduce, iallgather, ialltoall), the v-collectives gatherv(), scatterv(),
 * allgatherv(), alltoallv(), reduce_scatter(), reduce_scatter_block(), exscan(), and the in-place forms
 * (FMI::in_place) of reduce, allreduce, scan, exscan, gather, scatter, allgather and alltoall
 * and element-wise user functions on vectors (Function<A> with Data<std::vector<A>>).
 * Differences: trivially copyable non-arithmetic types are sent as raw bytes instead of throwing;
 * bool is rejected at compile time; buffer sizes are checked before the call (FMI_ERR_SIZE_MISMATCH);
 * send buffers are never modified. Not provided: register_channel() and set_channel_policy()
 * (channels are chosen inside libfmi).
 */
#ifndef FMI_HPP
#define FMI_HPP

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

namespace detail {

/** @brief Heap state behind a user op; the trampoline calls apply() and stores any exception. */
struct OpState {
    virtual ~OpState() = default;
    /** @brief accum[i] = f(accum[i], next[i]) for i < count. */
    virtual void apply(void *accum, const void *next, std::size_t count) = 0;
    fmi_datatype dtype = FMI_BYTE;
    std::exception_ptr error;
};

/** @brief Element-wise application of a Function<A>; copies through memcpy (buffers may be unaligned). */
template <typename A>
struct ElementOp final : OpState {
    explicit ElementOp(Utils::Function<A> fn) : f(std::move(fn)) {}
    void apply(void *accum, const void *next, std::size_t count) override {
        auto *acc = static_cast<unsigned char *>(accum);
        const auto *nxt = static_cast<const unsigned char *>(next);
        for (std::size_t i = 0; i < count; ++i) {
            A a, b;
            std::memcpy(&a, acc + i * sizeof(A), sizeof(A));
            std::memcpy(&b, nxt + i * sizeof(A), sizeof(A));
            a = f(a, b);
            std::memcpy(acc + i * sizeof(A), &a, sizeof(A));
        }
    }
    Utils::Function<A> f;
};

/**
 * @brief Whole-vector Function<std::vector<A>> (original FMI style). It is registered as an ordered
 * operation (see make_op), so libfmi combines whole vectors; a partial block is reported as an error.
 */
template <typename A>
struct VectorOp final : OpState {
    VectorOp(Utils::Function<std::vector<A>> fn, std::size_t elements) : f(std::move(fn)), length(elements) {}
    void apply(void *accum, const void *next, std::size_t count) override {
        if (count != length) {
            throw Error(FMI_ERR_UNSUPPORTED, "FMI::Utils::Function<std::vector>: libfmi passed a block of " +
                                                 std::to_string(count) + " of " + std::to_string(length) +
                                                 " elements; use an element-wise Function<A> instead");
        }
        std::vector<A> a(count), b(count);
        std::memcpy(a.data(), accum, count * sizeof(A));
        std::memcpy(b.data(), next, count * sizeof(A));
        std::vector<A> r = f(std::move(a), std::move(b));
        if (r.size() != count) {
            size_error("FMI::Utils::Function<std::vector>: result has " + std::to_string(r.size()) +
                       " elements, expected " + std::to_string(count));
        }
        std::memcpy(accum, r.data(), count * sizeof(A));
    }
    Utils::Function<std::vector<A>> f;
    std::size_t length;
};

/** @brief The fmi_user_fn handed to libfmi; never lets an exception cross the C boundary. */
inline void op_trampoline(void *accum, const void *next, std::size_t count, fmi_datatype dtype, void *user_data) {
    auto *state = static_cast<OpState *>(user_data);
    if (state == nullptr || state->error) {
        return; // after a failure the result is discarded; skip further work
    }
    try {
        if (dtype != state->dtype) {
            throw Error(FMI_ERR_INTERNAL, "FMI user op called with an unexpected datatype");
        }
        state->apply(accum, next, count);
    } catch (...) {
        state->error = std::current_exception();
    }
}

/** @brief RAII owner of an fmi_op: a registered user op (freed after the call) or a built-in op. */
class ScopedOp {
public:
    /** @brief Wraps a built-in op (nothing to free). */
    explicit ScopedOp(Utils::Op op) : id_(static_cast<fmi_op>(op)) {}

    /** @brief Registers state with libfmi as a user op. */
    ScopedOp(std::unique_ptr<OpState> state, fmi_datatype dtype, bool commutative, bool associative)
        : state_(std::move(state)) {
        state_->dtype = dtype;
        check(fmi_op_create(&op_trampoline, state_.get(), commutative ? 1 : 0, associative ? 1 : 0, &id_));
        owned_ = true;
    }

    ScopedOp(const ScopedOp &) = delete;
    ScopedOp &operator=(const ScopedOp &) = delete;

    ~ScopedOp() {
        if (owned_) {
            fmi_status s = fmi_op_free(id_);
            if (s != FMI_SUCCESS) {
                std::cerr << "FMI: fmi_op_free failed: " << fmi_strerror(static_cast<int>(s)) << "\n";
            }
        }
    }

    /** @brief The op id to pass to the C API. */
    fmi_op id() const { return id_; }

    /** @brief Throws the libfmi error if status failed, else rethrows an exception of the user function. */
    void finish(fmi_status status) const {
        check(status);
        if (state_ && state_->error) {
            std::rethrow_exception(state_->error);
        }
    }

private:
    std::unique_ptr<OpState> state_;
    fmi_op id_ = 0;
    bool owned_ = false;
};

/** @brief ScopedOp for Function<T> on Data<T> with scalar T (or element-wise Function<A> on vectors). */
template <typename A>
ScopedOp make_op(const Utils::Function<A> &f, std::size_t /*count*/) {
    static_assert(is_reducible_v<A>, "FMI: reductions need an arithmetic element type");
    return ScopedOp(std::make_unique<ElementOp<A>>(f), datatype_of<A>(), f.commutative, f.associative);
}

/**
 * @brief ScopedOp for an original-style whole-vector Function<std::vector<A>> over count elements.
 *
 * The function may treat positions differently (e.g. {a[0] + b[0], a[1] * b[1]}), so libfmi must
 * never split the vectors: it is registered as neither commutative nor associative, which makes
 * libfmi fold whole vectors strictly left to right in rank order (correct for any function).
 */
template <typename A>
ScopedOp make_op(const Utils::Function<std::vector<A>> &f, std::size_t count) {
    static_assert(is_reducible_v<A>, "FMI: reductions need an arithmetic element type");
    return ScopedOp(std::make_unique<VectorOp<A>>(f, count), datatype_of<A>(), false, false);
}

/** @brief ScopedOp for a built-in operation. */
inline ScopedOp make_op(Utils::Op op, std::size_t /*count*/) { return ScopedOp(op); }

/** @brief Element type of a Data<T>: T for scalars, A for vectors. */
template <typename T>
struct element {
    using type = T;
};
template <typename A>
struct element<std::vector<A>> {
    using type = A;
};
template <typename T>
using element_t = typename element<T>::type;

/** @brief Reduction argument types accepted for Data<T>: Function<T>, Function<element>, or Utils::Op. */
template <typename T, typename F>
constexpr bool is_reduction_arg_v = std::is_same_v<F, Utils::Function<T>> ||
                                    std::is_same_v<F, Utils::Function<element_t<T>>> ||
                                    std::is_same_v<F, Utils::Op>;

} // namespace detail

/**
 * @brief An ordered set of processes (fmi_group): made by Communicator::group(), narrowed with
 * incl() and excl(); its members call Communicator::create_group(). Owns the handle; movable,
 * not copyable. Group operations are local.
 */
class Group {
public:
    Group(const Group &) = delete;
    Group &operator=(const Group &) = delete;
    Group(Group &&other) noexcept : g_(std::exchange(other.g_, nullptr)) {}
    Group &operator=(Group &&other) noexcept {
        if (this != &other) {
            reset();
            g_ = std::exchange(other.g_, nullptr);
        }
        return *this;
    }
    ~Group() { reset(); }

    /** @brief Number of members. */
    std::uint32_t size() const {
        std::uint32_t n = 0;
        detail::check(fmi_group_size(h(), &n));
        return n;
    }
    /** @brief This process's rank in the group, or FMI_UNDEFINED when it is not a member. */
    std::int32_t rank() const {
        std::int32_t r = FMI_UNDEFINED;
        detail::check(fmi_group_rank(h(), &r));
        return r;
    }
    /** @brief The members ranks (distinct ranks of this group), in that order. */
    Group incl(const std::vector<std::uint32_t> &ranks) const {
        fmi_group *g = nullptr;
        detail::check(fmi_group_incl(h(), count(ranks), ranks.data(), &g));
        return Group(g);
    }
    /** @brief This group without the members ranks, in the same order. */
    Group excl(const std::vector<std::uint32_t> &ranks) const {
        fmi_group *g = nullptr;
        detail::check(fmi_group_excl(h(), count(ranks), ranks.data(), &g));
        return Group(g);
    }
    /** @brief For each of ranks (of this group), its rank in other, or FMI_UNDEFINED. */
    std::vector<std::int32_t> translate_ranks(const std::vector<std::uint32_t> &ranks, const Group &other) const {
        std::vector<std::int32_t> out(ranks.size(), FMI_UNDEFINED);
        detail::check(fmi_group_translate_ranks(h(), count(ranks), ranks.data(), other.h(), out.data()));
        return out;
    }
    /** @brief The underlying C handle (still owned by this object). */
    fmi_group *handle() const noexcept { return g_; }

private:
    friend class Communicator;
    explicit Group(fmi_group *g) : g_(g) {}
    fmi_group *h() const {
        if (g_ == nullptr) {
            throw Error(FMI_ERR_NULL_ARG, "FMI::Group is empty (moved from)");
        }
        return g_;
    }
    static std::uint32_t count(const std::vector<std::uint32_t> &v) {
        if (v.size() > UINT32_MAX) {
            throw Error(FMI_ERR_INVALID_ARG, "FMI::Group: more than 2^32-1 ranks");
        }
        return static_cast<std::uint32_t>(v.size());
    }
    void reset() noexcept {
        if (g_ != nullptr) {
            fmi_group_free(&g_);
        }
    }
    fmi_group *g_ = nullptr;
};

/**
 * @brief A started non-blocking operation (Communicator::isend, irecv, ibarrier, iallreduce, ...).
 *
 * Movable, not copyable. wait() blocks until it completes (at most the communicator timeout) and
 * returns its status; test() answers at once. Its buffers must stay alive and untouched until it
 * completed. Destroying an active request frees it (fmi_request_free): the operation still
 * completes in the background, with its buffers in use until then.
 */
class Request {
public:
    Request() = default;
    explicit Request(fmi_request *r) : req_(r) {}
    Request(Request &&o) noexcept : req_(std::exchange(o.req_, nullptr)) {}
    Request &operator=(Request &&o) noexcept {
        if (this != &o) {
            release();
            req_ = std::exchange(o.req_, nullptr);
        }
        return *this;
    }
    Request(const Request &) = delete;
    Request &operator=(const Request &) = delete;
    ~Request() { release(); }

    /** @brief Whether it has not completed through wait() or test() yet. */
    bool active() const { return req_ != nullptr; }

    /** @brief Waits for completion; throws on failure (the request is then inactive too). */
    fmi_msg_status wait() {
        fmi_msg_status st{};
        detail::check(fmi_wait(&req_, &st));
        return st;
    }

    /** @brief True (and st written) when it has completed; false while it runs. */
    bool test(fmi_msg_status &st) {
        int flag = 0;
        detail::check(fmi_test(&req_, &flag, &st));
        return flag != 0;
    }

    /** @brief Waits for every request; throws the first failure after all completed. */
    static void waitall(std::vector<Request> &reqs) {
        std::vector<fmi_request *> hs;
        hs.reserve(reqs.size());
        for (Request &r : reqs) {
            hs.push_back(std::exchange(r.req_, nullptr));
        }
        detail::check(fmi_waitall(hs.size(), hs.data(), nullptr));
    }

private:
    void release() noexcept {
        if (req_ != nullptr) {
            fmi_request_free(&req_);
            req_ = nullptr;
        }
    }
    fmi_request *req_ = nullptr;
};

/**
 * @brief A communicator over num_peers serverless functions; the user API of FMI.
 *
 * Owns an fmi_comm handle; movable, not copyable. The destructor finalizes the communicator
 * (fmi_finalize is collective, so every peer should destroy its communicator); when it runs
 * because an exception is unwinding the stack, it releases the handle at once instead
 * (fmi_release), so a failing peer never waits for the others. Operations block unless their
 * name starts with i (those return a Request); every peer must call collectives in the same order, and each call ends within the
 * communicator timeout (default 30 s) or throws FMI::Utils::Timeout.
 */
class Communicator {
public:
    /**
     * @brief Joins communicator comm_name as peer peer_id of num_peers (original FMI constructor).
     * @param peer_id ID of this peer in [0, num_peers).
     * @param num_peers Number of peers in the communicator.
     * @param config_path Path to the FMI JSON configuration file; empty for the library defaults.
     * @param comm_name Name of the communicator, unique per concurrently running job and per run.
     * @param faas_memory Memory of the function in MiB (used by the cost model).
     * @throws FMI::Error on failure.
     */
    Communicator(Utils::peer_num peer_id, Utils::peer_num num_peers, const std::string &config_path,
                 const std::string &comm_name, unsigned int faas_memory = 128) {
        fmi_comm *c = nullptr;
        detail::check(fmi_init(peer_id, num_peers, config_path.empty() ? nullptr : config_path.c_str(),
                               comm_name.c_str(), faas_memory, &c));
        adopt(c);
    }

    /**
     * @brief Creates the communicator from the environment (FMI_PEER_ID, FMI_NUM_PEERS, FMI_COMM_NAME,
     * optional FMI_CONFIG, FMI_FAAS_MEMORY, FMI_RENDEZVOUS, FMI_TIMEOUT_MS), as set by fmirun.
     * @throws FMI::Error on failure.
     */
    static Communicator from_env() {
        fmi_comm *c = nullptr;
        detail::check(fmi_init_from_env(&c));
        return Communicator(c);
    }

    /**
     * @brief Finalizes the communicator (or, during exception unwinding, releases it without the
     * collective barrier); failures are written to stderr, never thrown.
     */
    ~Communicator() {
        if (std::uncaught_exceptions() > uncaught_at_start_ && comm_ != nullptr) {
            fmi_release(std::exchange(comm_, nullptr));
            return;
        }
        finalize_noexcept();
    }

    /** @brief Releases the handle now without waiting for the other peers (fmi_release). */
    void release() noexcept {
        if (comm_ != nullptr) {
            fmi_release(std::exchange(comm_, nullptr));
        }
    }

    Communicator(const Communicator &) = delete;
    Communicator &operator=(const Communicator &) = delete;

    /** @brief Takes over other's handle; other becomes empty (every operation on it throws). */
    Communicator(Communicator &&other) noexcept
        : comm_(std::exchange(other.comm_, nullptr)), rank_(other.rank_), size_(other.size_) {}

    /** @brief Finalizes this communicator (logging failures), then takes over other's handle. */
    Communicator &operator=(Communicator &&other) noexcept {
        if (this != &other) {
            finalize_noexcept();
            comm_ = std::exchange(other.comm_, nullptr);
            rank_ = other.rank_;
            size_ = other.size_;
        }
        return *this;
    }

    /**
     * @brief Finalizes now (collective) and throws on failure; afterwards the communicator is empty.
     * Calling it on an empty communicator does nothing.
     */
    void finalize() {
        if (comm_ != nullptr) {
            detail::check(fmi_finalize(std::exchange(comm_, nullptr)));
        }
    }

    /**
     * @brief A new communicator of the same peers with its own context (fmi_comm_dup); shares
     * this one's connections. Collective. Its destructor frees it (collective too).
     */
    Communicator dup() {
        fmi_comm *c = nullptr;
        detail::check(fmi_comm_dup(h(), &c));
        return Communicator(c);
    }

    /**
     * @brief Splits this communicator by color (>= 0), ranked by key then rank (fmi_comm_split);
     * empty for color FMI_UNDEFINED. Collective over this communicator.
     */
    std::optional<Communicator> split(int color, int key) {
        fmi_comm *c = nullptr;
        detail::check(fmi_comm_split(h(), color, key, &c));
        if (c == nullptr) {
            return std::nullopt;
        }
        return Communicator(c);
    }

    /** @brief The group of this communicator's peers, in rank order (fmi_comm_group). */
    Group group() const {
        fmi_group *g = nullptr;
        detail::check(fmi_comm_group(h(), &g));
        return Group(g);
    }

    /**
     * @brief A communicator of the members of g (fmi_comm_create_group): called by exactly the
     * members of g, with the same g and tag.
     */
    Communicator create_group(const Group &g, std::uint32_t tag) {
        fmi_comm *c = nullptr;
        detail::check(fmi_comm_create_group(h(), g.h(), tag, &c));
        return Communicator(c);
    }

    /** @brief Frees this communicator now (collective; fmi_comm_free); afterwards it is empty. */
    void free() {
        if (comm_ != nullptr) {
            detail::check(fmi_comm_free(&comm_));
        }
    }

    /** @brief This peer's id in [0, size()). */
    Utils::peer_num rank() const { return rank_; }
    /** @brief Number of peers. */
    Utils::peer_num size() const { return size_; }
    /** @brief The underlying C handle (still owned by this object); nullptr when empty. */
    fmi_comm *handle() const noexcept { return comm_; }

    /** @brief Sets the per-operation timeout in milliseconds (must be > 0). */
    void set_timeout(std::uint64_t timeout_ms) { detail::check(fmi_set_timeout(h(), timeout_ms)); }

    /** @brief The per-operation timeout in milliseconds. */
    std::uint64_t timeout() const {
        std::uint64_t ms = 0;
        detail::check(fmi_get_timeout(h(), &ms));
        return ms;
    }

    /** @brief Sets the optimisation goal of the channel selection (all peers must use the same hint). */
    void hint(Utils::Hint goal) {
        detail::check(fmi_set_hint(h(), goal == Utils::fast ? FMI_HINT_FAST : FMI_HINT_CHEAP));
    }

    /** @brief Sends buf to peer dest. */
    template <typename T>
    void send(const Comm::Data<T> &buf, Utils::peer_num dest) {
        detail::check(fmi_send(h(), buf.data(), buf.count(), Comm::Data<T>::datatype, dest));
    }

    /** @brief Receives from peer src into buf, which must already have the exact size of the message. */
    template <typename T>
    void recv(Comm::Data<T> &buf, Utils::peer_num src) {
        detail::check(fmi_recv(h(), buf.data(), buf.count(), Comm::Data<T>::datatype, src));
    }

    /** @brief Sends buf to peer dest with tag (0..FMI_TAG_UB). */
    template <typename T>
    void send(const Comm::Data<T> &buf, Utils::peer_num dest, std::int32_t tag) {
        detail::check(fmi_send_tag(h(), buf.data(), buf.count(), Comm::Data<T>::datatype,
                                   static_cast<std::int32_t>(dest), tag));
    }

    /**
     * @brief Receives the first message from src (or FMI_ANY_SOURCE) with tag (or FMI_ANY_TAG)
     * into buf, whose size is an upper bound; returns what came (source, tag, bytes).
     */
    template <typename T>
    fmi_msg_status recv(Comm::Data<T> &buf, std::int32_t src, std::int32_t tag) {
        fmi_msg_status st{};
        detail::check(fmi_recv_tag(h(), buf.data(), buf.count(), Comm::Data<T>::datatype, src, tag, &st));
        return st;
    }

    /** @brief Waits for a message from src with tag (wildcards allowed) without receiving it. */
    fmi_msg_status probe(std::int32_t src = FMI_ANY_SOURCE, std::int32_t tag = FMI_ANY_TAG) {
        fmi_msg_status st{};
        detail::check(fmi_probe(h(), src, tag, &st));
        return st;
    }

    /** @brief Like probe, but answers at once: false when no matching message is waiting. */
    bool iprobe(fmi_msg_status &st, std::int32_t src = FMI_ANY_SOURCE, std::int32_t tag = FMI_ANY_TAG) {
        int flag = 0;
        detail::check(fmi_iprobe(h(), src, tag, &flag, &st));
        return flag != 0;
    }

    /** @brief Starts sending buf to dest with tag; buf must stay alive until the request completed. */
    template <typename T>
    Request isend(const Comm::Data<T> &buf, Utils::peer_num dest, std::int32_t tag = 0) {
        fmi_request *r = nullptr;
        detail::check(fmi_isend(h(), buf.data(), buf.count(), Comm::Data<T>::datatype,
                                static_cast<std::int32_t>(dest), tag, &r));
        return Request(r);
    }

    /** @brief Starts receiving into buf (an upper bound) from src with tag (wildcards allowed). */
    template <typename T>
    Request irecv(Comm::Data<T> &buf, std::int32_t src = FMI_ANY_SOURCE, std::int32_t tag = FMI_ANY_TAG) {
        fmi_request *r = nullptr;
        detail::check(fmi_irecv(h(), buf.data(), buf.count(), Comm::Data<T>::datatype, src, tag, &r));
        return Request(r);
    }

    /** @brief Starts a barrier; the request completes once every peer started it. */
    Request ibarrier() {
        fmi_request *r = nullptr;
        detail::check(fmi_ibarrier(h(), &r));
        return Request(r);
    }

    /** @brief Starts a broadcast of root's buf (buf pre-sized everywhere, in use until completion). */
    template <typename T>
    Request ibcast(Comm::Data<T> &buf, Utils::peer_num root) {
        fmi_request *r = nullptr;
        detail::check(fmi_ibcast(h(), buf.data(), buf.count(), Comm::Data<T>::datatype, root, &r));
        return Request(r);
    }

    /**
     * @brief Starts an allreduce with a built-in op (user functions: use the blocking allreduce).
     * recvbuf may be the same object as sendbuf (in place).
     */
    template <typename T>
    Request iallreduce(const Comm::Data<T> &sendbuf, Comm::Data<T> &recvbuf, Utils::Op op) {
        expect_count("iallreduce", "recvbuf", recvbuf.count(), sendbuf.count());
        fmi_request *r = nullptr;
        detail::check(fmi_iallreduce(h(), sendbuf.data(), recvbuf.data(), sendbuf.count(),
                                     Comm::Data<T>::datatype, static_cast<fmi_op>(op), &r));
        return Request(r);
    }

    /** @brief Starts a reduction with a built-in op into root's recvbuf (ignored elsewhere). */
    template <typename T>
    Request ireduce(const Comm::Data<T> &sendbuf, Comm::Data<T> &recvbuf, Utils::peer_num root, Utils::Op op) {
        if (rank_ == root) {
            expect_count("ireduce", "recvbuf", recvbuf.count(), sendbuf.count());
        }
        fmi_request *r = nullptr;
        detail::check(fmi_ireduce(h(), sendbuf.data(), recvbuf.data(), sendbuf.count(), Comm::Data<T>::datatype,
                                  static_cast<fmi_op>(op), root, &r));
        return Request(r);
    }

    /** @brief Starts an allgather: recvbuf holds size() times sendbuf's elements. */
    template <typename S, typename R>
    Request iallgather(const Comm::Data<S> &sendbuf, Comm::Data<R> &recvbuf) {
        static_assert(Comm::Data<S>::datatype == Comm::Data<R>::datatype, "FMI: iallgather buffers differ in datatype");
        const std::size_t n = sendbuf.count();
        expect_count("iallgather", "recvbuf", recvbuf.count(), n * size_);
        fmi_request *r = nullptr;
        detail::check(fmi_iallgather(h(), sendbuf.data(), recvbuf.data(), n, Comm::Data<S>::datatype, &r));
        return Request(r);
    }

    /** @brief Starts an all-to-all: sendbuf and recvbuf hold size() equal blocks. */
    template <typename S, typename R>
    Request ialltoall(const Comm::Data<S> &sendbuf, Comm::Data<R> &recvbuf) {
        static_assert(Comm::Data<S>::datatype == Comm::Data<R>::datatype, "FMI: ialltoall buffers differ in datatype");
        const std::size_t total = sendbuf.count();
        if (total % size_ != 0) {
            detail::size_error("FMI ialltoall: sendbuf has " + std::to_string(total) +
                               " elements, not divisible by " + std::to_string(size_) + " peers");
        }
        expect_count("ialltoall", "recvbuf", recvbuf.count(), total);
        fmi_request *r = nullptr;
        detail::check(fmi_ialltoall(h(), sendbuf.data(), recvbuf.data(), total / size_, Comm::Data<S>::datatype, &r));
        return Request(r);
    }

    /** @brief Broadcasts root's buf to all peers (buf must be pre-sized on every peer). */
    template <typename T>
    void bcast(Comm::Data<T> &buf, Utils::peer_num root) {
        detail::check(fmi_bcast(h(), buf.data(), buf.count(), Comm::Data<T>::datatype, root));
    }

    /** @brief Barrier synchronisation of all peers. */
    void barrier() { detail::check(fmi_barrier(h())); }

    /**
     * @brief Gathers every peer's sendbuf into root's recvbuf (peer i's block at position i).
     * @param sendbuf Same size on every peer.
     * @param recvbuf At root: size() times sendbuf's size. Ignored elsewhere (may be empty).
     */
    template <typename S, typename R>
    void gather(const Comm::Data<S> &sendbuf, Comm::Data<R> &recvbuf, Utils::peer_num root) {
        static_assert(Comm::Data<S>::datatype == Comm::Data<R>::datatype, "FMI: gather buffers differ in datatype");
        fmi_comm *c = h();
        const std::size_t n = sendbuf.count();
        if (rank_ == root) {
            expect_count("gather", "recvbuf", recvbuf.count(), n * size_);
        }
        detail::check(fmi_gather(c, sendbuf.data(), recvbuf.data(), n, Comm::Data<S>::datatype, root));
    }

    /**
     * @brief Scatters root's sendbuf: block i goes to peer i's recvbuf.
     * @param sendbuf At root: size() times recvbuf's size. Ignored elsewhere (may be empty).
     * @param recvbuf Same size on every peer.
     */
    template <typename S, typename R>
    void scatter(const Comm::Data<S> &sendbuf, Comm::Data<R> &recvbuf, Utils::peer_num root) {
        static_assert(Comm::Data<S>::datatype == Comm::Data<R>::datatype, "FMI: scatter buffers differ in datatype");
        fmi_comm *c = h();
        const std::size_t n = recvbuf.count();
        if (rank_ == root) {
            expect_count("scatter", "sendbuf", sendbuf.count(), n * size_);
        }
        detail::check(fmi_scatter(c, sendbuf.data(), recvbuf.data(), n, Comm::Data<S>::datatype, root));
    }

    /**
     * @brief Gathers every peer's sendbuf into every peer's recvbuf (peer i's block at position i).
     * @param recvbuf size() times sendbuf's size.
     */
    template <typename S, typename R>
    void allgather(const Comm::Data<S> &sendbuf, Comm::Data<R> &recvbuf) {
        static_assert(Comm::Data<S>::datatype == Comm::Data<R>::datatype, "FMI: allgather buffers differ in datatype");
        fmi_comm *c = h();
        const std::size_t n = sendbuf.count();
        expect_count("allgather", "recvbuf", recvbuf.count(), n * size_);
        detail::check(fmi_allgather(c, sendbuf.data(), recvbuf.data(), n, Comm::Data<S>::datatype));
    }

    /**
     * @brief All-to-all exchange: block j of peer i's sendbuf lands in block i of peer j's recvbuf.
     * @param sendbuf size() blocks of equal size. @param recvbuf Same size as sendbuf.
     */
    template <typename S, typename R>
    void alltoall(const Comm::Data<S> &sendbuf, Comm::Data<R> &recvbuf) {
        static_assert(Comm::Data<S>::datatype == Comm::Data<R>::datatype, "FMI: alltoall buffers differ in datatype");
        fmi_comm *c = h();
        const std::size_t total = sendbuf.count();
        if (total % size_ != 0) {
            detail::size_error("FMI alltoall: sendbuf has " + std::to_string(total) +
                               " elements, not divisible by " + std::to_string(size_) + " peers");
        }
        expect_count("alltoall", "recvbuf", recvbuf.count(), total);
        detail::check(fmi_alltoall(c, sendbuf.data(), recvbuf.data(), total / size_, Comm::Data<S>::datatype));
    }

    /**
     * @brief Reduces every peer's sendbuf with f; the result is stored in root's recvbuf.
     * @param f One of: Function<T> (as in the original FMI; for Data<std::vector<A>> it receives whole
     *          vectors and is always evaluated as a strict left-to-right fold in rank order, since
     *          libfmi may not split it), Function<A> applied element-wise on vectors (fast: libfmi may
     *          use tree or ring algorithms when it is commutative and associative), or a built-in Utils::Op.
     * @param recvbuf At root: same size as sendbuf. Ignored elsewhere. May be the same object as sendbuf.
     */
    template <typename T, typename F>
    void reduce(const Comm::Data<T> &sendbuf, Comm::Data<T> &recvbuf, Utils::peer_num root, const F &f) {
        static_assert(detail::is_reduction_arg_v<T, F>, "FMI: reduce needs Function<T>, Function<element>, or Utils::Op");
        fmi_comm *c = h();
        if (rank_ == root) {
            expect_count("reduce", "recvbuf", recvbuf.count(), sendbuf.count());
        }
        detail::ScopedOp op = detail::make_op(f, sendbuf.count());
        op.finish(fmi_reduce(c, sendbuf.data(), recvbuf.data(), sendbuf.count(), Comm::Data<T>::datatype,
                             op.id(), root));
    }

    /** @brief Like reduce(), but every peer receives the result in recvbuf (same size as sendbuf). */
    template <typename T, typename F>
    void allreduce(const Comm::Data<T> &sendbuf, Comm::Data<T> &recvbuf, const F &f) {
        static_assert(detail::is_reduction_arg_v<T, F>, "FMI: allreduce needs Function<T>, Function<element>, or Utils::Op");
        fmi_comm *c = h();
        expect_count("allreduce", "recvbuf", recvbuf.count(), sendbuf.count());
        detail::ScopedOp op = detail::make_op(f, sendbuf.count());
        op.finish(fmi_allreduce(c, sendbuf.data(), recvbuf.data(), sendbuf.count(), Comm::Data<T>::datatype,
                                op.id()));
    }

    /** @brief Inclusive prefix reduction: peer k receives f-fold of the sendbufs of peers 0..k. */
    template <typename T, typename F>
    void scan(const Comm::Data<T> &sendbuf, Comm::Data<T> &recvbuf, const F &f) {
        static_assert(detail::is_reduction_arg_v<T, F>, "FMI: scan needs Function<T>, Function<element>, or Utils::Op");
        fmi_comm *c = h();
        expect_count("scan", "recvbuf", recvbuf.count(), sendbuf.count());
        detail::ScopedOp op = detail::make_op(f, sendbuf.count());
        op.finish(fmi_scan(c, sendbuf.data(), recvbuf.data(), sendbuf.count(), Comm::Data<T>::datatype, op.id()));
    }

    /**
     * @brief Gathers blocks of any size: peer i's sendbuf goes to root's recvbuf at element offset
     *        displs[i], recvcounts[i] elements (MPI_Gatherv). Blocks must not overlap.
     * @param recvcounts, displs At root: size() entries each, and recvbuf must hold every block.
     *        Ignored elsewhere (may be empty), like recvbuf.
     */
    template <typename S, typename R>
    void gatherv(const Comm::Data<S> &sendbuf, Comm::Data<R> &recvbuf, const std::vector<int> &recvcounts,
                 const std::vector<int> &displs, Utils::peer_num root) {
        static_assert(Comm::Data<S>::datatype == Comm::Data<R>::datatype, "FMI: gatherv buffers differ in datatype");
        fmi_comm *c = h();
        if (rank_ == root) {
            expect_layout("gatherv", "recvbuf", recvbuf.count(), recvcounts, displs);
        }
        detail::check(fmi_gatherv(c, sendbuf.data(), sendbuf.count(), recvbuf.data(), recvcounts.data(),
                                  displs.data(), Comm::Data<S>::datatype, root));
    }

    /**
     * @brief Scatters blocks of any size: block i of root's sendbuf (sendcounts[i] elements at
     *        element offset displs[i]) goes to peer i's recvbuf (MPI_Scatterv).
     * @param sendcounts, displs At root: size() entries each, and sendbuf must hold every block.
     *        Ignored elsewhere (may be empty), like sendbuf.
     */
    template <typename S, typename R>
    void scatterv(const Comm::Data<S> &sendbuf, const std::vector<int> &sendcounts, const std::vector<int> &displs,
                  Comm::Data<R> &recvbuf, Utils::peer_num root) {
        static_assert(Comm::Data<S>::datatype == Comm::Data<R>::datatype, "FMI: scatterv buffers differ in datatype");
        fmi_comm *c = h();
        if (rank_ == root) {
            expect_layout("scatterv", "sendbuf", sendbuf.count(), sendcounts, displs);
        }
        detail::check(fmi_scatterv(c, sendbuf.data(), sendcounts.data(), displs.data(), recvbuf.data(),
                                   recvbuf.count(), Comm::Data<S>::datatype, root));
    }

    /**
     * @brief Gathers blocks of any size into every peer's recvbuf: peer i's sendbuf at element
     *        offset displs[i], recvcounts[i] elements (MPI_Allgatherv; the same arrays everywhere).
     */
    template <typename S, typename R>
    void allgatherv(const Comm::Data<S> &sendbuf, Comm::Data<R> &recvbuf, const std::vector<int> &recvcounts,
                    const std::vector<int> &displs) {
        static_assert(Comm::Data<S>::datatype == Comm::Data<R>::datatype, "FMI: allgatherv buffers differ in datatype");
        fmi_comm *c = h();
        expect_layout("allgatherv", "recvbuf", recvbuf.count(), recvcounts, displs);
        detail::check(fmi_allgatherv(c, sendbuf.data(), sendbuf.count(), recvbuf.data(), recvcounts.data(),
                                     displs.data(), Comm::Data<S>::datatype));
    }

    /**
     * @brief All-to-all exchange of blocks of any size (MPI_Alltoallv): block j of sendbuf
     *        (sendcounts[j] elements at sdispls[j]) goes to peer j; block i of recvbuf
     *        (recvcounts[i] elements at rdispls[i]) comes from peer i.
     */
    template <typename S, typename R>
    void alltoallv(const Comm::Data<S> &sendbuf, const std::vector<int> &sendcounts, const std::vector<int> &sdispls,
                   Comm::Data<R> &recvbuf, const std::vector<int> &recvcounts, const std::vector<int> &rdispls) {
        static_assert(Comm::Data<S>::datatype == Comm::Data<R>::datatype, "FMI: alltoallv buffers differ in datatype");
        fmi_comm *c = h();
        expect_layout("alltoallv", "sendbuf", sendbuf.count(), sendcounts, sdispls);
        expect_layout("alltoallv", "recvbuf", recvbuf.count(), recvcounts, rdispls);
        detail::check(fmi_alltoallv(c, sendbuf.data(), sendcounts.data(), sdispls.data(), recvbuf.data(),
                                    recvcounts.data(), rdispls.data(), Comm::Data<S>::datatype));
    }

    /**
     * @brief Reduces every peer's sendbuf (the sum of recvcounts elements) with f and gives block i
     *        of the result (recvcounts[i] elements, one block after the other) to peer i's recvbuf.
     *        A whole-vector Function<std::vector<A>> receives the blocks of this peer.
     */
    template <typename T, typename F>
    void reduce_scatter(const Comm::Data<T> &sendbuf, Comm::Data<T> &recvbuf, const std::vector<int> &recvcounts,
                        const F &f) {
        static_assert(detail::is_reduction_arg_v<T, F>,
                      "FMI: reduce_scatter needs Function<T>, Function<element>, or Utils::Op");
        fmi_comm *c = h();
        expect_entries("reduce_scatter", "recvcounts", recvcounts.size());
        std::size_t total = 0;
        for (int k : recvcounts) {
            total += k < 0 ? 0 : static_cast<std::size_t>(k);
        }
        expect_count("reduce_scatter", "sendbuf", sendbuf.count(), total);
        const int mine = recvcounts[rank_];
        expect_count("reduce_scatter", "recvbuf", recvbuf.count(), mine < 0 ? 0 : static_cast<std::size_t>(mine));
        detail::ScopedOp op = detail::make_op(f, recvbuf.count());
        op.finish(fmi_reduce_scatter(c, sendbuf.data(), recvbuf.data(), recvcounts.data(), Comm::Data<T>::datatype,
                                     op.id()));
    }

    /** @brief reduce_scatter() with size() blocks of recvbuf's size in sendbuf. */
    template <typename T, typename F>
    void reduce_scatter_block(const Comm::Data<T> &sendbuf, Comm::Data<T> &recvbuf, const F &f) {
        static_assert(detail::is_reduction_arg_v<T, F>,
                      "FMI: reduce_scatter_block needs Function<T>, Function<element>, or Utils::Op");
        fmi_comm *c = h();
        expect_count("reduce_scatter_block", "sendbuf", sendbuf.count(), recvbuf.count() * size_);
        detail::ScopedOp op = detail::make_op(f, recvbuf.count());
        op.finish(fmi_reduce_scatter_block(c, sendbuf.data(), recvbuf.data(), recvbuf.count(),
                                           Comm::Data<T>::datatype, op.id()));
    }

    /**
     * @brief Exclusive prefix reduction: peer k > 0 receives the f-fold of the sendbufs of peers
     *        0..k-1. Peer 0's recvbuf is left untouched (MPI leaves its result undefined).
     */
    template <typename T, typename F>
    void exscan(const Comm::Data<T> &sendbuf, Comm::Data<T> &recvbuf, const F &f) {
        static_assert(detail::is_reduction_arg_v<T, F>, "FMI: exscan needs Function<T>, Function<element>, or Utils::Op");
        fmi_comm *c = h();
        expect_count("exscan", "recvbuf", recvbuf.count(), sendbuf.count());
        detail::ScopedOp op = detail::make_op(f, sendbuf.count());
        op.finish(fmi_exscan(c, sendbuf.data(), recvbuf.data(), sendbuf.count(), Comm::Data<T>::datatype, op.id()));
    }

    /** @brief In-place reduce, at the root only: buf holds the root's contribution and gets the result. */
    template <typename T, typename F>
    void reduce(InPlace, Comm::Data<T> &buf, Utils::peer_num root, const F &f) {
        static_assert(detail::is_reduction_arg_v<T, F>, "FMI: reduce needs Function<T>, Function<element>, or Utils::Op");
        fmi_comm *c = h();
        detail::ScopedOp op = detail::make_op(f, buf.count());
        op.finish(fmi_reduce(c, FMI_IN_PLACE, buf.data(), buf.count(), Comm::Data<T>::datatype, op.id(), root));
    }

    /** @brief In-place allreduce: buf holds this peer's contribution and gets the result. */
    template <typename T, typename F>
    void allreduce(InPlace, Comm::Data<T> &buf, const F &f) {
        static_assert(detail::is_reduction_arg_v<T, F>, "FMI: allreduce needs Function<T>, Function<element>, or Utils::Op");
        fmi_comm *c = h();
        detail::ScopedOp op = detail::make_op(f, buf.count());
        op.finish(fmi_allreduce(c, FMI_IN_PLACE, buf.data(), buf.count(), Comm::Data<T>::datatype, op.id()));
    }

    /** @brief In-place scan: buf holds this peer's contribution and gets its prefix. */
    template <typename T, typename F>
    void scan(InPlace, Comm::Data<T> &buf, const F &f) {
        static_assert(detail::is_reduction_arg_v<T, F>, "FMI: scan needs Function<T>, Function<element>, or Utils::Op");
        fmi_comm *c = h();
        detail::ScopedOp op = detail::make_op(f, buf.count());
        op.finish(fmi_scan(c, FMI_IN_PLACE, buf.data(), buf.count(), Comm::Data<T>::datatype, op.id()));
    }

    /** @brief In-place exscan: buf holds this peer's contribution and gets its exclusive prefix (peer 0's is left as is). */
    template <typename T, typename F>
    void exscan(InPlace, Comm::Data<T> &buf, const F &f) {
        static_assert(detail::is_reduction_arg_v<T, F>, "FMI: exscan needs Function<T>, Function<element>, or Utils::Op");
        fmi_comm *c = h();
        detail::ScopedOp op = detail::make_op(f, buf.count());
        op.finish(fmi_exscan(c, FMI_IN_PLACE, buf.data(), buf.count(), Comm::Data<T>::datatype, op.id()));
    }

    /** @brief In-place gather, at the root only: the root's block already is at its place in recvbuf (size() blocks). */
    template <typename R>
    void gather(InPlace, Comm::Data<R> &recvbuf, Utils::peer_num root) {
        fmi_comm *c = h();
        const std::size_t n = blocks_of("gather", "recvbuf", recvbuf.count());
        detail::check(fmi_gather(c, FMI_IN_PLACE, recvbuf.data(), n, Comm::Data<R>::datatype, root));
    }

    /** @brief In-place scatter, at the root only: the root's block stays in sendbuf (size() blocks). */
    template <typename S>
    void scatter(const Comm::Data<S> &sendbuf, InPlace, Utils::peer_num root) {
        fmi_comm *c = h();
        const std::size_t n = blocks_of("scatter", "sendbuf", sendbuf.count());
        detail::check(fmi_scatter(c, sendbuf.data(), FMI_IN_PLACE, n, Comm::Data<S>::datatype, root));
    }

    /** @brief In-place allgather: this peer's block already is at its place in recvbuf (size() blocks). */
    template <typename R>
    void allgather(InPlace, Comm::Data<R> &recvbuf) {
        fmi_comm *c = h();
        const std::size_t n = blocks_of("allgather", "recvbuf", recvbuf.count());
        detail::check(fmi_allgather(c, FMI_IN_PLACE, recvbuf.data(), n, Comm::Data<R>::datatype));
    }

    /** @brief In-place all-to-all: buf holds the blocks to send (size() blocks) and gets the blocks received. */
    template <typename R>
    void alltoall(InPlace, Comm::Data<R> &buf) {
        fmi_comm *c = h();
        const std::size_t n = blocks_of("alltoall", "buf", buf.count());
        detail::check(fmi_alltoall(c, FMI_IN_PLACE, buf.data(), n, Comm::Data<R>::datatype));
    }

private:
    explicit Communicator(fmi_comm *c) { adopt(c); }

    /** The handle for a C call; throws FMI_ERR_NULL_ARG when empty (moved from or finalized). */
    fmi_comm *h() const {
        if (comm_ == nullptr) {
            throw Error(FMI_ERR_NULL_ARG, "FMI::Communicator is empty (moved from or finalized)");
        }
        return comm_;
    }

    /** Takes ownership of c and caches rank and size; finalizes c if that fails. */
    void adopt(fmi_comm *c) {
        comm_ = c;
        std::uint32_t r = 0, n = 0;
        try {
            detail::check(fmi_comm_rank(comm_, &r));
            detail::check(fmi_comm_size(comm_, &n));
        } catch (...) {
            finalize_noexcept();
            throw;
        }
        rank_ = r;
        size_ = n;
    }

    void finalize_noexcept() noexcept {
        if (comm_ == nullptr) {
            return;
        }
        fmi_status s = fmi_finalize(std::exchange(comm_, nullptr));
        if (s != FMI_SUCCESS) {
            const char *detail = fmi_last_error_message();
            std::cerr << "FMI::Communicator: fmi_finalize failed: " << fmi_strerror(static_cast<int>(s))
                      << (detail != nullptr && detail[0] != '\0' ? std::string(": ") + detail : std::string())
                      << "\n";
        }
    }

    /** Elements per block of a buffer of size() blocks; throws FMI_ERR_SIZE_MISMATCH when it is not whole blocks. */
    std::size_t blocks_of(const char *call, const char *what, std::size_t total) const {
        if (total % size_ != 0) {
            detail::size_error(std::string("FMI ") + call + ": " + what + " has " + std::to_string(total) +
                               " elements, not divisible by " + std::to_string(size_) + " peers");
        }
        return total / size_;
    }

    static void expect_count(const char *op, const char *which, std::size_t got, std::size_t want) {
        if (got != want) {
            detail::size_error(std::string("FMI ") + op + ": " + which + " holds " + std::to_string(got) +
                               " elements, expected " + std::to_string(want));
        }
    }

    void expect_entries(const char *op, const char *which, std::size_t got) const {
        if (got != size_) {
            detail::size_error(std::string("FMI ") + op + ": " + which + " has " + std::to_string(got) +
                               " entries, expected one per peer (" + std::to_string(size_) + ")");
        }
    }

    /** Counts and displacements with one entry per peer whose blocks all lie within a buffer of
     *  `have` elements (negative entries are left to libfmi, which refuses them). */
    void expect_layout(const char *op, const char *which, std::size_t have, const std::vector<int> &counts,
                       const std::vector<int> &displs) const {
        expect_entries(op, "counts", counts.size());
        expect_entries(op, "displacements", displs.size());
        for (std::size_t i = 0; i < counts.size(); ++i) {
            if (counts[i] >= 0 && displs[i] >= 0 &&
                static_cast<std::size_t>(displs[i]) + static_cast<std::size_t>(counts[i]) > have) {
                detail::size_error(std::string("FMI ") + op + ": block " + std::to_string(i) + " (" +
                                   std::to_string(counts[i]) + " elements at " + std::to_string(displs[i]) +
                                   ") lies beyond " + which + " of " + std::to_string(have) + " elements");
            }
        }
    }

    fmi_comm *comm_ = nullptr;
    /** Exceptions in flight when this object was created: more at destruction means unwinding. */
    int uncaught_at_start_ = std::uncaught_exceptions();
    Utils::peer_num rank_ = 0;
    Utils::peer_num size_ = 0;
};

} // namespace FMI

#endif // FMI_HPP
