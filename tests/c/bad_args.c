/* bad_args: calls every function of the libfmi C API with bad arguments and checks the documented
 * status codes (documented in include/fmi.h). It must never crash.
 *
 * This program runs as a single process (FMI_NUM_PEERS unset or 1): fmi_init(0, 1, ...) and the
 * argument/config/lifecycle checks. The two-peer checks are bad_args_peers.c.
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

/* --- helpers --------------------------------------------------------------------------------- */

static void sum_op(void *accum, const void *next, size_t count, fmi_datatype dtype, void *user_data)
{
    (void)user_data;
    if (dtype != FMI_INT32)
        return;
    int32_t *a = accum;
    const int32_t *b = next;
    for (size_t i = 0; i < count; i++)
        a[i] += b[i];
}

/* Writes `text` to a new temporary file; returns its path in `path` (size >= 64). */
static int write_temp_file(char *path, const char *text)
{
    strcpy(path, "/tmp/fmi_bad_args_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    size_t len = strlen(text);
    int ok = write(fd, text, len) == (ssize_t)len;
    close(fd);
    return ok ? 0 : -1;
}

/* --- single-process checks ------------------------------------------------------------------- */

static void check_static_functions(void)
{
    printf("-- fmi_strerror, fmi_version, fmi_last_error_message, fmi_datatype_size\n");
    for (int s = FMI_SUCCESS; s <= FMI_ERR_RANK_TAKEN; s++) {
        const char *text = fmi_strerror(s);
        record(text != NULL && text[0] != '\0' && strstr(text, "unknown") == NULL, "fmi_strerror(known)",
               "%d (%s) -> \"%s\"", s, status_name(s), text != NULL ? text : "(NULL)");
    }
    const int unknown[] = {-1, 15, 12345, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *text = fmi_strerror(unknown[i]);
        /* fmi.h: "unknown codes give \"unknown status code\"" (the draft spec said "unknown status"). */
        record(text != NULL && strstr(text, "unknown") != NULL, "fmi_strerror(unknown)",
               "%d -> \"%s\" (want a non-NULL text saying unknown)", unknown[i], text != NULL ? text : "(NULL)");
    }

    const char *v = fmi_version();
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", FMI_VERSION_MAJOR, FMI_VERSION_MINOR, FMI_VERSION_PATCH);
    record(v != NULL && strcmp(v, want) == 0 && strcmp(v, "0.1.0") == 0, "fmi_version()", "\"%s\" (header %s)",
           v != NULL ? v : "(NULL)", want);
    record(fmi_last_error_message() != NULL, "fmi_last_error_message() != NULL", NULL);

    const struct {
        fmi_datatype t;
        size_t size;
    } sizes[] = {{FMI_INT8, 1},   {FMI_UINT8, 1},  {FMI_INT16, 2}, {FMI_UINT16, 2},
                 {FMI_INT32, 4},  {FMI_UINT32, 4}, {FMI_INT64, 8}, {FMI_UINT64, 8},
                 {FMI_FLOAT, 4},  {FMI_DOUBLE, 8}, {FMI_BYTE, 1},  {11, 0},
                 {99, 0},         {UINT32_MAX, 0}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t got = fmi_datatype_size(sizes[i].t);
        record(got == sizes[i].size, "fmi_datatype_size", "type %u -> %zu (want %zu)", (unsigned)sizes[i].t, got,
               sizes[i].size);
    }
}

static void check_ops(void)
{
    fmi_op op = 0;
    printf("-- fmi_op_create / fmi_op_free\n");
    EXPECT(FMI_ERR_NULL_ARG, fmi_op_create(NULL, NULL, 1, 1, &op));
    EXPECT(FMI_ERR_NULL_ARG, fmi_op_create(sum_op, NULL, 1, 1, NULL));
    EXPECT(FMI_SUCCESS, fmi_op_create(sum_op, NULL, 1, 1, &op));
    CHECK_TRUE(op >= 0x100, "user op id %u", (unsigned)op);
    EXPECT(FMI_SUCCESS, fmi_op_free(op));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_op_free(op));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_op_free(12345));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_op_free(0));
}

static void check_init_args(const char *name)
{
    fmi_comm *c = NULL;
    char path[64];
    printf("-- fmi_init / fmi_init_from_env argument checks\n");
    EXPECT(FMI_ERR_NULL_ARG, fmi_init(0, 1, NULL, name, 0, NULL));
    EXPECT(FMI_ERR_NULL_ARG, fmi_init(0, 1, NULL, NULL, 0, &c));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_init(1, 1, NULL, name, 0, &c));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_init(7, 2, NULL, name, 0, &c));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_init(UINT32_MAX, 4, NULL, name, 0, &c));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_init(0, 0, NULL, name, 0, &c));
    EXPECT(FMI_ERR_CONFIG, fmi_init(0, 1, "/nonexistent/dir/fmi.json", name, 0, &c));
    EXPECT(FMI_ERR_NULL_ARG, fmi_init_from_env(NULL));

    if (write_temp_file(path, "{ \"backends\": { \"Direct\": { \"enabled\": true, ") != 0) {
        record(0, "write temp config", "mkstemp/write failed");
    } else {
        EXPECT(FMI_ERR_CONFIG, fmi_init(0, 1, path, name, 0, &c));
        unlink(path);
    }
    if (write_temp_file(path, "[1, 2, 3]\n") != 0) {
        record(0, "write temp config", "mkstemp/write failed");
    } else {
        EXPECT(FMI_ERR_CONFIG, fmi_init(0, 1, path, name, 0, &c));
        unlink(path);
    }
    if (write_temp_file(path, "{ \"backends\": { \"Direct\": { \"enabled\": true, \"bogus\": 1 } } }\n") != 0) {
        record(0, "write temp config", "mkstemp/write failed");
    } else {
        EXPECT(FMI_ERR_CONFIG, fmi_init(0, 1, path, name, 0, &c));
        const char *msg = last_message();
        record(strstr(msg, "backends.Direct.bogus") != NULL, "unknown config key names its path",
               "last error: \"%s\"", msg);
        unlink(path);
    }

    /* Broken environment for fmi_init_from_env: undocumented code, but it must fail cleanly. */
    const char *vars[] = {"FMI_PEER_ID", "FMI_NUM_PEERS", "FMI_COMM_NAME", "FMI_CONFIG"};
    char *saved[4];
    for (int i = 0; i < 4; i++) {
        const char *v = getenv(vars[i]);
        saved[i] = v != NULL ? strdup(v) : NULL;
    }
    setenv("FMI_NUM_PEERS", "1", 1);
    setenv("FMI_COMM_NAME", name, 1);
    unsetenv("FMI_CONFIG");
    unsetenv("FMI_PEER_ID");
    g_current = "fmi_init_from_env without FMI_PEER_ID";
    fmi_status st = fmi_init_from_env(&c);
    record(st != FMI_SUCCESS, "fmi_init_from_env without FMI_PEER_ID fails", "%s", status_name((int)st));
    if (st == FMI_SUCCESS)
        fmi_finalize(c);
    setenv("FMI_PEER_ID", "zero", 1);
    g_current = "fmi_init_from_env with FMI_PEER_ID=zero";
    st = fmi_init_from_env(&c);
    record(st != FMI_SUCCESS, "fmi_init_from_env with FMI_PEER_ID=zero fails", "%s", status_name((int)st));
    if (st == FMI_SUCCESS)
        fmi_finalize(c);
    setenv("FMI_PEER_ID", "3", 1);
    setenv("FMI_NUM_PEERS", "2", 1);
    g_current = "fmi_init_from_env with FMI_PEER_ID=3 FMI_NUM_PEERS=2";
    st = fmi_init_from_env(&c);
    record(st != FMI_SUCCESS, "fmi_init_from_env with FMI_PEER_ID=3, FMI_NUM_PEERS=2 fails", "%s",
           status_name((int)st));
    if (st == FMI_SUCCESS)
        fmi_finalize(c);
    for (int i = 0; i < 4; i++) {
        if (saved[i] != NULL)
            setenv(vars[i], saved[i], 1);
        else
            unsetenv(vars[i]);
        free(saved[i]);
    }
}

static void check_comm_args(fmi_comm *c)
{
    uint32_t u = 99;
    uint64_t t = 0;
    printf("-- rank, size, hint, timeout\n");
    EXPECT(FMI_ERR_NULL_ARG, fmi_comm_rank(NULL, &u));
    EXPECT(FMI_ERR_NULL_ARG, fmi_comm_rank(c, NULL));
    EXPECT(FMI_SUCCESS, fmi_comm_rank(c, &u));
    CHECK_TRUE(u == 0, "rank %u", (unsigned)u);
    EXPECT(FMI_ERR_NULL_ARG, fmi_comm_size(NULL, &u));
    EXPECT(FMI_ERR_NULL_ARG, fmi_comm_size(c, NULL));
    EXPECT(FMI_SUCCESS, fmi_comm_size(c, &u));
    CHECK_TRUE(u == 1, "size %u", (unsigned)u);

    EXPECT(FMI_ERR_NULL_ARG, fmi_set_hint(NULL, FMI_HINT_FAST));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_set_hint(c, 2));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_set_hint(c, 99));
    EXPECT(FMI_SUCCESS, fmi_set_hint(c, FMI_HINT_CHEAP));
    EXPECT(FMI_SUCCESS, fmi_set_hint(c, FMI_HINT_FAST));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_set_hint(c, UINT32_MAX));

    printf("-- channel pin and counters\n");
    fmi_counters k;
    memset(&k, 0xAB, sizeof k);
    EXPECT(FMI_ERR_NULL_ARG, fmi_set_channel(NULL, "direct"));
    EXPECT(FMI_ERR_NULL_ARG, fmi_set_channel(NULL, NULL));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_set_channel(c, "bogus"));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_set_channel(c, ""));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_set_channel(c, "DIRECT"));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_set_channel(c, "redis")); /* known, not enabled here */
    EXPECT(FMI_ERR_INVALID_ARG, fmi_set_channel(c, "s3"));
    EXPECT(FMI_SUCCESS, fmi_set_channel(c, "direct"));
    EXPECT(FMI_SUCCESS, fmi_set_channel(c, NULL));
    EXPECT(FMI_SUCCESS, fmi_set_channel(c, "auto"));
    EXPECT(FMI_ERR_NULL_ARG, fmi_comm_get_counters(NULL, "direct", &k));
    EXPECT(FMI_ERR_NULL_ARG, fmi_comm_get_counters(c, "direct", NULL));
    EXPECT(FMI_ERR_NULL_ARG, fmi_comm_get_counters(c, NULL, NULL));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_comm_get_counters(c, "bogus", &k));
    EXPECT(FMI_ERR_NULL_ARG, fmi_comm_reset_counters(NULL));
    EXPECT(FMI_SUCCESS, fmi_comm_reset_counters(c));
    EXPECT(FMI_SUCCESS, fmi_barrier(c));
    EXPECT(FMI_SUCCESS, fmi_barrier(c));
    EXPECT(FMI_SUCCESS, fmi_comm_get_counters(c, "direct", &k));
    CHECK_TRUE(k.operations == 2 && k.bytes == 0 && k.errors == 0, "direct counters after 2 barriers: %llu ops",
               (unsigned long long)k.operations);
    EXPECT(FMI_SUCCESS, fmi_comm_get_counters(c, "s3", &k));
    CHECK_TRUE(k.operations == 0 && k.time_ns == 0, "a disabled channel has zero counters (%llu ops)",
               (unsigned long long)k.operations);
    EXPECT(FMI_SUCCESS, fmi_comm_get_counters(c, NULL, &k));
    CHECK_TRUE(k.operations == 2, "total counters after 2 barriers: %llu ops", (unsigned long long)k.operations);
    EXPECT(FMI_SUCCESS, fmi_comm_reset_counters(c));
    EXPECT(FMI_SUCCESS, fmi_comm_get_counters(c, NULL, &k));
    CHECK_TRUE(k.operations == 0, "counters after reset: %llu ops", (unsigned long long)k.operations);

    EXPECT(FMI_ERR_NULL_ARG, fmi_get_timeout(NULL, &t));
    EXPECT(FMI_ERR_NULL_ARG, fmi_get_timeout(c, NULL));
    EXPECT(FMI_SUCCESS, fmi_get_timeout(c, &t));
    if (getenv("FMI_TIMEOUT_MS") == NULL)
        CHECK_TRUE(t == 30000, "default timeout %llu ms", (unsigned long long)t);
    EXPECT(FMI_ERR_NULL_ARG, fmi_set_timeout(NULL, 1000));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_set_timeout(c, 0));
    EXPECT(FMI_SUCCESS, fmi_set_timeout(c, 5000));
    EXPECT(FMI_SUCCESS, fmi_get_timeout(c, &t));
    CHECK_TRUE(t == 5000, "timeout after set %llu ms", (unsigned long long)t);
}

static void check_p2p_args(fmi_comm *c)
{
    int32_t b[4] = {1, 2, 3, 4};
    printf("-- fmi_send / fmi_recv\n");
    EXPECT(FMI_ERR_NULL_ARG, fmi_send(NULL, b, 4, FMI_INT32, 0));
    EXPECT(FMI_ERR_NULL_ARG, fmi_send(c, NULL, 4, FMI_INT32, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_send(c, b, 4, 99, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_send(c, b, 4, FMI_INT32, 1));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_send(c, b, 4, FMI_INT32, UINT32_MAX));
    EXPECT(FMI_ERR_NULL_ARG, fmi_recv(NULL, b, 4, FMI_INT32, 0));
    EXPECT(FMI_ERR_NULL_ARG, fmi_recv(c, NULL, 4, FMI_INT32, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_recv(c, b, 4, 99, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_recv(c, b, 4, FMI_INT32, 1));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_recv(c, b, 4, FMI_INT32, UINT32_MAX));

    printf("-- tagged point-to-point (one peer)\n");
    fmi_msg_status ms;
    int flag = 7;
    CHECK_TRUE(FMI_ANY_SOURCE < 0 && FMI_ANY_TAG < 0 && FMI_ANY_SOURCE != FMI_ANY_TAG, "wildcards %d %d",
               FMI_ANY_SOURCE, FMI_ANY_TAG);
    CHECK_TRUE(FMI_TAG_UB >= (1 << 30) - 1, "FMI_TAG_UB %d", (int)FMI_TAG_UB);
    EXPECT(FMI_ERR_NULL_ARG, fmi_send_tag(NULL, b, 4, FMI_INT32, 0, 0));
    EXPECT(FMI_ERR_NULL_ARG, fmi_send_tag(c, NULL, 4, FMI_INT32, 0, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_send_tag(c, b, (size_t)-1, FMI_INT32, 0, 0)); /* a negative count */
    EXPECT(FMI_ERR_INVALID_ARG, fmi_send_tag(c, b, 4, 99, 0, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_send_tag(c, b, 4, FMI_INT32, 0, 0)); /* to self */
    EXPECT(FMI_ERR_INVALID_ARG, fmi_send_tag(c, b, 4, FMI_INT32, 1, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_send_tag(c, b, 4, FMI_INT32, -1, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_send_tag(c, b, 4, FMI_INT32, INT32_MIN, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_send_tag(c, b, 4, FMI_INT32, 0, -1));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_send_tag(c, b, 4, FMI_INT32, 0, FMI_ANY_TAG));
    EXPECT(FMI_ERR_NULL_ARG, fmi_recv_tag(NULL, b, 4, FMI_INT32, FMI_ANY_SOURCE, FMI_ANY_TAG, &ms));
    EXPECT(FMI_ERR_NULL_ARG, fmi_recv_tag(c, NULL, 4, FMI_INT32, FMI_ANY_SOURCE, FMI_ANY_TAG, &ms));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_recv_tag(c, b, (size_t)-4, FMI_INT32, FMI_ANY_SOURCE, 0, &ms));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_recv_tag(c, b, 4, FMI_INT32, -7, 0, &ms));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_recv_tag(c, b, 4, FMI_INT32, FMI_ANY_TAG, 0, &ms));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_recv_tag(c, b, 4, FMI_INT32, 0, -9, NULL));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_recv_tag(c, b, 4, FMI_INT32, 0, 0, NULL)); /* from self */
    EXPECT(FMI_ERR_INVALID_ARG, fmi_recv_tag(c, b, 4, FMI_INT32, 1, 0, NULL));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_recv_tag(c, b, 4, FMI_INT32, FMI_ANY_SOURCE, 0, NULL)); /* no peer */
    EXPECT(FMI_ERR_NULL_ARG, fmi_probe(c, FMI_ANY_SOURCE, FMI_ANY_TAG, NULL));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_probe(c, INT32_MIN, FMI_ANY_TAG, &ms));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_probe(c, 1, FMI_ANY_TAG, &ms));
    EXPECT(FMI_ERR_NULL_ARG, fmi_iprobe(c, FMI_ANY_SOURCE, FMI_ANY_TAG, NULL, &ms));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_iprobe(c, FMI_ANY_SOURCE, -3, &flag, &ms));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_iprobe(c, 0, FMI_ANY_TAG, &flag, &ms));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_sendrecv(c, b, 4, FMI_INT32, 0, 0, b, 4, FMI_INT32, FMI_ANY_SOURCE,
                                             FMI_ANY_TAG, &ms));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_sendrecv(c, b, 4, FMI_INT32, 1, -1, b, 4, FMI_INT32, 0, 0, NULL));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_sendrecv(c, b, (size_t)-1, FMI_INT32, 1, 0, b, 4, FMI_INT32, 0, 0, NULL));
    EXPECT(FMI_ERR_NULL_ARG, fmi_sendrecv(c, NULL, 4, FMI_INT32, 1, 0, b, 4, FMI_INT32, 0, 0, NULL));

    printf("-- requests (one peer)\n");
    fmi_request *rq = NULL;
    size_t idx = 0;
    EXPECT(FMI_ERR_NULL_ARG, fmi_isend(NULL, b, 4, FMI_INT32, 0, 0, &rq));
    EXPECT(FMI_ERR_NULL_ARG, fmi_isend(c, NULL, 4, FMI_INT32, 0, 0, &rq));
    EXPECT(FMI_ERR_NULL_ARG, fmi_isend(c, b, 4, FMI_INT32, 0, 0, NULL));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_isend(c, b, (size_t)-1, FMI_INT32, 0, 0, &rq)); /* a negative count */
    EXPECT(FMI_ERR_INVALID_ARG, fmi_isend(c, b, 4, 99, 0, 0, &rq));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_isend(c, b, 4, FMI_INT32, 0, 0, &rq)); /* to self */
    EXPECT(FMI_ERR_INVALID_ARG, fmi_isend(c, b, 4, FMI_INT32, -1, 0, &rq));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_isend(c, b, 4, FMI_INT32, 0, -5, &rq));
    EXPECT(FMI_ERR_NULL_ARG, fmi_irecv(c, NULL, 4, FMI_INT32, FMI_ANY_SOURCE, 0, &rq));
    EXPECT(FMI_ERR_NULL_ARG, fmi_irecv(c, b, 4, FMI_INT32, FMI_ANY_SOURCE, 0, NULL));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_irecv(c, b, 4, FMI_INT32, -7, 0, &rq));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_irecv(c, b, 4, FMI_INT32, 0, FMI_ANY_SOURCE, &rq));
    CHECK_TRUE(rq == NULL, "no request handle after failed calls", NULL);
    EXPECT(FMI_ERR_NULL_ARG, fmi_wait(NULL, &ms));
    EXPECT(FMI_ERR_NULL_ARG, fmi_wait(&rq, &ms)); /* a NULL handle */
    rq = (fmi_request *)(uintptr_t)0x4242;
    EXPECT(FMI_ERR_INVALID_ARG, fmi_wait(&rq, &ms)); /* a made-up handle */
    EXPECT(FMI_ERR_INVALID_ARG, fmi_test(&rq, &flag, &ms));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_request_free(&rq));
    EXPECT(FMI_ERR_NULL_ARG, fmi_test(&rq, NULL, &ms));
    fmi_request *arr[3] = {NULL, NULL, NULL};
    EXPECT(FMI_SUCCESS, fmi_waitall(3, arr, NULL));
    EXPECT(FMI_SUCCESS, fmi_waitany(3, arr, &idx, NULL));
    CHECK_TRUE(idx == FMI_UNDEFINED_INDEX, "waitany over NULL handles: index %zu", idx);
    EXPECT(FMI_SUCCESS, fmi_testall(3, arr, &flag, NULL));
    CHECK_TRUE(flag == 1, "testall over NULL handles: flag %d", flag);
    EXPECT(FMI_ERR_NULL_ARG, fmi_waitall(3, NULL, NULL));
    EXPECT(FMI_ERR_NULL_ARG, fmi_waitany(3, arr, NULL, NULL));
    arr[1] = rq;
    EXPECT(FMI_ERR_INVALID_ARG, fmi_waitall(3, arr, NULL));
    CHECK_TRUE(arr[1] == rq, "a bad array is left as it was", NULL);

    printf("-- non-blocking collectives (one peer)\n");
    int32_t in[4] = {1, 2, 3, 4}, out[4] = {0};
    fmi_request *q = NULL;
    EXPECT(FMI_ERR_NULL_ARG, fmi_ibarrier(NULL, &q));
    EXPECT(FMI_ERR_NULL_ARG, fmi_ibarrier(c, NULL));
    EXPECT(FMI_ERR_NULL_ARG, fmi_ibcast(c, NULL, 4, FMI_INT32, 0, &q));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_ibcast(c, in, 4, FMI_INT32, 1, &q));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_iallreduce(c, in, out, 4, FMI_INT32, 12345, &q));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_iallreduce(c, in, out, (size_t)-1, FMI_INT32, FMI_OP_SUM, &q));
    EXPECT(FMI_ERR_NULL_ARG, fmi_iallreduce(c, NULL, out, 4, FMI_INT32, FMI_OP_SUM, &q));
    EXPECT(FMI_ERR_NULL_ARG, fmi_ireduce(c, in, NULL, 4, FMI_INT32, FMI_OP_SUM, 0, &q));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_ireduce(c, in, out, 4, FMI_INT32, FMI_OP_SUM, 3, &q));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_iallgather(c, in, out, 4, 99, &q));
    EXPECT(FMI_ERR_NULL_ARG, fmi_ialltoall(c, in, NULL, 4, FMI_INT32, &q));
    CHECK_TRUE(q == NULL, "no request handle after failed calls", NULL);
    EXPECT(FMI_SUCCESS, fmi_iallreduce(c, in, out, 4, FMI_INT32, FMI_OP_SUM, &q));
    EXPECT(FMI_SUCCESS, fmi_wait(&q, NULL));
    CHECK_TRUE(memcmp(in, out, sizeof in) == 0 && q == NULL, "single-peer iallreduce copies", NULL);
    EXPECT(FMI_SUCCESS, fmi_ibarrier(c, &q));
    EXPECT(FMI_SUCCESS, fmi_wait(&q, NULL));
}

/* The v-collectives, reduce-scatter, exscan and FMI_IN_PLACE with one peer. */
static void check_v_collective_args(fmi_comm *c)
{
    int32_t s[4] = {1, 2, 3, 4}, r[8];
    int counts[1] = {4}, displs[1] = {2};
    int neg_count[1] = {-1}, neg_displ[1] = {-3}, big[1] = {INT32_MAX}, zero[1] = {0};

    printf("-- fmi_gatherv / fmi_scatterv / fmi_allgatherv / fmi_alltoallv\n");
    EXPECT(FMI_ERR_NULL_ARG, fmi_gatherv(NULL, s, 4, r, counts, displs, FMI_INT32, 0));
    EXPECT(FMI_ERR_NULL_ARG, fmi_gatherv(c, s, 4, r, NULL, displs, FMI_INT32, 0));
    EXPECT(FMI_ERR_NULL_ARG, fmi_gatherv(c, s, 4, r, counts, NULL, FMI_INT32, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_gatherv(c, s, 4, r, neg_count, displs, FMI_INT32, 0));
    const char *msg = last_message();
    record(strstr(msg, "recvcounts[0] is negative") != NULL, "a negative count is named", "last error: \"%s\"", msg);
    EXPECT(FMI_ERR_INVALID_ARG, fmi_gatherv(c, s, 4, r, counts, neg_displ, FMI_INT32, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_gatherv(c, s, 4, r, counts, displs, 99, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_gatherv(c, s, 4, r, counts, displs, FMI_INT32, 1));
    EXPECT(FMI_ERR_SIZE_MISMATCH, fmi_gatherv(c, s, 3, r, counts, displs, FMI_INT32, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_gatherv(c, s, (size_t)1 << 62, r, big, displs, FMI_INT32, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_gatherv(c, FMI_IN_PLACE, 4, FMI_IN_PLACE, counts, displs, FMI_INT32, 0));
    memset(r, 0, sizeof r);
    EXPECT(FMI_SUCCESS, fmi_gatherv(c, s, 4, r, counts, displs, FMI_INT32, 0));
    CHECK_TRUE(r[1] == 0 && r[2] == 1 && r[5] == 4 && r[6] == 0, "gatherv puts the block at its displacement", NULL);
    EXPECT(FMI_SUCCESS, fmi_gatherv(c, FMI_IN_PLACE, 4, r, counts, displs, FMI_INT32, 0));
    CHECK_TRUE(r[2] == 1 && r[5] == 4, "gatherv in place keeps the block", NULL);
    int32_t one[4] = {0};
    EXPECT(FMI_ERR_INVALID_ARG, fmi_scatterv(c, s, neg_count, displs, one, 4, FMI_INT32, 0));
    EXPECT(FMI_ERR_NULL_ARG, fmi_scatterv(c, s, NULL, displs, one, 4, FMI_INT32, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_scatterv(c, FMI_IN_PLACE, counts, displs, one, 4, FMI_INT32, 0));
    EXPECT(FMI_SUCCESS, fmi_scatterv(c, r, counts, displs, one, 4, FMI_INT32, 0));
    CHECK_TRUE(one[0] == 1 && one[3] == 4, "scatterv takes the block at its displacement", NULL);
    EXPECT(FMI_SUCCESS, fmi_scatterv(c, r, counts, displs, FMI_IN_PLACE, 4, FMI_INT32, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_allgatherv(c, s, 4, r, counts, neg_displ, FMI_INT32));
    EXPECT(FMI_ERR_SIZE_MISMATCH, fmi_allgatherv(c, s, 2, r, counts, displs, FMI_INT32));
    EXPECT(FMI_SUCCESS, fmi_allgatherv(c, FMI_IN_PLACE, 0, r, counts, displs, FMI_INT32));
    EXPECT(FMI_SUCCESS, fmi_allgatherv(c, s, 4, r, counts, displs, FMI_INT32));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_alltoallv(c, s, neg_count, displs, r, counts, displs, FMI_INT32));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_alltoallv(c, s, counts, displs, r, counts, neg_displ, FMI_INT32));
    EXPECT(FMI_ERR_NULL_ARG, fmi_alltoallv(c, s, counts, displs, r, NULL, displs, FMI_INT32));
    EXPECT(FMI_SUCCESS, fmi_alltoallv(c, FMI_IN_PLACE, NULL, NULL, r, counts, displs, FMI_INT32));
    EXPECT(FMI_SUCCESS, fmi_alltoallv(c, r, counts, displs, one, counts, zero, FMI_INT32));
    CHECK_TRUE(one[0] == 1 && one[3] == 4, "alltoallv moves the block between displacements", NULL);

    printf("-- the large-count forms (int64_t counts, ptrdiff_t displacements)\n");
    {
        int64_t c64[1] = {4}, neg64[1] = {-4}, huge64[1] = {INT64_MAX};
        ptrdiff_t d64[1] = {2}, negd[1] = {-1};
        memset(r, 0, sizeof r);
        EXPECT(FMI_ERR_INVALID_ARG, fmi_gatherv_c(c, s, 4, r, neg64, d64, FMI_INT32, 0));
        EXPECT(FMI_ERR_INVALID_ARG, fmi_gatherv_c(c, s, 4, r, huge64, d64, FMI_INT32, 0));
        EXPECT(FMI_ERR_INVALID_ARG, fmi_allgatherv_c(c, s, 4, r, c64, negd, FMI_INT32));
        EXPECT(FMI_ERR_NULL_ARG, fmi_scatterv_c(c, s, NULL, d64, one, 4, FMI_INT32, 0));
        EXPECT(FMI_ERR_INVALID_ARG, fmi_reduce_scatter_c(c, s, r, neg64, FMI_INT32, FMI_OP_SUM));
        EXPECT(FMI_SUCCESS, fmi_gatherv_c(c, s, 4, r, c64, d64, FMI_INT32, 0));
        CHECK_TRUE(r[2] == 1 && r[5] == 4, "gatherv_c puts the block at its displacement", NULL);
        EXPECT(FMI_SUCCESS, fmi_scatterv_c(c, r, c64, d64, one, 4, FMI_INT32, 0));
        EXPECT(FMI_SUCCESS, fmi_allgatherv_c(c, FMI_IN_PLACE, 0, r, c64, d64, FMI_INT32));
        EXPECT(FMI_SUCCESS, fmi_alltoallv_c(c, s, c64, (ptrdiff_t[]){0}, r, c64, d64, FMI_INT32));
        EXPECT(FMI_SUCCESS, fmi_reduce_scatter_c(c, s, one, c64, FMI_INT32, FMI_OP_SUM));
        CHECK_TRUE(one[0] == 1 && one[3] == 4, "reduce_scatter_c with one peer copies", NULL);
    }

    printf("-- fmi_reduce_scatter_block / fmi_reduce_scatter / fmi_exscan\n");
    EXPECT(FMI_ERR_NULL_ARG, fmi_reduce_scatter(c, s, r, NULL, FMI_INT32, FMI_OP_SUM));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_reduce_scatter(c, s, r, neg_count, FMI_INT32, FMI_OP_SUM));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_reduce_scatter(c, s, r, counts, FMI_INT32, 12345));
    EXPECT(FMI_SUCCESS, fmi_reduce_scatter(c, s, r, counts, FMI_INT32, FMI_OP_SUM));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_reduce_scatter_block(c, s, r, (size_t)1 << 62, FMI_INT32, FMI_OP_SUM));
    EXPECT(FMI_SUCCESS, fmi_reduce_scatter_block(c, s, r, 4, FMI_INT32, FMI_OP_SUM));
    EXPECT(FMI_SUCCESS, fmi_reduce_scatter_block(c, FMI_IN_PLACE, r, 4, FMI_INT32, FMI_OP_SUM));
    int32_t ex[4] = {-7, -7, -7, -7};
    EXPECT(FMI_ERR_INVALID_ARG, fmi_exscan(c, s, ex, 4, FMI_INT32, 12345));
    EXPECT(FMI_SUCCESS, fmi_exscan(c, s, ex, 4, FMI_INT32, FMI_OP_SUM));
    CHECK_TRUE(ex[0] == -7 && ex[3] == -7, "exscan leaves rank 0's recvbuf untouched", NULL);
    EXPECT(FMI_SUCCESS, fmi_exscan(c, FMI_IN_PLACE, ex, 4, FMI_INT32, FMI_OP_SUM));

    printf("-- FMI_IN_PLACE where it is not accepted\n");
    EXPECT(FMI_ERR_INVALID_ARG, fmi_bcast(c, FMI_IN_PLACE, 4, FMI_INT32, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_scatter(c, FMI_IN_PLACE, r, 4, FMI_INT32, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_gather(c, s, FMI_IN_PLACE, 4, FMI_INT32, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_allreduce(c, s, FMI_IN_PLACE, 4, FMI_INT32, FMI_OP_SUM));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_alltoall(c, s, FMI_IN_PLACE, 1, FMI_INT32));
    msg = last_message();
    record(strstr(msg, "FMI_IN_PLACE") != NULL, "in-place misuse is named", "last error: \"%s\"", msg);
    printf("-- FMI_IN_PLACE where MPI allows it\n");
    memcpy(r, s, sizeof s);
    EXPECT(FMI_SUCCESS, fmi_allreduce(c, FMI_IN_PLACE, r, 4, FMI_INT32, FMI_OP_SUM));
    EXPECT(FMI_SUCCESS, fmi_reduce(c, FMI_IN_PLACE, r, 4, FMI_INT32, FMI_OP_SUM, 0));
    EXPECT(FMI_SUCCESS, fmi_scan(c, FMI_IN_PLACE, r, 4, FMI_INT32, FMI_OP_SUM));
    EXPECT(FMI_SUCCESS, fmi_gather(c, FMI_IN_PLACE, r, 4, FMI_INT32, 0));
    EXPECT(FMI_SUCCESS, fmi_scatter(c, r, FMI_IN_PLACE, 4, FMI_INT32, 0));
    EXPECT(FMI_SUCCESS, fmi_allgather(c, FMI_IN_PLACE, r, 4, FMI_INT32));
    EXPECT(FMI_SUCCESS, fmi_alltoall(c, FMI_IN_PLACE, r, 4, FMI_INT32));
    CHECK_TRUE(memcmp(r, s, sizeof s) == 0, "in-place forms with one peer keep the data", NULL);
}

static void check_collective_args(fmi_comm *c, fmi_op freed_op)
{
    int32_t s[4] = {1, 2, 3, 4}, r[4] = {0};
    float fs[4] = {1, 2, 3, 4}, fr[4] = {0};
    double ds[4] = {1, 2, 3, 4}, dr[4] = {0};
    uint8_t bs[4] = {1, 2, 3, 4}, br[4] = {0};

    printf("-- fmi_bcast / fmi_barrier\n");
    EXPECT(FMI_ERR_NULL_ARG, fmi_bcast(NULL, s, 4, FMI_INT32, 0));
    EXPECT(FMI_ERR_NULL_ARG, fmi_bcast(c, NULL, 4, FMI_INT32, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_bcast(c, s, 4, 99, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_bcast(c, s, 4, FMI_INT32, 1));
    EXPECT(FMI_SUCCESS, fmi_bcast(c, NULL, 0, FMI_INT32, 0));
    EXPECT(FMI_SUCCESS, fmi_bcast(c, s, 4, FMI_INT32, 0));
    EXPECT(FMI_ERR_NULL_ARG, fmi_barrier(NULL));
    EXPECT(FMI_SUCCESS, fmi_barrier(c));

    printf("-- fmi_gather / fmi_scatter\n");
    EXPECT(FMI_ERR_NULL_ARG, fmi_gather(NULL, s, r, 4, FMI_INT32, 0));
    EXPECT(FMI_ERR_NULL_ARG, fmi_gather(c, NULL, r, 4, FMI_INT32, 0));
    EXPECT(FMI_ERR_NULL_ARG, fmi_gather(c, s, NULL, 4, FMI_INT32, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_gather(c, s, r, 4, 99, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_gather(c, s, r, 4, FMI_INT32, 1));
    EXPECT(FMI_SUCCESS, fmi_gather(c, s, r, 4, FMI_INT32, 0));
    CHECK_TRUE(memcmp(s, r, sizeof s) == 0, "single-peer gather copies the block", NULL);
    EXPECT(FMI_ERR_NULL_ARG, fmi_scatter(NULL, s, r, 4, FMI_INT32, 0));
    EXPECT(FMI_ERR_NULL_ARG, fmi_scatter(c, NULL, r, 4, FMI_INT32, 0));
    EXPECT(FMI_ERR_NULL_ARG, fmi_scatter(c, s, NULL, 4, FMI_INT32, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_scatter(c, s, r, 4, 99, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_scatter(c, s, r, 4, FMI_INT32, 1));
    EXPECT(FMI_SUCCESS, fmi_scatter(c, s, r, 4, FMI_INT32, 0));

    printf("-- fmi_reduce\n");
    EXPECT(FMI_ERR_NULL_ARG, fmi_reduce(NULL, s, r, 4, FMI_INT32, FMI_OP_SUM, 0));
    EXPECT(FMI_ERR_NULL_ARG, fmi_reduce(c, NULL, r, 4, FMI_INT32, FMI_OP_SUM, 0));
    EXPECT(FMI_ERR_NULL_ARG, fmi_reduce(c, s, NULL, 4, FMI_INT32, FMI_OP_SUM, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_reduce(c, s, r, 4, 99, FMI_OP_SUM, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_reduce(c, s, r, 4, FMI_INT32, 12345, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_reduce(c, s, r, 4, FMI_INT32, 0, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_reduce(c, s, r, 4, FMI_INT32, freed_op, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_reduce(c, fs, fr, 4, FMI_FLOAT, FMI_OP_BAND, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_reduce(c, ds, dr, 4, FMI_DOUBLE, FMI_OP_LAND, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_reduce(c, bs, br, 4, FMI_BYTE, FMI_OP_SUM, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_reduce(c, s, r, 4, FMI_INT32, FMI_OP_SUM, 1));
    EXPECT(FMI_SUCCESS, fmi_reduce(c, s, r, 4, FMI_INT32, FMI_OP_SUM, 0));

    printf("-- fmi_allreduce\n");
    EXPECT(FMI_ERR_NULL_ARG, fmi_allreduce(NULL, s, r, 4, FMI_INT32, FMI_OP_SUM));
    EXPECT(FMI_ERR_NULL_ARG, fmi_allreduce(c, NULL, r, 4, FMI_INT32, FMI_OP_SUM));
    EXPECT(FMI_ERR_NULL_ARG, fmi_allreduce(c, s, NULL, 4, FMI_INT32, FMI_OP_SUM));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_allreduce(c, s, r, 4, 99, FMI_OP_SUM));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_allreduce(c, s, r, 4, FMI_INT32, 12345));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_allreduce(c, s, r, 4, FMI_INT32, freed_op));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_allreduce(c, fs, fr, 4, FMI_FLOAT, FMI_OP_BAND));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_allreduce(c, ds, dr, 4, FMI_DOUBLE, FMI_OP_BXOR));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_allreduce(c, fs, fr, 4, FMI_FLOAT, FMI_OP_LOR));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_allreduce(c, bs, br, 4, FMI_BYTE, FMI_OP_MAX));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_allreduce(c, bs, br, 4, FMI_BYTE, FMI_OP_LAND));
    EXPECT(FMI_SUCCESS, fmi_allreduce(c, NULL, NULL, 0, FMI_INT32, FMI_OP_SUM));
    EXPECT(FMI_SUCCESS, fmi_allreduce(c, bs, br, 4, FMI_BYTE, FMI_OP_BXOR));
    EXPECT(FMI_SUCCESS, fmi_allreduce(c, s, r, 4, FMI_INT32, FMI_OP_LAND));
    EXPECT(FMI_SUCCESS, fmi_allreduce(c, s, r, 4, FMI_INT32, FMI_OP_SUM));
    CHECK_TRUE(memcmp(s, r, sizeof s) == 0, "single-peer allreduce returns the input", NULL);

    printf("-- fmi_scan / fmi_allgather / fmi_alltoall\n");
    EXPECT(FMI_ERR_NULL_ARG, fmi_scan(NULL, s, r, 4, FMI_INT32, FMI_OP_SUM));
    EXPECT(FMI_ERR_NULL_ARG, fmi_scan(c, NULL, r, 4, FMI_INT32, FMI_OP_SUM));
    EXPECT(FMI_ERR_NULL_ARG, fmi_scan(c, s, NULL, 4, FMI_INT32, FMI_OP_SUM));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_scan(c, s, r, 4, 99, FMI_OP_SUM));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_scan(c, s, r, 4, FMI_INT32, 12345));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_scan(c, s, r, 4, FMI_INT32, freed_op));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_scan(c, fs, fr, 4, FMI_FLOAT, FMI_OP_BAND));
    EXPECT(FMI_SUCCESS, fmi_scan(c, s, r, 4, FMI_INT32, FMI_OP_SUM));
    EXPECT(FMI_ERR_NULL_ARG, fmi_allgather(NULL, s, r, 4, FMI_INT32));
    EXPECT(FMI_ERR_NULL_ARG, fmi_allgather(c, NULL, r, 4, FMI_INT32));
    EXPECT(FMI_ERR_NULL_ARG, fmi_allgather(c, s, NULL, 4, FMI_INT32));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_allgather(c, s, r, 4, 99));
    EXPECT(FMI_SUCCESS, fmi_allgather(c, s, r, 4, FMI_INT32));
    EXPECT(FMI_ERR_NULL_ARG, fmi_alltoall(NULL, s, r, 4, FMI_INT32));
    EXPECT(FMI_ERR_NULL_ARG, fmi_alltoall(c, NULL, r, 4, FMI_INT32));
    EXPECT(FMI_ERR_NULL_ARG, fmi_alltoall(c, s, NULL, 4, FMI_INT32));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_alltoall(c, s, r, 4, 99));
    EXPECT(FMI_SUCCESS, fmi_alltoall(c, s, r, 4, FMI_INT32));

    check_v_collective_args(c);

    /* A live user op works; the send buffer is never modified. */
    fmi_op op = 0;
    EXPECT(FMI_SUCCESS, fmi_op_create(sum_op, NULL, 1, 1, &op));
    EXPECT(FMI_SUCCESS, fmi_allreduce(c, s, r, 4, FMI_INT32, op));
    EXPECT(FMI_SUCCESS, fmi_op_free(op));
    const int32_t orig[4] = {1, 2, 3, 4};
    CHECK_TRUE(memcmp(s, orig, sizeof s) == 0, "send buffer unchanged", NULL);
}

/* Derived communicators and groups on a single-peer communicator. */
static void check_group_args(fmi_comm *c)
{
    printf("-- derived communicators and groups\n");
    fmi_comm *d = NULL, *u = (fmi_comm *)(void *)1;
    EXPECT(FMI_ERR_NULL_ARG, fmi_comm_dup(c, NULL));
    EXPECT(FMI_ERR_NULL_ARG, fmi_comm_dup(NULL, &d));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_comm_split(c, -5, 0, &d));
    CHECK_TRUE(d == NULL, "a failed split writes NULL");
    EXPECT(FMI_ERR_INVALID_ARG, fmi_comm_split(c, INT32_MIN, 0, &d));
    EXPECT(FMI_SUCCESS, fmi_comm_split(c, FMI_UNDEFINED, 0, &u));
    CHECK_TRUE(u == NULL, "FMI_UNDEFINED gives NULL");
    EXPECT(FMI_SUCCESS, fmi_comm_split(c, 3, 7, &d));
    uint32_t ctx = 0, r = 9, n = 9;
    EXPECT(FMI_SUCCESS, fmi_comm_context_id(d, &ctx));
    CHECK_TRUE(ctx != 0, "a split has its own context id (%u)", ctx);
    EXPECT(FMI_SUCCESS, fmi_comm_rank(d, &r));
    EXPECT(FMI_SUCCESS, fmi_comm_size(d, &n));
    CHECK_TRUE(r == 0 && n == 1, "rank %u of %u", r, n);
    fmi_comm *stale = d;
    EXPECT(FMI_SUCCESS, fmi_comm_free(&d));
    CHECK_TRUE(d == NULL, "fmi_comm_free sets the handle to NULL");
    EXPECT(FMI_ERR_NULL_ARG, fmi_comm_free(&d));
    EXPECT(FMI_ERR_NULL_ARG, fmi_comm_free(NULL));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_comm_free(&stale));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_comm_dup(stale, &d));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_comm_rank(stale, &r));

    fmi_group *g = NULL, *h = NULL, *e = NULL;
    EXPECT(FMI_ERR_NULL_ARG, fmi_comm_group(c, NULL));
    EXPECT(FMI_SUCCESS, fmi_comm_group(c, &g));
    int32_t gr = -9;
    EXPECT(FMI_SUCCESS, fmi_group_size(g, &n));
    EXPECT(FMI_SUCCESS, fmi_group_rank(g, &gr));
    CHECK_TRUE(n == 1 && gr == 0, "group of %u, rank %d", n, gr);
    uint32_t bad[2] = {1, 0}, twice[2] = {0, 0}, zero = 0;
    EXPECT(FMI_ERR_INVALID_ARG, fmi_group_incl(g, 1, bad, &h));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_group_incl(g, 2, twice, &h));
    EXPECT(FMI_ERR_NULL_ARG, fmi_group_incl(g, 1, NULL, &h));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_group_excl(g, 1, bad, &h));
    EXPECT(FMI_ERR_NULL_ARG, fmi_group_excl(NULL, 0, NULL, &h));
    EXPECT(FMI_SUCCESS, fmi_group_excl(g, 1, &zero, &e));
    EXPECT(FMI_SUCCESS, fmi_group_size(e, &n));
    EXPECT(FMI_SUCCESS, fmi_group_rank(e, &gr));
    CHECK_TRUE(n == 0 && gr == FMI_UNDEFINED, "empty group: %u, rank %d", n, gr);
    int32_t out[2] = {7, 7};
    EXPECT(FMI_SUCCESS, fmi_group_translate_ranks(g, 1, &zero, e, out));
    CHECK_TRUE(out[0] == FMI_UNDEFINED, "translated to %d", out[0]);
    EXPECT(FMI_ERR_INVALID_ARG, fmi_group_translate_ranks(g, 1, bad, g, out));
    EXPECT(FMI_ERR_NULL_ARG, fmi_group_translate_ranks(g, 1, &zero, g, NULL));
    /* Only members call create_group; tags above FMI_TAG_UB are refused. */
    EXPECT(FMI_ERR_INVALID_ARG, fmi_comm_create_group(c, e, 0, &d));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_comm_create_group(c, g, 0x80000000u, &d));
    EXPECT(FMI_ERR_NULL_ARG, fmi_comm_create_group(c, NULL, 0, &d));
    EXPECT(FMI_SUCCESS, fmi_comm_create_group(c, g, 5, &d));
    EXPECT(FMI_SUCCESS, fmi_comm_free(&d));
    fmi_group *stale_g = e;
    EXPECT(FMI_SUCCESS, fmi_group_free(&e));
    CHECK_TRUE(e == NULL, "fmi_group_free sets the handle to NULL");
    EXPECT(FMI_ERR_INVALID_ARG, fmi_group_free(&stale_g));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_group_size(stale_g, &n));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_comm_create_group(c, stale_g, 0, &d));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_group_size((fmi_group *)(void *)c, &n));
    EXPECT(FMI_SUCCESS, fmi_group_free(&g));
}

static int run_solo(void)
{
    char name[64];
    snprintf(name, sizeof name, "bad_args_solo_%ld", (long)getpid());

    check_static_functions();
    check_ops();

    /* An op id that was valid once, for the "freed user op" checks. */
    fmi_op freed_op = 0;
    EXPECT(FMI_SUCCESS, fmi_op_create(sum_op, NULL, 1, 1, &freed_op));
    EXPECT(FMI_SUCCESS, fmi_op_free(freed_op));

    check_init_args(name);

    fmi_comm *c = NULL;
    printf("-- single-peer communicator\n");
    g_current = "fmi_init(0, 1, NULL, name, 0, &c)";
    fmi_status st = fmi_init(0, 1, NULL, name, 0, &c);
    expect_status("fmi_init(0, 1, NULL, name, 0, &c)", FMI_SUCCESS, st);
    if (st != FMI_SUCCESS || c == NULL) {
        record(0, "single-peer communicator", "cannot run the handle checks without one");
        return finish();
    }
    check_comm_args(c);
    check_p2p_args(c);
    check_collective_args(c, freed_op);
    check_group_args(c);

    printf("-- fmi_finalize and use after finalize\n");
    EXPECT(FMI_ERR_NULL_ARG, fmi_finalize(NULL));
    EXPECT(FMI_SUCCESS, fmi_finalize(c));
    expect_dead_handle(c, "finalized handle");
    uint64_t not_a_comm[16] = {0};
    expect_dead_handle((fmi_comm *)(void *)not_a_comm, "pointer that was never a handle");
    return finish();
}

int main(void)
{
    catch_crashes();

    const char *np = getenv("FMI_NUM_PEERS");
    long n = np != NULL ? strtol(np, NULL, 10) : 1;
    if (n > 1) {
        printf("bad_args: run it as a single process; under `fmirun -n 2` run bad_args_peers (FMI_NUM_PEERS=%s)\n", np);
        printf("0 passed, 1 failed\n");
        return EXIT_FAILURE;
    }
    return run_solo();
}
