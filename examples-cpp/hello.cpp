// hello: every peer prints its rank; an allreduce of ones checks that all peers took part.
// Run: fmirun -n 4 build/hello
#include <fmi.hpp>

#include <cstdio>
#include <exception>

int main() {
    try {
        FMI::Communicator comm = FMI::Communicator::from_env();
        std::printf("hello from peer %u of %u (libfmi %s)\n", comm.rank(), comm.size(), fmi_version());

        FMI::Comm::Data<int> one(1), count;
        comm.allreduce(one, count, FMI::Utils::Op::sum);
        if (count.get() != static_cast<int>(comm.size())) {
            std::fprintf(stderr, "peer %u: allreduce counted %d peers, expected %u\n", comm.rank(), count.get(),
                         comm.size());
            return 1;
        }
        comm.barrier();
        if (comm.rank() == 0) {
            std::printf("hello: OK (%u peers)\n", comm.size());
        }
        comm.finalize(); // explicit, so that a failing close is an error (the destructor only logs)
        return 0;
    } catch (const FMI::Error &e) {
        std::fprintf(stderr, "hello: FMI error %d: %s\n", static_cast<int>(e.status()), e.what());
    } catch (const std::exception &e) {
        std::fprintf(stderr, "hello: %s\n", e.what());
    }
    return 1;
}
