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
 *
 * The wrapper's parts are in fmi/ next to this file (core, data, ops, group, request,
 * communicator); programs include this header only.
 */
#ifndef FMI_HPP
#define FMI_HPP

#include "fmi/core.hpp"
#include "fmi/data.hpp"
#include "fmi/ops.hpp"
#include "fmi/group.hpp"
#include "fmi/request.hpp"
#include "fmi/communicator.hpp"

#endif // FMI_HPP
