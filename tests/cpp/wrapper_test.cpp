// wrapper_test: exercises every method of the C++ wrapper (include/fmi.hpp) under fmirun and
// checks the results, including errors (FMI::Error status + message) and FMI::Utils::Timeout.
// Run: fmirun -n 4 build/wrapper_test        (works for any N >= 1; p2p parts need N >= 2)
#include <fmi.hpp>

#include "check.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

using FMI::Communicator;
using FMI::Comm::Data;
using FMI::Utils::Function;
using FMI::Utils::Op;
using u64 = std::uint64_t;

// Non-commutative, non-associative op: append decimal digit b to a.
const Function<u64> append_digit([](u64 a, u64 b) { return a * 10 + b; }, false, false);

// Digits of peers 0..k appended left to right (peer r contributes r % 9 + 1).
u64 digits_upto(unsigned k) {
    u64 v = 0;
    for (unsigned r = 0; r <= k; ++r) {
        v = v * 10 + r % 9 + 1;
    }
    return v;
}

struct Pod {
    std::int32_t a;
    double b;
};

void test_local_errors(Communicator &comm, Checker &check) {
    const unsigned n = comm.size();
    check.throws<FMI::Error>(FMI_ERR_INVALID_ARG, "recv from out-of-range peer", [&] {
        Data<int> x;
        comm.recv(x, n);
    });
    check.throws<FMI::Error>(FMI_ERR_INVALID_ARG, "send to out-of-range peer", [&] { comm.send(Data<int>(1), n + 7); });
    check.throws<FMI::Error>(FMI_ERR_INVALID_ARG, "bcast from out-of-range root", [&] {
        Data<int> x;
        comm.bcast(x, n);
    });
    check.throws<FMI::Error>(FMI_ERR_INVALID_ARG, "set_timeout(0)", [&] { comm.set_timeout(0); });
    check.throws<FMI::Error>(FMI_ERR_SIZE_MISMATCH, "allreduce with recvbuf too small", [&] {
        Data<std::vector<int>> in(4), out(3);
        comm.allreduce(in, out, Op::sum);
    });
    check.throws<FMI::Error>(FMI_ERR_SIZE_MISMATCH, "allgather with recvbuf too small", [&] {
        Data<std::vector<int>> in(2), out(2 * n - 1);
        comm.allgather(in, out);
    });
    check.throws<FMI::Error>(FMI_ERR_INVALID_ARG, "Communicator with peer_id >= num_peers",
                             [] { Communicator bad(5, 2, "", "wrapper-test-bad-peer"); });
    check.throws<FMI::Error>(FMI_ERR_CONFIG, "Communicator with a missing config file",
                             [] { Communicator bad(0, 1, "/nonexistent/fmi.json", "wrapper-test-bad-config"); });
}

void test_settings(Communicator &comm, Checker &check) {
    check(comm.rank() < comm.size(), "rank < size");
    check(comm.handle() != nullptr, "handle() is set");
    const std::uint64_t before = comm.timeout();
    check(before > 0, "default timeout > 0");
    comm.set_timeout(12345);
    check(comm.timeout() == 12345, "set_timeout/timeout round trip");
    comm.set_timeout(before);
    comm.hint(FMI::Utils::fast);
    comm.hint(FMI::Utils::Hint::cheap);
}

// Every peer sends to rank+1 and receives from rank-1 (even ranks send first).
void test_p2p(Communicator &comm, Checker &check) {
    const unsigned r = comm.rank(), n = comm.size();
    const unsigned next = (r + 1) % n, prev = (r + n - 1) % n;
    Data<std::int32_t> s_int(static_cast<std::int32_t>(r) * 7), r_int;
    Data<std::vector<float>> s_vec(std::vector<float>{float(r), 0.5f, -1.0f * float(r)}), r_vec(3);
    char s_raw[5] = {'p', 'e', 'e', 'r', char('0' + r % 10)}, r_raw[5] = {};
    Data<void *> s_void(s_raw, sizeof s_raw), r_void(r_raw, sizeof r_raw);
    Data<std::vector<Pod>> s_pod(std::vector<Pod>{{int(r), 1.5 * r}, {-int(r), 2.0}}), r_pod(2);
    Data<char> s_chr('a'), r_chr;

    auto send_all = [&] {
        comm.send(s_int, next);
        comm.send(s_vec, next);
        comm.send(s_void, next);
        comm.send(s_pod, next);
        comm.send(s_chr, next);
    };
    auto recv_all = [&] {
        comm.recv(r_int, prev);
        comm.recv(r_vec, prev);
        comm.recv(r_void, prev);
        comm.recv(r_pod, prev);
        comm.recv(r_chr, prev);
    };
    if (r % 2 == 0) {
        send_all();
        recv_all();
    } else {
        recv_all();
        send_all();
    }
    check(r_int.get() == static_cast<std::int32_t>(prev) * 7, "send/recv scalar int32");
    check(r_vec.get() == std::vector<float>{float(prev), 0.5f, -1.0f * float(prev)}, "send/recv vector<float>");
    check(std::string(r_raw, 4) == "peer" && r_raw[4] == char('0' + prev % 10), "send/recv Data<void*>");
    check(r_pod.get()[0].a == int(prev) && r_pod.get()[0].b == 1.5 * prev && r_pod.get()[1].a == -int(prev),
          "send/recv vector of trivially copyable struct (bytes)");
    check(r_chr.get() == 'a', "send/recv char");
}

void test_tagged(Communicator &comm, Checker &check) {
    const unsigned r = comm.rank(), n = comm.size();
    if (r != 0) {
        comm.send(Data<std::int32_t>(static_cast<std::int32_t>(r)), 0, 40 + static_cast<std::int32_t>(r));
    } else {
        for (unsigned i = 1; i < n; ++i) {
            fmi_msg_status p = comm.probe();
            Data<std::int32_t> v;
            fmi_msg_status st = comm.recv(v, p.source, FMI_ANY_TAG);
            check(st.source == p.source && st.tag == 40 + st.source && v.get() == st.source &&
                      st.count_bytes == sizeof(std::int32_t),
                  "tagged recv from FMI_ANY_SOURCE sized by probe");
        }
        fmi_msg_status none{};
        check(!comm.iprobe(none), "iprobe with nothing waiting");
    }
    comm.barrier();
}

void test_nonblocking(Communicator &comm, Checker &check) {
    const unsigned r = comm.rank(), n = comm.size();
    // A ring of isend/irecv with an iallreduce in flight beside it.
    Data<std::vector<double>> in(std::vector<double>(4, double(r + 1))), out(4);
    FMI::Request sum = comm.iallreduce(in, out, FMI::Utils::Op::sum);
    if (n > 1) {
        const unsigned right = (r + 1) % n, left = (r + n - 1) % n;
        Data<std::int64_t> mine(static_cast<std::int64_t>(r) * 10), got(-1);
        std::vector<FMI::Request> reqs;
        reqs.push_back(comm.irecv(got, static_cast<std::int32_t>(left), 9));
        reqs.push_back(comm.isend(mine, right, 9));
        FMI::Request::waitall(reqs);
        check(got.get() == static_cast<std::int64_t>(left) * 10 && !reqs[0].active(), "isend/irecv ring + waitall");
    }
    fmi_msg_status st{};
    st = sum.wait();
    check(!sum.active() && out.get() == std::vector<double>(4, n * (n + 1) / 2.0), "iallreduce with Op::sum");
    bool threw = false;
    try {
        sum.wait();
    } catch (const FMI::Error &e) {
        threw = e.status() == FMI_ERR_NULL_ARG;
    }
    check(threw, "waiting twice throws FMI_ERR_NULL_ARG");
    // ireduce, iallgather and ialltoall in flight at once.
    Data<std::vector<std::int32_t>> mine(std::vector<std::int32_t>{std::int32_t(r), 1}), red(2), all(2 * n);
    std::vector<std::int32_t> blocks(n);
    for (unsigned j = 0; j < n; ++j) {
        blocks[j] = std::int32_t(r * 100 + j);
    }
    Data<std::vector<std::int32_t>> a2a_in(blocks), a2a_out(n);
    std::vector<FMI::Request> cs;
    cs.push_back(comm.ireduce(mine, red, 0, FMI::Utils::Op::sum));
    cs.push_back(comm.iallgather(mine, all));
    cs.push_back(comm.ialltoall(a2a_in, a2a_out));
    FMI::Request::waitall(cs);
    bool ok = true;
    for (unsigned j = 0; j < n; ++j) {
        ok = ok && all.get()[2 * j] == std::int32_t(j) && all.get()[2 * j + 1] == 1 &&
             a2a_out.get()[j] == std::int32_t(j * 100 + r);
    }
    if (r == 0) {
        ok = ok && red.get()[0] == std::int32_t(n * (n - 1) / 2) && red.get()[1] == std::int32_t(n);
    }
    check(ok, "ireduce, iallgather and ialltoall at once");
    FMI::Request b = comm.ibarrier();
    b.wait();
    (void)st;
}

void test_collectives(Communicator &comm, Checker &check) {
    const unsigned r = comm.rank(), n = comm.size(), last = n - 1;

    // bcast from the last peer.
    Data<std::vector<std::int64_t>> b(3);
    if (r == last) {
        b.get() = {-1, 42, 1LL << 40};
    }
    comm.bcast(b, last);
    check(b.get() == std::vector<std::int64_t>{-1, 42, 1LL << 40}, "bcast vector<int64> from last peer");

    comm.barrier();

    // gather to 0 and to the last peer; non-root recvbuf may be empty.
    for (unsigned root : {0u, last}) {
        Data<std::vector<std::int32_t>> mine(std::vector<std::int32_t>{int(r), int(r) * 10, int(r) * 100});
        Data<std::vector<std::int32_t>> all(r == root ? 3 * n : 0);
        comm.gather(mine, all, root);
        if (r == root) {
            bool ok = true;
            for (unsigned q = 0; q < n; ++q) {
                ok = ok && all.get()[3 * q] == int(q) && all.get()[3 * q + 2] == int(q) * 100;
            }
            check(ok, "gather to root " + std::to_string(root));
        }
    }
    // gather scalars into a vector.
    Data<std::vector<double>> ranks(r == 0 ? n : 0);
    comm.gather(Data<double>(r + 0.25), ranks, 0);
    if (r == 0) {
        bool ok = true;
        for (unsigned q = 0; q < n; ++q) {
            ok = ok && ranks.get()[q] == q + 0.25;
        }
        check(ok, "gather Data<double> into Data<vector<double>>");
    }

    // scatter from the last peer: block q = {q, q + 0.5}.
    Data<std::vector<double>> blocks(r == last ? 2 * n : 0), mine(2);
    if (r == last) {
        for (unsigned q = 0; q < n; ++q) {
            blocks.get()[2 * q] = q;
            blocks.get()[2 * q + 1] = q + 0.5;
        }
    }
    comm.scatter(blocks, mine, last);
    check(mine.get() == std::vector<double>{double(r), r + 0.5}, "scatter from last peer");

    // allgather: {r, -r} from everyone.
    Data<std::vector<std::int16_t>> pair(std::vector<std::int16_t>{std::int16_t(r), std::int16_t(-int(r))});
    Data<std::vector<std::int16_t>> pairs(2 * n);
    comm.allgather(pair, pairs);
    bool ok = true;
    for (unsigned q = 0; q < n; ++q) {
        ok = ok && pairs.get()[2 * q] == std::int16_t(q) && pairs.get()[2 * q + 1] == std::int16_t(-int(q));
    }
    check(ok, "allgather");

    // alltoall: block j of peer i is {100 i + j, -(100 i + j)}; peer r gets {100 i + r, ...} at block i.
    Data<std::vector<std::int32_t>> out(2 * n), in(2 * n);
    for (unsigned j = 0; j < n; ++j) {
        out.get()[2 * j] = int(100 * r + j);
        out.get()[2 * j + 1] = -int(100 * r + j);
    }
    comm.alltoall(out, in);
    ok = true;
    for (unsigned i = 0; i < n; ++i) {
        ok = ok && in.get()[2 * i] == int(100 * i + r) && in.get()[2 * i + 1] == -int(100 * i + r);
    }
    check(ok, "alltoall");
}

// The v-collectives: peer q's block has q % 3 elements (some empty), laid out in reverse rank
// order with one spare element between blocks.
void test_v_collectives(Communicator &comm, Checker &check) {
    const unsigned r = comm.rank(), n = comm.size(), last = n - 1;
    std::vector<int> counts(n), displs(n);
    int at = 0;
    for (unsigned q = n; q-- > 0;) {
        counts[q] = int(q % 3);
        displs[q] = at;
        at += counts[q] + 1;
    }
    auto block_ok = [&](const std::vector<std::int32_t> &all, unsigned q, int base) {
        for (int k = 0; k < counts[q]; ++k) {
            if (all[displs[q] + k] != base + int(100 * q) + k) {
                return false;
            }
        }
        return true;
    };
    std::vector<std::int32_t> own(r % 3);
    for (unsigned k = 0; k < own.size(); ++k) {
        own[k] = int(100 * r + k);
    }
    Data<std::vector<std::int32_t>> mine(own);

    // gatherv to the last peer (elsewhere the counts may be empty).
    Data<std::vector<std::int32_t>> all(r == last ? at : 0);
    comm.gatherv(mine, all, r == last ? counts : std::vector<int>{}, r == last ? displs : std::vector<int>{}, last);
    if (r == last) {
        bool ok = true;
        for (unsigned q = 0; q < n; ++q) {
            ok = ok && block_ok(all.get(), q, 0);
        }
        check(ok, "gatherv to the last peer");
    }
    // scatterv from peer 0: block q is 1000 + 100 q + k.
    Data<std::vector<std::int32_t>> src(r == 0 ? at : 0), got(r % 3);
    if (r == 0) {
        for (unsigned q = 0; q < n; ++q) {
            for (int k = 0; k < counts[q]; ++k) {
                src.get()[displs[q] + k] = 1000 + int(100 * q) + k;
            }
        }
    }
    comm.scatterv(src, counts, displs, got, 0);
    bool ok = true;
    for (unsigned k = 0; k < got.size(); ++k) {
        ok = ok && got.get()[k] == 1000 + int(100 * r + k);
    }
    check(ok, "scatterv from peer 0");
    // allgatherv
    Data<std::vector<std::int32_t>> every(at);
    comm.allgatherv(mine, every, counts, displs);
    ok = true;
    for (unsigned q = 0; q < n; ++q) {
        ok = ok && block_ok(every.get(), q, 0);
    }
    check(ok, "allgatherv");
    // alltoallv: peer i sends j + 1 elements {10 i + j} to peer j.
    std::vector<int> sc(n), sd(n), rc(n), rd(n);
    int sat = 0, rat = 0;
    for (unsigned q = 0; q < n; ++q) {
        sc[q] = int(q) + 1;
        sd[q] = sat;
        sat += sc[q];
        rc[q] = int(r) + 1;
        rd[q] = rat;
        rat += rc[q];
    }
    Data<std::vector<std::int32_t>> out(sat), in(rat);
    for (unsigned j = 0; j < n; ++j) {
        std::fill(out.get().begin() + sd[j], out.get().begin() + sd[j] + sc[j], int(10 * r + j));
    }
    comm.alltoallv(out, sc, sd, in, rc, rd);
    ok = true;
    for (unsigned i = 0; i < n; ++i) {
        ok = ok && std::all_of(in.get().begin() + rd[i], in.get().begin() + rd[i] + rc[i],
                               [&](std::int32_t v) { return v == int(10 * i + r); });
    }
    check(ok, "alltoallv");
    // reduce_scatter with the non-commutative append_digit: peer q gets q % 2 + 1 elements, each
    // the digits of every peer in rank order.
    std::vector<int> rsc(n);
    std::size_t total = 0;
    for (unsigned q = 0; q < n; ++q) {
        rsc[q] = int(q % 2) + 1;
        total += rsc[q];
    }
    Data<std::vector<u64>> contrib(std::vector<u64>(total, r % 9 + 1)), part(r % 2 + 1);
    comm.reduce_scatter(contrib, part, rsc, append_digit);
    check(std::all_of(part.get().begin(), part.get().end(), [&](u64 v) { return v == digits_upto(last); }),
          "reduce_scatter with an ordered op");
    Data<std::vector<double>> blocks(std::vector<double>(2 * n, r + 1.0)), two(2);
    comm.reduce_scatter_block(blocks, two, Op::sum);
    check(two.get() == std::vector<double>(2, n * (n + 1) / 2.0), "reduce_scatter_block sum");
    // exscan: peer 0's recvbuf untouched.
    Data<u64> digit(r % 9 + 1), prefix(77);
    comm.exscan(digit, prefix, append_digit);
    check(r == 0 ? prefix.get() == 77 : prefix.get() == digits_upto(r - 1), "exscan with an ordered op");
    // A layout beyond the buffer is refused before the call.
    check.throws<FMI::Error>(FMI_ERR_SIZE_MISMATCH, "allgatherv with recvbuf too small", [&] {
        std::vector<int> ones(n, 1), seq(n);
        for (unsigned q = 0; q < n; ++q) {
            seq[q] = int(q);
        }
        Data<std::vector<std::int32_t>> small(n - 1), one(1);
        comm.allgatherv(one, small, ones, seq);
    });
    check.throws<FMI::Error>(FMI_ERR_SIZE_MISMATCH, "allgatherv with too few counts", [&] {
        comm.allgatherv(mine, every, std::vector<int>(n + 1), displs);
    });
}

void test_reductions(Communicator &comm, Checker &check) {
    const unsigned r = comm.rank(), n = comm.size(), last = n - 1;
    const u64 my_digit = r % 9 + 1;

    // reduce: built-in sum to 0, non-commutative user op to the last peer.
    Data<std::int64_t> one(r + 1), total;
    comm.reduce(one, total, 0, Op::sum);
    if (r == 0) {
        check(total.get() == std::int64_t(n) * (n + 1) / 2, "reduce Op::sum");
    }
    Data<u64> d(my_digit), folded;
    comm.reduce(d, folded, last, append_digit);
    if (r == last) {
        check(folded.get() == digits_upto(last), "reduce non-commutative Function<T>");
    }

    // reduce in place with an original-style whole-vector Function<std::vector<A>>.
    Function<std::vector<double>> vmax(
        [](std::vector<double> a, std::vector<double> b) {
            for (std::size_t i = 0; i < a.size(); ++i) {
                a[i] = a[i] > b[i] ? a[i] : b[i];
            }
            return a;
        },
        true, true);
    Data<std::vector<double>> v(std::vector<double>{double(r), -double(r)});
    comm.reduce(v, v, 0, vmax);
    if (r == 0) {
        check(v.get() == std::vector<double>{double(last), 0.0}, "reduce in place, Function<std::vector<double>>");
    }

    // allreduce: built-in max / bxor and a user float sum applied element-wise.
    Data<std::vector<std::uint16_t>> m(std::vector<std::uint16_t>{std::uint16_t(r), std::uint16_t(1000 - r)}), mx(2);
    comm.allreduce(m, mx, Op::max);
    check(mx.get() == std::vector<std::uint16_t>{std::uint16_t(last), 1000}, "allreduce Op::max uint16");
    Data<std::uint8_t> bit(std::uint8_t(1u << (r % 8))), bits;
    comm.allreduce(bit, bits, Op::bor);
    unsigned expect_bits = 0;
    for (unsigned q = 0; q < n; ++q) {
        expect_bits |= 1u << (q % 8);
    }
    check(bits.get() == expect_bits, "allreduce Op::bor uint8");
    Function<float> fsum([](float a, float b) { return a + b; }, true, true);
    Data<std::vector<float>> f(std::vector<float>(5, 1.0f)), fs(5);
    comm.allreduce(f, fs, fsum);
    check(fs.get() == std::vector<float>(5, float(n)), "allreduce Function<float> element-wise on vector");
    Data<u64> all_digits;
    comm.allreduce(d, all_digits, append_digit);
    check(all_digits.get() == digits_upto(last), "allreduce non-commutative Function<T>");

    // scan: inclusive prefix sum and non-commutative prefix fold.
    Data<std::int32_t> x(std::int32_t(r + 1)), prefix;
    comm.scan(x, prefix, Op::sum);
    check(prefix.get() == std::int32_t((r + 1) * (r + 2) / 2), "scan Op::sum");
    Data<u64> pd;
    comm.scan(d, pd, append_digit);
    check(pd.get() == digits_upto(r), "scan non-commutative Function<T>");

    // An exception thrown by a user function is rethrown after the call (on peers that ran it),
    // and the communicator remains usable.
    Function<int> throwing([](int, int) -> int { throw std::domain_error("user op failed"); }, true, true);
    int thrown = 0;
    try {
        Data<int> a(1), b;
        comm.allreduce(a, b, throwing);
    } catch (const std::domain_error &) {
        thrown = 1;
    }
    Data<int> t(thrown), any_thrown;
    comm.allreduce(t, any_thrown, Op::max);
    if (n > 1) {
        check(any_thrown.get() == 1, "exception of a user function is rethrown on some peer");
    }
}

// Idioms of the original FMI tests (spcl/fmi tests/communicator.cpp) compile and work unchanged,
// including whole-vector functions that treat positions differently, on vectors long enough that
// libfmi would otherwise split them (ring allreduce).
void test_original_idioms(Communicator &comm, Checker &check) {
    const int r = static_cast<int>(comm.rank()), n = static_cast<int>(comm.size());
    FMI::Comm::Data<int> single = r + 1;
    FMI::Comm::Data<int> res;
    FMI::Utils::Function<int> f([](auto a, auto b) { return a + b; }, true, true);
    comm.allreduce(single, res, f);
    check(res == n * (n + 1) / 2, "original idiom: Data<int> = value, Data == int");

    FMI::Comm::Data<std::vector<int>> small = {{1, 2, 3}};
    comm.bcast(small, 0);
    check(small.get() == std::vector<int>{1, 2, 3}, "original idiom: Data<std::vector<int>> = {{1,2,3}}");

    const std::size_t len = 1 << 17;
    std::vector<std::int64_t> mine(len, r + 1);
    mine[1] = 2 * (r + 1);
    FMI::Comm::Data<std::vector<std::int64_t>> data = mine;
    FMI::Comm::Data<std::vector<std::int64_t>> out(len);
    FMI::Utils::Function<std::vector<std::int64_t>> mixed(
        [](auto a, auto b) {
            std::vector<std::int64_t> c(a.size());
            c[0] = a[0] + b[0];
            c[1] = a[1] * b[1];
            for (std::size_t i = 2; i < a.size(); ++i) {
                c[i] = std::max(a[i], b[i]);
            }
            return c;
        },
        true, true);
    comm.allreduce(data, out, mixed);
    std::int64_t prod = 1;
    for (int q = 0; q < n; ++q) {
        prod *= 2 * (q + 1);
    }
    const auto &o = out.get();
    check(o[0] == n * (n + 1) / 2 && o[1] == prod && o[2] == n && o[len - 1] == n,
          "original idiom: position-dependent Function<std::vector> allreduce on 2^17 elements");
    comm.scan(data, out, mixed);
    std::int64_t pprod = 1;
    for (int q = 0; q <= r; ++q) {
        pprod *= 2 * (q + 1);
    }
    check(o[0] == (r + 1) * (r + 2) / 2 && o[1] == pprod && o[len - 1] == r + 1,
          "original idiom: position-dependent Function<std::vector> scan");
}

// Errors that involve a second peer: size mismatch on receive, timeout. Needs N >= 2.
void test_remote_errors(Communicator &comm, Checker &check) {
    const unsigned r = comm.rank();
    if (r == 0) {
        comm.send(Data<std::vector<int>>(4), 1);
    } else if (r == 1) {
        check.throws<FMI::Error>(FMI_ERR_SIZE_MISMATCH, "recv of 3 ints when 4 were sent", [&] {
            Data<std::vector<int>> three(3);
            comm.recv(three, 0);
        });
    }
    comm.barrier();

    // Peer 1 waits for a message peer 0 never sends; peer 0 meanwhile blocks in a receive from
    // peer 1 (so nothing else reaches peer 1 on that connection) until peer 1 reports back.
    if (r == 1) {
        const std::uint64_t before = comm.timeout();
        comm.set_timeout(300);
        check.throws<FMI::Utils::Timeout>(FMI_ERR_TIMEOUT, "recv that nobody sends", [&] {
            Data<int> never;
            comm.recv(never, 0);
        });
        comm.set_timeout(before);
        comm.send(Data<int>(1), 0);
    } else if (r == 0) {
        Data<int> done;
        comm.recv(done, 1);
        check(done.get() == 1, "communicator usable after a timeout");
    }
    comm.barrier();
}

void test_move_and_finalize(Communicator comm, Checker &check) {
    Communicator moved = std::move(comm);
    check.throws<FMI::Error>(FMI_ERR_NULL_ARG, "use of a moved-from Communicator", [&] { comm.barrier(); });
    moved.barrier();
    moved.finalize();
    check(moved.handle() == nullptr, "finalize() empties the Communicator");
    moved.finalize(); // no-op
}

} // namespace

void test_derived(Communicator &comm, Checker &check) {
    const unsigned n = comm.size(), me = comm.rank();
    // Even and odd ranks, in reverse order.
    std::optional<Communicator> s = comm.split(static_cast<int>(me % 2), -static_cast<int>(me));
    check(s.has_value(), "split gives a communicator");
    const unsigned members = (n - me % 2 + 1) / 2;
    check(s->size() == members, "split size");
    Data<int> mine(static_cast<int>(me)), total;
    s->allreduce(mine, total, Op::sum);
    int want = 0;
    for (unsigned r = me % 2; r < n; r += 2) {
        want += static_cast<int>(r);
    }
    check(total.get() == want, "allreduce on a split");
    std::optional<Communicator> none = comm.split(FMI_UNDEFINED, 0);
    check(!none.has_value(), "FMI_UNDEFINED gives no communicator");
    Communicator d = comm.dup();
    check(d.rank() == me && d.size() == n, "dup keeps ranks");
    FMI::Group g = comm.group();
    FMI::Group first = g.incl({0});
    check(first.size() == 1, "incl");
    std::vector<std::int32_t> t = g.translate_ranks({0}, first);
    check(t.size() == 1 && t[0] == 0, "translate_ranks");
    if (first.rank() == 0) {
        Communicator solo = comm.create_group(first, 9);
        check(solo.size() == 1, "create_group of one");
        solo.free();
    }
    check.throws<FMI::Error>(FMI_ERR_INVALID_ARG, "incl of a rank out of range", [&] { g.incl({n}); });
    s->free();
    d.free();
}

void test_in_place(Communicator &comm, Checker &check) {
    const unsigned n = comm.size(), r = comm.rank(), last = n - 1;
    using V = std::vector<std::int64_t>;
    // allreduce, scan, exscan: the contribution is in the buffer.
    Data<V> a(V{std::int64_t(r) + 1, 10});
    comm.allreduce(FMI::in_place, a, Op::sum);
    check(a.get() == V{std::int64_t(n * (n + 1) / 2), std::int64_t(10 * n)}, "in-place allreduce");
    Data<V> s(V{std::int64_t(r) + 1});
    comm.scan(FMI::in_place, s, Op::sum);
    check(s.get()[0] == std::int64_t((r + 1) * (r + 2) / 2), "in-place scan");
    Data<V> x(V{std::int64_t(r) + 1});
    comm.exscan(FMI::in_place, x, Op::sum);
    check(r == 0 ? x.get()[0] == 1 : x.get()[0] == std::int64_t(r * (r + 1) / 2), "in-place exscan");
    // reduce to the last peer: in place there, the ordinary form elsewhere.
    Data<V> mine(V{std::int64_t(r) * 3}), out;
    if (r == last) {
        comm.reduce(FMI::in_place, mine, last, Op::sum);
        check(mine.get()[0] == std::int64_t(3 * n * (n - 1) / 2), "in-place reduce at the root");
    } else {
        comm.reduce(mine, out, last, Op::sum);
    }
    // gather to peer 0 and scatter from it: the root's own block stays where it is.
    Data<V> all{V(2 * n, -1)};
    if (r == 0) {
        all.get()[0] = 7;
        all.get()[1] = 8;
        comm.gather(FMI::in_place, all, 0);
        bool ok = true;
        for (unsigned q = 0; q < n; ++q) {
            ok = ok && all.get()[2 * q] == (q == 0 ? 7 : std::int64_t(100 * q)) &&
                 all.get()[2 * q + 1] == (q == 0 ? 8 : std::int64_t(100 * q + 1));
        }
        check(ok, "in-place gather at the root");
        for (unsigned q = 0; q < 2 * n; ++q) {
            all.get()[q] = std::int64_t(1000 + q);
        }
        comm.scatter(all, FMI::in_place, 0);
        check(all.get()[0] == 1000 && all.get()[1] == 1001, "in-place scatter keeps the root's block");
    } else {
        Data<V> two(V{std::int64_t(100 * r), std::int64_t(100 * r + 1)}), none;
        comm.gather(two, none, 0);
        Data<V> got{V(2, 0)};
        comm.scatter(none, got, 0);
        check(got.get() == V{std::int64_t(1000 + 2 * r), std::int64_t(1001 + 2 * r)}, "scatter beside an in-place root");
    }
    // allgather: this peer's block is already at its place.
    Data<V> every{V(n, -1)};
    every.get()[r] = std::int64_t(5 * r);
    comm.allgather(FMI::in_place, every);
    bool ok = true;
    for (unsigned q = 0; q < n; ++q) {
        ok = ok && every.get()[q] == std::int64_t(5 * q);
    }
    check(ok, "in-place allgather");
    // alltoall: block j of the buffer goes to peer j; block i comes back from peer i.
    Data<V> blocks{V(n)};
    for (unsigned q = 0; q < n; ++q) {
        blocks.get()[q] = std::int64_t(10 * r + q);
    }
    comm.alltoall(FMI::in_place, blocks);
    ok = true;
    for (unsigned q = 0; q < n; ++q) {
        ok = ok && blocks.get()[q] == std::int64_t(10 * q + r);
    }
    check(ok, "in-place alltoall");
    // Off the root, in place is refused before anything is sent.
    if (n >= 2 && r != 0) {
        check.throws<FMI::Error>(FMI_ERR_INVALID_ARG, "in-place gather off the root", [&] {
            Data<V> b{V(n)};
            comm.gather(FMI::in_place, b, 0);
        });
    }
    Data<V> bad{V(n + 1)};
    if (n >= 2) {
        check.throws<FMI::Error>(FMI_ERR_SIZE_MISMATCH, "in-place allgather of a partial block", [&] {
            comm.allgather(FMI::in_place, bad);
        });
    }
}

int main() {
    Checker check;
    try {
        Communicator comm = Communicator::from_env();
        check.rank = comm.rank();
        const unsigned n = comm.size();

        test_local_errors(comm, check);
        test_settings(comm, check);
        if (n >= 2) {
            test_p2p(comm, check);
            test_tagged(comm, check);
            test_nonblocking(comm, check);
        }
        test_collectives(comm, check);
        test_v_collectives(comm, check);
        test_reductions(comm, check);
        test_in_place(comm, check);
        test_original_idioms(comm, check);
        test_derived(comm, check);
        if (n >= 2) {
            test_remote_errors(comm, check);
        }

        Data<int> failed(check.failures), any_failed;
        comm.allreduce(failed, any_failed, Op::max);
        const bool ok = any_failed.get() == 0;
        if (check.rank == 0) {
            std::printf("wrapper_test: %d checks on peer 0, %s (%u peers)\n", check.checks, ok ? "OK" : "FAILED", n);
        }
        test_move_and_finalize(std::move(comm), check);
        return ok && check.failures == 0 ? 0 : 1;
    } catch (const FMI::Error &e) {
        std::fprintf(stderr, "peer %u: wrapper_test: FMI error %d: %s\n", check.rank, static_cast<int>(e.status()),
                     e.what());
    } catch (const std::exception &e) {
        std::fprintf(stderr, "peer %u: wrapper_test: %s\n", check.rank, e.what());
    }
    return 1;
}
