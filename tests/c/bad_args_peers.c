/* bad_args_peers: the two-peer part of bad_args (bad_args.c is the single-process part): under
 * `fmirun -n 2`, fmi_init_from_env and the checks that need a second peer (out-of-range peers and
 * roots, size mismatch, receive timeout, recovery, use after finalize), with the documented status
 * codes (include/fmi.h). It must never crash.
 * Prints one line per check and ends with the line `N passed, M failed`; exits 1 if M > 0.
 */
#include "check.h"

#include <fmi.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int run_two_peers(void)
{
    fmi_comm *c = NULL;
    uint32_t rank = 0, size = 0;
    int32_t buf[8] = {0};

    EXPECT(FMI_SUCCESS, fmi_init_from_env(&c));
    if (c == NULL)
        return finish();
    EXPECT(FMI_SUCCESS, fmi_comm_rank(c, &rank));
    EXPECT(FMI_SUCCESS, fmi_comm_size(c, &size));
    snprintf(g_prefix, sizeof g_prefix, "[rank %u] ", (unsigned)rank);
    if (size != 2 || rank > 1) {
        record(0, "two-peer mode", "needs exactly 2 peers, got rank %u of %u", (unsigned)rank, (unsigned)size);
        return finish();
    }
    uint32_t peer = 1 - rank;

    printf("%s-- out-of-range peers and roots\n", g_prefix);
    EXPECT(FMI_ERR_INVALID_ARG, fmi_send(c, buf, 4, FMI_INT32, 2));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_recv(c, buf, 4, FMI_INT32, 2));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_bcast(c, buf, 4, FMI_INT32, 2));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_reduce(c, buf, buf + 4, 4, FMI_INT32, FMI_OP_SUM, 5));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_gather(c, buf, buf + 2, 2, FMI_INT32, 2));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_scatter(c, buf, buf + 4, 2, FMI_INT32, UINT32_MAX));
    EXPECT(FMI_SUCCESS, fmi_set_timeout(c, 10000));
    EXPECT(FMI_SUCCESS, fmi_barrier(c));

    printf("%s-- v-collective layouts and FMI_IN_PLACE off the root (refused before any message)\n", g_prefix);
    {
        int counts[2] = {2, 2}, overlap[2] = {0, 1}, apart[2] = {4, 0}, neg[2] = {2, -2};
        int32_t mine[2] = {(int32_t)rank, (int32_t)rank}, all[6];
        EXPECT(FMI_ERR_INVALID_ARG, fmi_allgatherv(c, mine, 2, all, counts, overlap, FMI_INT32));
        const char *msg = last_message();
        record(strstr(msg, "overlap") != NULL, "overlapping blocks are named", "last error: \"%s\"", msg);
        EXPECT(FMI_ERR_INVALID_ARG, fmi_allgatherv(c, mine, 2, all, neg, apart, FMI_INT32));
        EXPECT(FMI_ERR_INVALID_ARG, fmi_alltoallv(c, all, counts, apart, all, counts, overlap, FMI_INT32));
        /* Only the root may gather in place, only the root may scatter in place. */
        EXPECT(FMI_ERR_INVALID_ARG, fmi_gather(c, FMI_IN_PLACE, all, 2, FMI_INT32, peer));
        EXPECT(FMI_ERR_INVALID_ARG, fmi_gatherv(c, FMI_IN_PLACE, 2, all, counts, apart, FMI_INT32, peer));
        EXPECT(FMI_ERR_INVALID_ARG, fmi_scatter(c, all, FMI_IN_PLACE, 2, FMI_INT32, peer));
        EXPECT(FMI_ERR_INVALID_ARG, fmi_reduce(c, FMI_IN_PLACE, all, 2, FMI_INT32, FMI_OP_SUM, peer));
        /* The real thing, uneven and out of rank order: rank 0 gives 2 elements, rank 1 one. */
        int uneven[2] = {2, 1}, displs[2] = {3, 0};
        for (int i = 0; i < 6; i++)
            all[i] = -1;
        EXPECT(FMI_SUCCESS, fmi_allgatherv(c, mine, rank == 0 ? 2 : 1, all, uneven, displs, FMI_INT32));
        CHECK_TRUE(all[0] == 1 && all[1] == -1 && all[3] == 0 && all[4] == 0 && all[5] == -1,
                   "allgatherv with uneven blocks: %d %d %d %d %d %d", all[0], all[1], all[2], all[3], all[4],
                   all[5]);
    }

    printf("%s-- collective settings that differ between the peers\n", g_prefix);
    EXPECT(FMI_ERR_MISMATCH, fmi_set_hint(c, rank == 0 ? FMI_HINT_FAST : FMI_HINT_CHEAP));
    EXPECT(FMI_ERR_MISMATCH, fmi_set_channel(c, rank == 0 ? "direct" : NULL));
    /* An unknown name on one peer: INVALID_ARG there, MISMATCH on the other; nothing hangs. */
    EXPECT(rank == 0 ? FMI_ERR_INVALID_ARG : FMI_ERR_MISMATCH, fmi_set_channel(c, rank == 0 ? "bogus" : "direct"));
    EXPECT(FMI_SUCCESS, fmi_set_hint(c, FMI_HINT_FAST));
    EXPECT(FMI_SUCCESS, fmi_set_channel(c, "direct"));
    EXPECT(FMI_SUCCESS, fmi_set_channel(c, NULL));

    printf("%s-- derived communicators with two peers\n", g_prefix);
    fmi_comm *d = NULL;
    /* A bad color on one peer: every peer gets INVALID_ARG and nothing hangs. */
    EXPECT(FMI_ERR_INVALID_ARG, fmi_comm_split(c, rank == 1 ? -7 : 0, 0, &d));
    CHECK_TRUE(d == NULL, "a failed split writes NULL");
    /* Reversed ranks, then a message on the split and one with the same tag on c. */
    EXPECT(FMI_SUCCESS, fmi_comm_split(c, 0, -(int32_t)rank, &d));
    uint32_t drank = 9;
    EXPECT(FMI_SUCCESS, fmi_comm_rank(d, &drank));
    CHECK_TRUE(drank == 1 - rank, "split rank %u", (unsigned)drank);
    int32_t mine = (int32_t)rank + 10, got = 0;
    if (rank == 0) {
        EXPECT(FMI_SUCCESS, fmi_send_tag(d, &mine, 1, FMI_INT32, 0, 3));
        EXPECT(FMI_SUCCESS, fmi_send_tag(c, &mine, 1, FMI_INT32, 1, 3));
    } else {
        fmi_msg_status st;
        EXPECT(FMI_SUCCESS, fmi_recv_tag(c, &got, 1, FMI_INT32, FMI_ANY_SOURCE, FMI_ANY_TAG, &st));
        CHECK_TRUE(got == 10 && st.source == 0, "the parent's message on the parent (%d from %d)", got, st.source);
        got = 0;
        EXPECT(FMI_SUCCESS, fmi_recv_tag(d, &got, 1, FMI_INT32, FMI_ANY_SOURCE, 3, &st));
        CHECK_TRUE(got == 10 && st.source == 1, "the split's message on the split (%d from %d)", got, st.source);
    }
    EXPECT(FMI_SUCCESS, fmi_allreduce(d, &mine, &got, 1, FMI_INT32, FMI_OP_SUM));
    CHECK_TRUE(got == 21, "allreduce on the split: %d", got);
    /* A group of this peer alone: create_group by its only member. */
    fmi_group *g = NULL, *me = NULL;
    EXPECT(FMI_SUCCESS, fmi_comm_group(c, &g));
    EXPECT(FMI_SUCCESS, fmi_group_incl(g, 1, &rank, &me));
    fmi_comm *solo = NULL;
    EXPECT(FMI_SUCCESS, fmi_comm_create_group(d, me, 1, &solo));
    uint32_t n = 0;
    EXPECT(FMI_SUCCESS, fmi_comm_size(solo, &n));
    CHECK_TRUE(n == 1, "create_group of one: size %u", (unsigned)n);
    EXPECT(FMI_SUCCESS, fmi_comm_free(&solo));
    EXPECT(FMI_SUCCESS, fmi_group_free(&me));
    EXPECT(FMI_SUCCESS, fmi_group_free(&g));
    EXPECT(FMI_SUCCESS, fmi_comm_free(&d));

    printf("%s-- size mismatch\n", g_prefix);
    if (rank == 0) {
        int32_t four[4] = {1, 2, 3, 4}, two[2] = {5, 6};
        EXPECT(FMI_SUCCESS, fmi_send(c, four, 4, FMI_INT32, peer)); /* peer receives 3 */
        EXPECT(FMI_SUCCESS, fmi_send(c, two, 2, FMI_INT32, peer));  /* peer receives 5 */
    } else {
        EXPECT(FMI_ERR_SIZE_MISMATCH, fmi_recv(c, buf, 3, FMI_INT32, peer));
        EXPECT(FMI_ERR_SIZE_MISMATCH, fmi_recv(c, buf, 5, FMI_INT32, peer));
    }

    printf("%s-- tagged messages: truncation, probe, wildcards\n", g_prefix);
    if (rank == 0) {
        int32_t four[4] = {1, 2, 3, 4}, one = 9;
        EXPECT(FMI_SUCCESS, fmi_send_tag(c, four, 4, FMI_INT32, (int32_t)peer, 3)); /* peer takes 2 */
        EXPECT(FMI_SUCCESS, fmi_send_tag(c, &one, 1, FMI_INT32, (int32_t)peer, FMI_TAG_UB));
    } else {
        fmi_msg_status ms = {0, 0, 0};
        EXPECT(FMI_SUCCESS, fmi_probe(c, FMI_ANY_SOURCE, 3, &ms));
        CHECK_TRUE(ms.source == 0 && ms.tag == 3 && ms.count_bytes == 16, "probe: source %d tag %d %zu bytes",
                   (int)ms.source, (int)ms.tag, ms.count_bytes);
        EXPECT(FMI_ERR_TRUNCATE, fmi_recv_tag(c, buf, 2, FMI_INT32, 0, FMI_ANY_TAG, &ms));
        EXPECT(FMI_SUCCESS, fmi_recv_tag(c, buf, 8, FMI_INT32, FMI_ANY_SOURCE, FMI_ANY_TAG, &ms));
        CHECK_TRUE(ms.tag == FMI_TAG_UB && ms.count_bytes == 4 && buf[0] == 9, "tag %d, %zu bytes, value %d",
                   (int)ms.tag, ms.count_bytes, (int)buf[0]);
        int flag = 5;
        EXPECT(FMI_SUCCESS, fmi_iprobe(c, FMI_ANY_SOURCE, FMI_ANY_TAG, &flag, NULL));
        CHECK_TRUE(flag == 0, "iprobe after everything was received: flag %d", flag);
    }

    printf("%s-- requests: isend/irecv, wait twice, test, waitall, free\n", g_prefix);
    {
        int32_t out[4] = {rank + 1, 2, 3, 4}, in[4] = {0}, big[8] = {0};
        fmi_request *rq[2] = {NULL, NULL};
        fmi_msg_status sts[2];
        EXPECT(FMI_SUCCESS, fmi_barrier(c)); /* the peer's iprobe above saw nothing of these */
        EXPECT(FMI_SUCCESS, fmi_irecv(c, in, 4, FMI_INT32, (int32_t)peer, 11, &rq[0]));
        EXPECT(FMI_SUCCESS, fmi_isend(c, out, 4, FMI_INT32, (int32_t)peer, 11, &rq[1]));
        EXPECT(FMI_SUCCESS, fmi_waitall(2, rq, sts));
        CHECK_TRUE(rq[0] == NULL && rq[1] == NULL, "waitall sets the handles to NULL", NULL);
        CHECK_TRUE(in[0] == (int32_t)peer + 1 && sts[0].source == (int32_t)peer && sts[0].tag == 11 &&
                       sts[0].count_bytes == 16,
                   "received %d from %d tag %d, %zu bytes", (int)in[0], (int)sts[0].source, (int)sts[0].tag,
                   sts[0].count_bytes);
        /* A handle used again after its completion. */
        fmi_request *again = NULL;
        EXPECT(FMI_SUCCESS, fmi_isend(c, out, 2, FMI_INT32, (int32_t)peer, 12, &again));
        fmi_request *copy = again;
        EXPECT(FMI_SUCCESS, fmi_wait(&again, NULL));
        EXPECT(FMI_ERR_INVALID_ARG, fmi_wait(&copy, NULL));
        EXPECT(FMI_ERR_INVALID_ARG, fmi_request_free(&copy));
        /* Truncation through a request; then test until done. */
        fmi_request *r = NULL;
        int flag = 0;
        EXPECT(FMI_SUCCESS, fmi_irecv(c, big, 1, FMI_INT32, FMI_ANY_SOURCE, 12, &r));
        EXPECT(FMI_ERR_TRUNCATE, fmi_wait(&r, NULL));
        CHECK_TRUE(r == NULL, "a failed wait sets the handle to NULL", NULL);
        EXPECT(FMI_SUCCESS, fmi_isend(c, out, 2, FMI_INT32, (int32_t)peer, 13, &r));
        EXPECT(FMI_SUCCESS, fmi_request_free(&r));
        EXPECT(FMI_SUCCESS, fmi_irecv(c, big, 8, FMI_INT32, (int32_t)peer, 13, &r));
        fmi_status ts = FMI_SUCCESS;
        for (int i = 0; i < 10000000 && flag == 0 && ts == FMI_SUCCESS; i++)
            ts = fmi_test(&r, &flag, &sts[0]);
        expect_status("fmi_test(&r, &flag, &st) until done", FMI_SUCCESS, ts);
        CHECK_TRUE(flag == 1 && r == NULL && sts[0].count_bytes == 8, "test completes: flag %d, %zu bytes", flag,
                   sts[0].count_bytes);
        EXPECT(FMI_SUCCESS, fmi_barrier(c));

        /* Non-blocking collectives beside a blocking exchange; in place and overlapping buffers. */
        int32_t v[4] = {1, 2, 3, 4}, w[8] = {(int32_t)rank}, x = (int32_t)rank;
        fmi_request *cq[3] = {NULL, NULL, NULL};
        EXPECT(FMI_SUCCESS, fmi_iallreduce(c, v, v, 4, FMI_INT32, FMI_OP_SUM, &cq[0]));
        EXPECT(FMI_SUCCESS, fmi_iallgather(c, &w[0], w, 1, FMI_INT32, &cq[1])); /* overlapping */
        EXPECT(FMI_SUCCESS, fmi_ibcast(c, &x, 1, FMI_INT32, 1, &cq[2]));
        int32_t token = 7, back = 0;
        EXPECT(FMI_SUCCESS, fmi_sendrecv(c, &token, 1, FMI_INT32, (int32_t)peer, 5, &back, 1, FMI_INT32,
                                         (int32_t)peer, 5, NULL));
        EXPECT(FMI_SUCCESS, fmi_waitall(3, cq, NULL));
        CHECK_TRUE(v[0] == 2 && v[3] == 8 && w[0] == 0 && w[1] == 1 && x == 1 && back == 7,
                   "in-place iallreduce %d..%d, iallgather %d %d, ibcast %d", (int)v[0], (int)v[3], (int)w[0],
                   (int)w[1], (int)x);
    }

    /* Rank 1 receives from rank 0, which sends nothing until rank 1 reports back. */
    printf("%s-- receive timeout\n", g_prefix);
    int32_t done = 0;
    if (rank == 1) {
        EXPECT(FMI_SUCCESS, fmi_set_timeout(c, 200));
        double t0 = now_seconds();
        g_current = "fmi_recv(c, buf, 1, FMI_INT32, 0) with a 200 ms timeout";
        fmi_status st = fmi_recv(c, buf, 1, FMI_INT32, peer);
        double elapsed = now_seconds() - t0;
        expect_status("fmi_recv(c, buf, 1, FMI_INT32, 0) from a silent peer, timeout 200 ms", FMI_ERR_TIMEOUT, st);
        /* The deadline ends the call (the upper bound is a generous margin for a loaded machine). */
        record(elapsed >= 0.15 && elapsed <= 5.0, "timeout ends within [0.15 s, 5 s]", "%.3f s", elapsed);
        const char *msg = last_message();
        record(msg[0] != '\0', "fmi_last_error_message() after the timeout is not empty", "\"%s\"", msg);
        EXPECT(FMI_SUCCESS, fmi_set_timeout(c, 10000));
        done = 1;
        EXPECT(FMI_SUCCESS, fmi_send(c, &done, 1, FMI_INT32, peer));
    } else {
        EXPECT(FMI_SUCCESS, fmi_recv(c, &done, 1, FMI_INT32, peer));
        CHECK_TRUE(done == 1, "peer finished its timeout check (got %d)", (int)done);
    }

    printf("%s-- the channel still works after the errors\n", g_prefix);
    const int32_t payload[4] = {10, 20, 30, 40};
    if (rank == 0) {
        EXPECT(FMI_SUCCESS, fmi_send(c, payload, 4, FMI_INT32, peer));
    } else {
        memset(buf, 0, sizeof buf);
        EXPECT(FMI_SUCCESS, fmi_recv(c, buf, 4, FMI_INT32, peer));
        CHECK_TRUE(memcmp(buf, payload, sizeof payload) == 0, "received %d %d %d %d", (int)buf[0], (int)buf[1],
                   (int)buf[2], (int)buf[3]);
    }
    int32_t one = 1, total = 0;
    EXPECT(FMI_SUCCESS, fmi_allreduce(c, &one, &total, 1, FMI_INT32, FMI_OP_SUM));
    CHECK_TRUE(total == 2, "allreduce after the errors = %d", (int)total);

    printf("%s-- finalize\n", g_prefix);
    EXPECT(FMI_SUCCESS, fmi_finalize(c));
    expect_dead_handle(c, "finalized handle");
    return finish();
}

int main(void)
{
    catch_crashes();

    const char *np = getenv("FMI_NUM_PEERS");
    long n = np != NULL ? strtol(np, NULL, 10) : 1;
    if (n != 2) {
        printf("bad_args_peers: run it under `fmirun -n 2` (FMI_NUM_PEERS=%s)\n", np != NULL ? np : "unset");
        printf("0 passed, 1 failed\n");
        return EXIT_FAILURE;
    }
    return run_two_peers();
}
