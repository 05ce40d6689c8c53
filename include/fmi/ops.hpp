/**
 * @file fmi/ops.hpp
 * @brief User reduction operations: the RAII owner of an fmi_op and the trampoline that calls a Utils::Function from libfmi.
 *
 * Part of the C++ wrapper: programs include <fmi.hpp>, which includes this file.
 */
#ifndef FMI_OPS_HPP
#define FMI_OPS_HPP

#include "core.hpp"

namespace FMI {

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

} // namespace FMI

#endif // FMI_OPS_HPP
