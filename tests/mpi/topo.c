/* Process topologies and neighbourhood collectives: Dims_create (against MPICH's answers),
 * Cartesian communicators (get, rank/coords, shift, sub, map, dup keeps the topology, processes
 * beyond the grid get MPI_COMM_NULL, a zero-dimensional grid), graphs, distributed graphs
 * (adjacent and general, weights), Topo_test, and Neighbor_allgather(v)/alltoall(v/w) on a
 * periodic ring, a non-periodic grid and a distributed graph, values checked exactly, with
 * their non-blocking and persistent forms; Comm_toint/fromint. */
#include "check.h"

static int rank, size;

/* The value block b of process s carries in the alltoall tests. */
static int val(int s, int b) { return 1000 * s + b; }

/* Which block process `src` sends to this process for receive slot k, when blocks between
 * two processes are matched in list order: the m-th occurrence of src among the in-neighbours
 * gets src's m-th block addressed to this process. */
/* Whether in-neighbour k appears once (a grid whose two neighbours in a dimension are the same
 * process pairs the blocks differently in MPICH 5.0.2 on one and on two processes: such slots
 * are only checked to hold one of that process's blocks). */
static int once(int k, const int *in, int n) {
    for (int j = 0; j < n; j++)
        if (j != k && in[j] == in[k]) return 0;
    return 1;
}

static int block_for(int k, const int *in, const int *src_out, int nout) {
    int m = 0;
    for (int j = 0; j < k; j++)
        if (in[j] == in[k]) m++;
    for (int b = 0; b < nout; b++)
        if (src_out[b] == rank && m-- == 0) return b;
    return -1;
}

/* The out-neighbours of process r in a 1-D grid of n processes (periodic or not). */
static void ring_out(int r, int n, int periodic, int *out) {
    int l = r - 1, h = r + 1;
    if (periodic) { l = (l + n) % n; h = h % n; }
    out[0] = l < 0 ? MPI_PROC_NULL : l;
    out[1] = h >= n ? MPI_PROC_NULL : h;
}

static void dims_case(int n, int d, const int *want) {
    int dims[5] = {0, 0, 0, 0, 0};
    OK(MPI_Dims_create(n, d, dims));
    for (int i = 0; i < d; i++)
        CHECK(dims[i] == want[i], "Dims_create(%d, %d)[%d] = %d, want %d", n, d, i, dims[i],
              want[i]);
}

static void ring_neighbors(int periodic) {
    int dims[1] = {size}, per[1] = {periodic};
    MPI_Comm ring;
    OK(MPI_Cart_create(MPI_COMM_WORLD, 1, dims, per, 0, &ring));
    int in[2], out[2];
    ring_out(rank, size, periodic, out);
    /* For a grid the in-neighbours are the out-neighbours. */
    in[0] = out[0];
    in[1] = out[1];
    int src, dst;
    OK(MPI_Cart_shift(ring, 0, 1, &src, &dst));
    CHECK(src == in[0] && dst == out[1], "shift: %d %d, want %d %d", src, dst, in[0], out[1]);

    /* allgather: slot k gets in-neighbour k's rank, PROC_NULL slots untouched. */
    int got[2] = {-7, -7};
    OK(MPI_Neighbor_allgather(&rank, 1, MPI_INT, got, 1, MPI_INT, ring));
    for (int k = 0; k < 2; k++) {
        int want = in[k] == MPI_PROC_NULL ? -7 : in[k];
        CHECK(got[k] == want, "periodic %d allgather slot %d: %d, want %d", periodic, k, got[k],
              want);
    }
    /* alltoall: block b to out-neighbour b. */
    int send[2] = {val(rank, 0), val(rank, 1)}, recv[2] = {-7, -7};
    OK(MPI_Neighbor_alltoall(send, 1, MPI_INT, recv, 1, MPI_INT, ring));
    for (int k = 0; k < 2; k++) {
        int want = -7;
        if (in[k] != MPI_PROC_NULL) {
            int so[2];
            ring_out(in[k], size, periodic, so);
            want = val(in[k], block_for(k, in, so, 2));
            if (!once(k, in, 2) && (recv[k] == val(in[k], 0) || recv[k] == val(in[k], 1)))
                want = recv[k];
        }
        CHECK(recv[k] == want, "periodic %d alltoall slot %d: %d, want %d", periodic, k,
              recv[k], want);
    }
    /* allgatherv into reversed slots with a gap; alltoallv with 2 ints per block. */
    int gv[5] = {-7, -7, -7, -7, -7}, rc[2] = {1, 1}, rd[2] = {3, 0};
    OK(MPI_Neighbor_allgatherv(&rank, 1, MPI_INT, gv, rc, rd, MPI_INT, ring));
    CHECK(gv[3] == (in[0] == MPI_PROC_NULL ? -7 : in[0]) &&
              gv[0] == (in[1] == MPI_PROC_NULL ? -7 : in[1]) && gv[1] == -7,
          "allgatherv");
    int s2[4] = {val(rank, 0), val(rank, 0) + 1, val(rank, 1), val(rank, 1) + 1};
    int r2[4] = {-7, -7, -7, -7}, sc[2] = {2, 2}, sd[2] = {0, 2}, rc2[2] = {2, 2},
        rd2[2] = {2, 0};
    OK(MPI_Neighbor_alltoallv(s2, sc, sd, MPI_INT, r2, rc2, rd2, MPI_INT, ring));
    for (int k = 0; k < 2; k++) {
        int at = rd2[k];
        if (in[k] == MPI_PROC_NULL) {
            CHECK(r2[at] == -7, "alltoallv PROC_NULL slot written");
            continue;
        }
        int so[2];
        ring_out(in[k], size, periodic, so);
        int b = block_for(k, in, so, 2);
        if (!once(k, in, 2) && (r2[at] == val(in[k], 0) || r2[at] == val(in[k], 1)))
            b = r2[at] - val(in[k], 0);
        CHECK(r2[at] == val(in[k], b) && r2[at + 1] == val(in[k], b) + 1,
              "alltoallv slot %d: %d %d", k, r2[at], r2[at + 1]);
    }
    OK(MPI_Comm_free(&ring));
}

/* Non-blocking and persistent forms on a periodic ring. Rank 0 starts the neighbour exchange
 * before a barrier on another communicator that the others enter first: an I-call that ran
 * the exchange at its start would deadlock here. */
static void ring_requests(void) {
    int dims[1] = {size}, per[1] = {1};
    MPI_Comm ring;
    OK(MPI_Cart_create(MPI_COMM_WORLD, 1, dims, per, 0, &ring));
    int in[2];
    OK(MPI_Cart_shift(ring, 0, 1, &in[0], &in[1]));
    int got[2] = {-7, -7};
    MPI_Request r;
    if (rank == 0) {
        OK(MPI_Ineighbor_allgather(&rank, 1, MPI_INT, got, 1, MPI_INT, ring, &r));
        OK(MPI_Barrier(MPI_COMM_WORLD));
    } else {
        OK(MPI_Barrier(MPI_COMM_WORLD));
        OK(MPI_Ineighbor_allgather(&rank, 1, MPI_INT, got, 1, MPI_INT, ring, &r));
    }
    OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    CHECK(r == MPI_REQUEST_NULL && got[0] == in[0] && got[1] == in[1],
          "Ineighbor_allgather: %d %d", got[0], got[1]);
    /* Persistent alltoall, started twice with new data. */
    int send[2], recv[2];
    OK(MPI_Neighbor_alltoall_init(send, 1, MPI_INT, recv, 1, MPI_INT, ring, MPI_INFO_NULL, &r));
    for (int round = 0; round < 2; round++) {
        send[0] = send[1] = 100 * round + rank;
        recv[0] = recv[1] = -7;
        OK(MPI_Start(&r));
        OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
        CHECK(r != MPI_REQUEST_NULL && recv[0] == 100 * round + in[0] &&
                  recv[1] == 100 * round + in[1],
              "persistent alltoall round %d: %d %d", round, recv[0], recv[1]);
    }
    OK(MPI_Request_free(&r));
    /* Ineighbor_alltoallv completed by a test loop. */
    int sc[2] = {1, 1}, sd[2] = {0, 1}, rv[2] = {-7, -7}, flag = 0;
    send[0] = send[1] = rank;
    OK(MPI_Ineighbor_alltoallv(send, sc, sd, MPI_INT, rv, sc, sd, MPI_INT, ring, &r));
    while (!flag) OK(MPI_Test(&r, &flag, MPI_STATUS_IGNORE));
    CHECK(rv[0] == in[0] && rv[1] == in[1], "Ineighbor_alltoallv %d %d", rv[0], rv[1]);
    OK(MPI_Comm_free(&ring));
}

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    OK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    int rc;

    /* ---- Dims_create: MPICH 5.0.2's answers ---- */
    {
        int a[] = {4, 3}, b[] = {3, 2, 2}, c[] = {4, 2, 2}, d[] = {2, 2, 2, 2},
            e[] = {5, 2, 2, 1}, f[] = {7, 7, 1}, g[] = {6, 5, 4}, h[] = {7, 5, 3, 2},
            i[] = {4, 4, 4, 4, 4}, j[] = {16, 8}, k[] = {7, 1};
        dims_case(12, 2, a);
        dims_case(12, 3, b);
        dims_case(16, 3, c);
        dims_case(16, 4, d);
        dims_case(20, 4, e);
        dims_case(49, 3, f);
        dims_case(120, 3, g);
        dims_case(210, 4, h);
        dims_case(1024, 5, i);
        dims_case(128, 2, j);
        dims_case(7, 2, k);
        int fixed[3] = {0, 3, 0};
        OK(MPI_Dims_create(24, 3, fixed));
        CHECK(fixed[0] == 4 && fixed[1] == 3 && fixed[2] == 2, "Dims_create with a fixed 3");
        int bad[2] = {5, 0};
        rc = MPI_Dims_create(12, 2, bad);
        CHECK(rc != MPI_SUCCESS, "Dims_create with a fixed 5 for 12 accepted");
    }

    /* ---- a 2-D grid of all processes, periodic in dimension 0 only ---- */
    {
        int dims[2] = {0, 0}, per[2] = {1, 0};
        OK(MPI_Dims_create(size, 2, dims));
        MPI_Comm g;
        OK(MPI_Cart_create(MPI_COMM_WORLD, 2, dims, per, 1, &g));
        int t, nd, gd[2], gp[2], gc[2], r;
        OK(MPI_Topo_test(g, &t));
        CHECK(t == MPI_CART, "Topo_test %d", t);
        CHECK(MPI_Comm_fromint(MPI_Comm_toint(g)) == g, "Comm_toint/fromint");
        OK(MPI_Topo_test(MPI_COMM_WORLD, &t));
        CHECK(t == MPI_UNDEFINED, "Topo_test of COMM_WORLD %d", t);
        OK(MPI_Cartdim_get(g, &nd));
        OK(MPI_Cart_get(g, 2, gd, gp, gc));
        CHECK(nd == 2 && gd[0] == dims[0] && gd[1] == dims[1] && gp[0] == 1 && gp[1] == 0,
              "Cart_get");
        CHECK(gc[0] == rank / dims[1] && gc[1] == rank % dims[1], "coords %d %d", gc[0], gc[1]);
        for (int q = 0; q < size; q++) {
            int co[2];
            OK(MPI_Cart_coords(g, q, 2, co));
            OK(MPI_Cart_rank(g, co, &r));
            CHECK(r == q && co[0] == q / dims[1] && co[1] == q % dims[1], "rank %d coords", q);
        }
        int wrap[2] = {gc[0] + dims[0], gc[1]};
        OK(MPI_Cart_rank(g, wrap, &r));
        CHECK(r == rank, "periodic coordinate wraps");
        int off[2] = {gc[0], dims[1]};
        rc = MPI_Cart_rank(g, off, &r);
        CHECK(rc != MPI_SUCCESS, "a coordinate past a non-periodic edge accepted");
        int src, dst;
        OK(MPI_Cart_shift(g, 0, 1, &src, &dst));
        CHECK(src == ((gc[0] - 1 + dims[0]) % dims[0]) * dims[1] + gc[1] &&
                  dst == ((gc[0] + 1) % dims[0]) * dims[1] + gc[1],
              "shift 0: %d %d", src, dst);
        OK(MPI_Cart_shift(g, 1, 1, &src, &dst));
        CHECK(src == (gc[1] == 0 ? MPI_PROC_NULL : rank - 1) &&
                  dst == (gc[1] == dims[1] - 1 ? MPI_PROC_NULL : rank + 1),
              "shift 1: %d %d", src, dst);
        /* Rows: keep dimension 1. */
        int keep[2] = {0, 1};
        MPI_Comm row;
        OK(MPI_Cart_sub(g, keep, &row));
        int rs, rr;
        OK(MPI_Comm_size(row, &rs));
        OK(MPI_Comm_rank(row, &rr));
        OK(MPI_Cartdim_get(row, &nd));
        CHECK(rs == dims[1] && rr == gc[1] && nd == 1, "Cart_sub: size %d rank %d ndims %d", rs,
              rr, nd);
        OK(MPI_Comm_free(&row));
        /* A duplicate keeps the topology. */
        MPI_Comm d;
        OK(MPI_Comm_dup(g, &d));
        OK(MPI_Topo_test(d, &t));
        CHECK(t == MPI_CART, "dup lost the topology");
        OK(MPI_Comm_free(&d));
        OK(MPI_Cart_map(MPI_COMM_WORLD, 2, dims, per, &r));
        CHECK(r == rank, "Cart_map %d", r);
        /* Neighbour allgather on the grid: 4 slots, PROC_NULL ones untouched. */
        int nb[4] = {-7, -7, -7, -7}, want[4];
        OK(MPI_Cart_shift(g, 0, 1, &want[0], &want[1]));
        OK(MPI_Cart_shift(g, 1, 1, &want[2], &want[3]));
        OK(MPI_Neighbor_allgather(&rank, 1, MPI_INT, nb, 1, MPI_INT, g));
        for (int k = 0; k < 4; k++)
            if (want[k] != MPI_PROC_NULL && size > 2)
                CHECK(nb[k] == want[k], "grid allgather slot %d: %d, want %d", k, nb[k], want[k]);
            else if (want[k] == MPI_PROC_NULL)
                CHECK(nb[k] == -7, "grid allgather PROC_NULL slot %d written", k);
        OK(MPI_Comm_free(&g));
    }

    /* ---- a grid smaller than the world; a zero-dimensional grid ---- */
    {
        int one[1] = {1}, per[1] = {0};
        MPI_Comm c;
        OK(MPI_Cart_create(MPI_COMM_WORLD, 1, one, per, 0, &c));
        CHECK((rank == 0) == (c != MPI_COMM_NULL), "1-process grid on rank %d", rank);
        if (c != MPI_COMM_NULL) OK(MPI_Comm_free(&c));
        OK(MPI_Cart_create(MPI_COMM_WORLD, 0, NULL, NULL, 0, &c));
        CHECK((rank == 0) == (c != MPI_COMM_NULL), "0-dim grid on rank %d", rank);
        if (c != MPI_COMM_NULL) {
            int nd = -1, s;
            OK(MPI_Cartdim_get(c, &nd));
            OK(MPI_Comm_size(c, &s));
            CHECK(nd == 0 && s == 1, "0-dim grid: ndims %d size %d", nd, s);
            OK(MPI_Comm_free(&c));
        }
        int big[1] = {size + 1};
        rc = MPI_Cart_create(MPI_COMM_WORLD, 1, big, per, 0, &c);
        CHECK(rc != MPI_SUCCESS, "a grid larger than the communicator accepted");
    }

    /* ---- rings: periodic and not ---- */
    ring_neighbors(1);
    ring_neighbors(0);
    ring_requests();

    /* ---- a graph: the ring as index/edges ---- */
    {
        int index[64], edges[128];
        for (int i = 0; i < size; i++) {
            index[i] = 2 * (i + 1);
            edges[2 * i] = (i - 1 + size) % size;
            edges[2 * i + 1] = (i + 1) % size;
        }
        MPI_Comm g;
        OK(MPI_Graph_create(MPI_COMM_WORLD, size, index, edges, 0, &g));
        int t, nn, ne, n, nb[2], gi[64], ge[128], r;
        OK(MPI_Topo_test(g, &t));
        CHECK(t == MPI_GRAPH, "Topo_test graph %d", t);
        OK(MPI_Graphdims_get(g, &nn, &ne));
        CHECK(nn == size && ne == 2 * size, "Graphdims_get %d %d", nn, ne);
        OK(MPI_Graph_get(g, 64, 128, gi, ge));
        CHECK(gi[size - 1] == 2 * size && ge[1] == 1 % size, "Graph_get");
        OK(MPI_Graph_neighbors_count(g, rank, &n));
        OK(MPI_Graph_neighbors(g, rank, 2, nb));
        CHECK(n == 2 && nb[0] == edges[2 * rank] && nb[1] == edges[2 * rank + 1],
              "Graph_neighbors");
        OK(MPI_Graph_map(MPI_COMM_WORLD, size, index, edges, &r));
        CHECK(r == rank, "Graph_map %d", r);
        int got[2] = {-7, -7};
        OK(MPI_Neighbor_allgather(&rank, 1, MPI_INT, got, 1, MPI_INT, g));
        CHECK(got[0] == nb[0] && got[1] == nb[1], "graph allgather %d %d", got[0], got[1]);
        OK(MPI_Comm_free(&g));
    }

    /* ---- distributed graphs ---- */
    {
        int src[2] = {(rank - 1 + size) % size, (rank - 2 + 2 * size) % size};
        int dst[2] = {(rank + 1) % size, (rank + 2) % size};
        int sw[2] = {1, 2}, dw[2] = {3, 4};
        MPI_Comm g;
        OK(MPI_Dist_graph_create_adjacent(MPI_COMM_WORLD, 2, src, sw, 2, dst, dw, MPI_INFO_NULL,
                                          0, &g));
        int t, in, out, w, s2[2], d2[2], sw2[2], dw2[2];
        OK(MPI_Topo_test(g, &t));
        CHECK(t == MPI_DIST_GRAPH, "Topo_test dist graph %d", t);
        OK(MPI_Dist_graph_neighbors_count(g, &in, &out, &w));
        CHECK(in == 2 && out == 2 && w, "neighbors_count %d %d %d", in, out, w);
        OK(MPI_Dist_graph_neighbors(g, 2, s2, sw2, 2, d2, dw2));
        CHECK(s2[0] == src[0] && s2[1] == src[1] && d2[1] == dst[1] && sw2[1] == 2 &&
                  dw2[0] == 3,
              "Dist_graph_neighbors");
        /* alltoallw: to each destination one int and one double. */
        struct { int i; double d; } sb[2], rb[2];
        for (int k = 0; k < 2; k++) { sb[k].i = val(rank, k); sb[k].d = rank + 0.5 * k; }
        memset(rb, 0, sizeof rb);
        MPI_Datatype pair;
        int bl[2] = {1, 1};
        MPI_Aint dp[2] = {0, (char *)&sb[0].d - (char *)&sb[0]};
        MPI_Datatype ty[2] = {MPI_INT, MPI_DOUBLE};
        OK(MPI_Type_create_struct(2, bl, dp, ty, &pair));
        OK(MPI_Type_commit(&pair));
        int cnt[2] = {1, 1};
        MPI_Aint disp[2] = {0, sizeof sb[0]};
        MPI_Datatype types[2] = {pair, pair};
        OK(MPI_Neighbor_alltoallw(sb, cnt, disp, types, rb, cnt, disp, types, g));
        for (int k = 0; k < 2; k++) {
            /* src[k] sends its block b to its destination b == this process. */
            int so[2] = {(src[k] + 1) % size, (src[k] + 2) % size};
            int b = block_for(k, src, so, 2);
            CHECK(rb[k].i == val(src[k], b) && rb[k].d == src[k] + 0.5 * b,
                  "alltoallw slot %d: %d %g", k, rb[k].i, rb[k].d);
        }
        OK(MPI_Type_free(&pair));
        OK(MPI_Comm_free(&g));
        /* Unweighted, and empty-weighted. */
        OK(MPI_Dist_graph_create_adjacent(MPI_COMM_WORLD, 2, src, MPI_UNWEIGHTED, 0, NULL,
                                          MPI_UNWEIGHTED, MPI_INFO_NULL, 0, &g));
        OK(MPI_Dist_graph_neighbors_count(g, &in, &out, &w));
        CHECK(in == 2 && out == 0 && !w, "unweighted count %d %d %d", in, out, w);
        OK(MPI_Comm_free(&g));
        OK(MPI_Dist_graph_create_adjacent(MPI_COMM_WORLD, 0, NULL, MPI_WEIGHTS_EMPTY, 0, NULL,
                                          MPI_WEIGHTS_EMPTY, MPI_INFO_NULL, 0, &g));
        OK(MPI_Dist_graph_neighbors_count(g, &in, &out, &w));
        CHECK(in == 0 && out == 0 && w, "empty weighted count %d %d %d", in, out, w);
        OK(MPI_Comm_free(&g));
        /* General form: each process gives the edge rank -> rank+1 with weight rank. */
        int me = rank, deg = 1, to = (rank + 1) % size, wt = rank;
        OK(MPI_Dist_graph_create(MPI_COMM_WORLD, 1, &me, &deg, &to, &wt, MPI_INFO_NULL, 0, &g));
        OK(MPI_Dist_graph_neighbors_count(g, &in, &out, &w));
        CHECK(in == 1 && out == 1 && w, "dist graph count %d %d %d", in, out, w);
        OK(MPI_Dist_graph_neighbors(g, 1, s2, sw2, 1, d2, dw2));
        int from = (rank - 1 + size) % size;
        CHECK(s2[0] == from && sw2[0] == from && d2[0] == to && dw2[0] == rank,
              "dist graph neighbours %d(%d) %d(%d)", s2[0], sw2[0], d2[0], dw2[0]);
        int got = -1;
        OK(MPI_Neighbor_allgather(&rank, 1, MPI_INT, &got, 1, MPI_INT, g));
        CHECK(got == from, "dist graph allgather %d", got);
        OK(MPI_Comm_free(&g));
    }

    /* ---- no topology: MPI_ERR_TOPOLOGY ---- */
    {
        int x = 0, y[8];
        rc = MPI_Neighbor_allgather(&x, 1, MPI_INT, y, 1, MPI_INT, MPI_COMM_WORLD);
        CHECK(class_of(rc) == MPI_ERR_TOPOLOGY, "neighbour collective without topology: %d",
              class_of(rc));
        int nd;
        rc = MPI_Cartdim_get(MPI_COMM_WORLD, &nd);
        CHECK(class_of(rc) == MPI_ERR_TOPOLOGY, "Cartdim_get without topology: %d",
              class_of(rc));
    }

    pass("topo");
    OK(MPI_Finalize());
    return 0;
}
