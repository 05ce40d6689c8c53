/**
 * @file fmi/group.hpp
 * @brief FMI::Group: an ordered set of processes (fmi_group).
 *
 * Part of the C++ wrapper: programs include <fmi.hpp>, which includes this file.
 */
#ifndef FMI_GROUP_HPP
#define FMI_GROUP_HPP

#include "core.hpp"

namespace FMI {

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

} // namespace FMI

#endif // FMI_GROUP_HPP
