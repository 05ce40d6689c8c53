/**
 * @file fmi/communicator.hpp
 * @brief FMI::Communicator: the user API of FMI (fmi_comm).
 *
 * Part of the C++ wrapper: programs include <fmi.hpp>, which includes this file.
 */
#ifndef FMI_COMMUNICATOR_HPP
#define FMI_COMMUNICATOR_HPP

#include "core.hpp"
#include "data.hpp"
#include "group.hpp"
#include "ops.hpp"
#include "request.hpp"

namespace FMI {

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

#endif // FMI_COMMUNICATOR_HPP
