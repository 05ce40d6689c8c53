// ring: a token travels around the ring 0 -> 1 -> ... -> N-1 -> 0; every peer adds its rank
// and appends to a trace vector. Peer 0 checks the token after every lap.
// Run: fmirun -n 4 build/ring [laps=3]
#include <fmi.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <vector>

int main(int argc, char **argv) {
    const int laps = argc > 1 ? std::atoi(argv[1]) : 3;
    try {
        FMI::Communicator comm = FMI::Communicator::from_env();
        const unsigned rank = comm.rank(), n = comm.size();
        if (n < 2) {
            std::printf("ring: a ring needs at least 2 peers; nothing to do with %u. OK\n", n);
            return 0;
        }
        const unsigned next = (rank + 1) % n, prev = (rank + n - 1) % n;
        const std::int64_t lap_sum = static_cast<std::int64_t>(n) * (n - 1) / 2; // 0 + 1 + ... + n-1

        FMI::Comm::Data<std::int64_t> token(0);
        FMI::Comm::Data<std::vector<std::uint32_t>> trace(n); // trace[i] = id of the i-th holder in a lap
        bool ok = true;
        for (int lap = 0; lap < laps; ++lap) {
            if (rank == 0) {
                trace.get().assign(n, 0);
                comm.send(token, next);
                comm.send(trace, next);
                comm.recv(token, prev);
                comm.recv(trace, prev);
                const std::int64_t expected = lap_sum * (lap + 1);
                bool lap_ok = token.get() == expected;
                for (unsigned i = 0; i < n; ++i) {
                    lap_ok = lap_ok && trace.get()[i] == i;
                }
                std::printf("ring: lap %d token %lld (expected %lld) %s\n", lap, static_cast<long long>(token.get()),
                            static_cast<long long>(expected), lap_ok ? "ok" : "MISMATCH");
                ok = ok && lap_ok;
            } else {
                comm.recv(token, prev);
                comm.recv(trace, prev);
                token = FMI::Comm::Data<std::int64_t>(token.get() + rank);
                trace.get()[rank] = rank;
                comm.send(token, next);
                comm.send(trace, next);
            }
        }
        // Everyone learns the verdict of peer 0, so every peer's exit code reflects it.
        FMI::Comm::Data<int> verdict(ok ? 1 : 0);
        comm.bcast(verdict, 0);
        if (rank == 0) {
            std::printf("ring: %s (%u peers, %d laps)\n", verdict.get() ? "OK" : "FAILED", n, laps);
        }
        comm.finalize(); // explicit, so that a failing close is an error (the destructor only logs)
        return verdict.get() ? 0 : 1;
    } catch (const FMI::Error &e) {
        std::fprintf(stderr, "ring: FMI error %d: %s\n", static_cast<int>(e.status()), e.what());
    } catch (const std::exception &e) {
        std::fprintf(stderr, "ring: %s\n", e.what());
    }
    return 1;
}
