// allreduce: vector sums (built-in and user op) checked against the closed form, and a
// non-commutative, non-associative user op ("append a digit": a*10 + b) checked against a
// serial left-to-right fold in rank order.
// Run: fmirun -n 4 build/allreduce [length=1000]
#include <fmi.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <vector>

namespace {

using u64 = std::uint64_t;

// Value of element i on peer r for the non-commutative checks: a single decimal digit.
u64 digit(unsigned r, std::size_t i) { return (r + i) % 9 + 1; }

// Appends digit b to a (wraps modulo 2^64 for many peers; the serial fold wraps the same way).
u64 append_digit(u64 a, u64 b) { return a * 10 + b; }

bool report(unsigned rank, const char *what, std::size_t bad) {
    if (bad != 0) {
        std::fprintf(stderr, "peer %u: %s: %zu wrong elements\n", rank, what, bad);
    } else if (rank == 0) {
        std::printf("allreduce: %s ok\n", what);
    }
    return bad == 0;
}

} // namespace

int main(int argc, char **argv) {
    const std::size_t len = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1000;
    try {
        FMI::Communicator comm = FMI::Communicator::from_env();
        const unsigned rank = comm.rank(), n = comm.size();
        bool ok = true;

        // 1. Built-in sum of int64: x_r[i] = r*len + i, so the sum is len*n(n-1)/2 + n*i.
        std::vector<std::int64_t> x(len);
        for (std::size_t i = 0; i < len; ++i) {
            x[i] = static_cast<std::int64_t>(rank * len + i);
        }
        FMI::Comm::Data<std::vector<std::int64_t>> xi(x), si(len);
        comm.allreduce(xi, si, FMI::Utils::Op::sum);
        std::size_t bad = 0;
        const auto base = static_cast<std::int64_t>(len * n * (n - 1) / 2);
        for (std::size_t i = 0; i < len; ++i) {
            bad += si.get()[i] != base + static_cast<std::int64_t>(n * i);
        }
        ok = report(rank, "int64 Op::sum", bad) && ok;

        // 2. The same as doubles with a user function (exact: all values are small integers).
        FMI::Utils::Function<double> plus([](double a, double b) { return a + b; }, true, true);
        FMI::Comm::Data<std::vector<double>> xd(std::vector<double>(x.begin(), x.end())), sd(len);
        comm.allreduce(xd, sd, plus);
        bad = 0;
        for (std::size_t i = 0; i < len; ++i) {
            bad += sd.get()[i] != static_cast<double>(base + static_cast<std::int64_t>(n * i));
        }
        ok = report(rank, "double user sum", bad) && ok;

        // 3. Non-commutative, non-associative scalar op: the result is the digits of peers 0..n-1 in order.
        FMI::Utils::Function<u64> append(append_digit, false, false);
        u64 expected = digit(0, 0);
        for (unsigned r = 1; r < n; ++r) {
            expected = append_digit(expected, digit(r, 0));
        }
        FMI::Comm::Data<u64> mine(digit(rank, 0)), folded;
        comm.allreduce(mine, folded, append);
        if (rank == 0) {
            std::printf("allreduce: digits folded in rank order = %llu\n", static_cast<unsigned long long>(folded.get()));
        }
        ok = report(rank, "non-commutative scalar op", folded.get() != expected) && ok;

        // 4. The same op element-wise on a vector (Function<A>), and as an original-FMI
        //    whole-vector Function<std::vector<A>>.
        std::vector<u64> mine_v(len), expected_v(len);
        for (std::size_t i = 0; i < len; ++i) {
            mine_v[i] = digit(rank, i);
            expected_v[i] = digit(0, i);
            for (unsigned r = 1; r < n; ++r) {
                expected_v[i] = append_digit(expected_v[i], digit(r, i));
            }
        }
        FMI::Comm::Data<std::vector<u64>> in(mine_v), out(len);
        comm.allreduce(in, out, append);
        ok = report(rank, "non-commutative element-wise op", out.get() != expected_v) && ok;

        FMI::Utils::Function<std::vector<u64>> append_vec(
            [](std::vector<u64> a, std::vector<u64> b) {
                for (std::size_t i = 0; i < a.size(); ++i) {
                    a[i] = append_digit(a[i], b[i]);
                }
                return a;
            },
            false, false);
        FMI::Comm::Data<std::vector<u64>> out2(len);
        comm.allreduce(in, out2, append_vec);
        ok = report(rank, "non-commutative whole-vector op", out2.get() != expected_v) && ok;

        // Every peer exits with the combined verdict.
        FMI::Comm::Data<int> good(ok ? 1 : 0), all_good;
        comm.allreduce(good, all_good, FMI::Utils::Op::min);
        if (rank == 0) {
            std::printf("allreduce: %s (%u peers, length %zu)\n", all_good.get() ? "OK" : "FAILED", n, len);
        }
        comm.finalize(); // explicit, so that a failing close is an error (the destructor only logs)
        return all_good.get() ? 0 : 1;
    } catch (const FMI::Error &e) {
        std::fprintf(stderr, "allreduce: FMI error %d: %s\n", static_cast<int>(e.status()), e.what());
    } catch (const std::exception &e) {
        std::fprintf(stderr, "allreduce: %s\n", e.what());
    }
    return 1;
}
