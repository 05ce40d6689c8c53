/**
 * @file fmi/request.hpp
 * @brief FMI::Request: a started non-blocking operation (fmi_request).
 *
 * Part of the C++ wrapper: programs include <fmi.hpp>, which includes this file.
 */
#ifndef FMI_REQUEST_HPP
#define FMI_REQUEST_HPP

#include "core.hpp"

namespace FMI {

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

} // namespace FMI

#endif // FMI_REQUEST_HPP
