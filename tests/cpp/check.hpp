// Tiny check helpers for wrapper_test: count failures, report them with the peer's rank.
#ifndef FMI_TESTS_CPP_CHECK_HPP
#define FMI_TESTS_CPP_CHECK_HPP

#include <fmi.hpp>

#include <cstdio>
#include <exception>
#include <string>

/// Counts failed checks of one peer.
struct Checker {
    unsigned rank = 0;
    int checks = 0;
    int failures = 0;

    /// Records cond; prints what on failure.
    void operator()(bool cond, const std::string &what) {
        ++checks;
        if (!cond) {
            ++failures;
            std::fprintf(stderr, "peer %u: CHECK FAILED: %s\n", rank, what.c_str());
        }
    }

    /// Checks that fn throws Ex (FMI::Error or a subclass) with the given status and a non-empty message.
    template <typename Ex, typename Fn>
    void throws(fmi_status status, const std::string &what, Fn &&fn) {
        try {
            fn();
        } catch (const Ex &e) {
            (*this)(e.status() == status, what + ": status " + std::to_string(static_cast<int>(e.status())) +
                                              ", expected " + std::to_string(static_cast<int>(status)));
            (*this)(e.what() != nullptr && e.what()[0] != '\0', what + ": empty error message");
            return;
        } catch (const std::exception &e) {
            (*this)(false, what + ": threw the wrong exception type: " + e.what());
            return;
        }
        (*this)(false, what + ": did not throw");
    }
};

#endif
