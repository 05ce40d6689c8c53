// kmeans: distributed k-means (Lloyd) on synthetic Gaussian blobs, the FMI paper's case study.
// Each peer generates its own shard; per iteration one allreduce combines the cluster sums,
// counts and inertia. Afterwards every peer regenerates ALL shards, runs the same algorithm in a
// single process and checks centroids and inertia agree within 1e-9 relative.
// Run: fmirun -n 4 build/kmeans [points_per_peer=4000] [k=5] [dims=6] [max_iters=50] [seed=2024]
#include <fmi.hpp>

#include "kmeans_core.hpp"
#include "kmeans_data.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using kmeans::Params;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

Params parse(int argc, char **argv) {
    Params p;
    auto arg = [&](int i, unsigned long long fallback) {
        return argc > i ? std::stoull(argv[i]) : fallback;
    };
    p.points_per_peer = arg(1, p.points_per_peer);
    p.k = arg(2, p.k);
    p.dims = arg(3, p.dims);
    p.max_iters = static_cast<int>(arg(4, static_cast<unsigned long long>(p.max_iters)));
    p.seed = arg(5, p.seed);
    if (p.k == 0 || p.dims == 0 || p.points_per_peer < p.k || p.max_iters < 1) {
        throw std::invalid_argument("need k >= 1, dims >= 1, points_per_peer >= k, max_iters >= 1");
    }
    return p;
}

struct Result {
    std::vector<double> centroids;
    double inertia = 0.0;
    int iters = 0;
};

// Distributed run: local assignment step + allreduce of the packed partial sums.
Result run_distributed(FMI::Communicator &comm, const Params &p) {
    const std::vector<double> mine = kmeans::shard(p, comm.rank());

    // Identical initial centroids everywhere: peer 0 broadcasts the first k points of its shard.
    FMI::Comm::Data<std::vector<double>> cent(p.k * p.dims);
    if (comm.rank() == 0) {
        cent.get() = kmeans::initial_centroids(mine, p);
    }
    comm.bcast(cent, 0);

    Result r;
    FMI::Comm::Data<std::vector<double>> total(p.k * p.dims + p.k + 1);
    for (r.iters = 1; r.iters <= p.max_iters; ++r.iters) {
        const FMI::Comm::Data<std::vector<double>> part(kmeans::accumulate(mine, cent.get(), p.k, p.dims));
        comm.allreduce(part, total, FMI::Utils::Op::sum);
        const double shift = kmeans::update(cent.get(), total.get(), p.k, p.dims);
        // Peer 0 decides when to stop, so all peers run the same number of iterations.
        FMI::Comm::Data<int> stop(shift < p.tol ? 1 : 0);
        comm.bcast(stop, 0);
        if (comm.rank() == 0) {
            std::printf("iter %3d  inertia %.6f  shift %.3e\n", r.iters, total.get().back(), shift);
        }
        if (stop.get()) {
            break;
        }
    }
    r.iters = std::min(r.iters, p.max_iters);
    FMI::Comm::Data<double> local(kmeans::inertia(mine, cent.get(), p.k, p.dims)), global;
    comm.allreduce(local, global, FMI::Utils::Op::sum);
    r.centroids = cent.get();
    r.inertia = global.get();
    return r;
}

// Single-process reference over all shards, for exactly `iters` iterations.
Result run_serial(const Params &p, unsigned peers, int iters) {
    std::vector<double> all;
    for (unsigned q = 0; q < peers; ++q) {
        const std::vector<double> s = kmeans::shard(p, q);
        all.insert(all.end(), s.begin(), s.end());
    }
    Result r;
    r.centroids = kmeans::initial_centroids(all, p); // shard 0 comes first
    for (r.iters = 0; r.iters < iters; ++r.iters) {
        kmeans::update(r.centroids, kmeans::accumulate(all, r.centroids, p.k, p.dims), p.k, p.dims);
    }
    r.inertia = kmeans::inertia(all, r.centroids, p.k, p.dims);
    return r;
}

bool agree(const Result &a, const Result &b, unsigned rank) {
    const double rel = 1e-9;
    std::size_t bad = 0;
    for (std::size_t i = 0; i < a.centroids.size(); ++i) {
        bad += !kmeans::close(a.centroids[i], b.centroids[i], rel);
    }
    const bool inertia_ok = kmeans::close(a.inertia, b.inertia, rel);
    if (bad != 0 || !inertia_ok) {
        std::fprintf(stderr, "peer %u: MISMATCH vs serial: %zu centroid coordinates differ; inertia %.12g vs %.12g\n",
                     rank, bad, a.inertia, b.inertia);
    }
    return bad == 0 && inertia_ok;
}

} // namespace

int main(int argc, char **argv) {
    try {
        const Params p = parse(argc, argv);
        FMI::Communicator comm = FMI::Communicator::from_env();
        const unsigned rank = comm.rank(), n = comm.size();
        if (rank == 0) {
            std::printf("kmeans: %u peers x %zu points, k=%zu, dims=%zu, max_iters=%d, seed=%llu\n", n,
                        p.points_per_peer, p.k, p.dims, p.max_iters, static_cast<unsigned long long>(p.seed));
        }

        comm.barrier();
        const Clock::time_point t0 = Clock::now();
        const Result dist = run_distributed(comm, p);
        const double t_dist = seconds_since(t0);

        const Clock::time_point t1 = Clock::now();
        const Result ref = run_serial(p, n, dist.iters);
        const double t_ref = seconds_since(t1);
        const bool ok = agree(dist, ref, rank);

        FMI::Comm::Data<int> good(ok ? 1 : 0), all_good;
        comm.allreduce(good, all_good, FMI::Utils::Op::min);
        if (rank == 0) {
            std::printf("kmeans: %d iterations, final inertia %.6f (serial %.6f)\n", dist.iters, dist.inertia,
                        ref.inertia);
            std::printf("kmeans: distributed %.3f s, serial reference %.3f s\n", t_dist, t_ref);
            std::printf("kmeans: %s\n", all_good.get() ? "OK (all peers match the serial reference)" : "FAILED");
        }
        comm.finalize(); // explicit, so that a failing close is an error (the destructor only logs)
        return all_good.get() ? 0 : 1;
    } catch (const FMI::Error &e) {
        std::fprintf(stderr, "kmeans: FMI error %d: %s\n", static_cast<int>(e.status()), e.what());
    } catch (const std::exception &e) {
        std::fprintf(stderr, "kmeans: %s\n", e.what());
    }
    return 1;
}
