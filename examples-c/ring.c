/* ring: a token (a vector of int64) travels rank 0 -> 1 -> ... -> N-1 -> 0 several times;
 * every peer adds (rank + 1) to each element, and every receiver checks what it got. */
#include "common.h"

#include <inttypes.h>

#define TOKEN_LEN 1024
#define ROUNDS 3

/* Value of element i of the token as it arrives at `rank` in `round` (rank 0: after a full lap). */
static int64_t expected_value(int round, size_t i, uint32_t rank, uint32_t size)
{
    /* The token starts as round * 1000000 + i and collects sum_{r < rank} (r + 1). */
    uint64_t hops = (rank == 0) ? size : rank;
    return (int64_t)round * 1000000 + (int64_t)i + (int64_t)(hops * (hops + 1) / 2);
}

static void check_token(const int64_t *token, int round, uint32_t rank, uint32_t size)
{
    for (size_t i = 0; i < TOKEN_LEN; i++) {
        int64_t want = expected_value(round, i, rank, size);
        if (token[i] != want)
            EXAMPLE_FAIL("ring: rank %u round %d: token[%zu] = %" PRId64 ", expected %" PRId64,
                         (unsigned)rank, round, i, token[i], want);
    }
}

int main(void)
{
    fmi_comm *comm = NULL;
    uint32_t rank = 0, size = 0;
    static int64_t token[TOKEN_LEN];

    FMI_CHECK(fmi_init_from_env(&comm));
    FMI_CHECK(fmi_comm_rank(comm, &rank));
    FMI_CHECK(fmi_comm_size(comm, &size));

    if (size < 2) {
        if (rank == 0)
            printf("ring: a single peer has no neighbour; nothing to pass\n");
        FMI_CHECK(fmi_finalize(comm));
        return EXIT_SUCCESS;
    }

    uint32_t next = (rank + 1) % size;
    uint32_t prev = (rank + size - 1) % size;
    for (int round = 0; round < ROUNDS; round++) {
        if (rank == 0) {
            for (size_t i = 0; i < TOKEN_LEN; i++)
                token[i] = (int64_t)round * 1000000 + (int64_t)i + 1;
            FMI_CHECK(fmi_send(comm, token, TOKEN_LEN, FMI_INT64, next));
            FMI_CHECK(fmi_recv(comm, token, TOKEN_LEN, FMI_INT64, prev));
            check_token(token, round, rank, size);
            printf("ring: round %d: token went through %u peers and came back correct\n", round,
                   (unsigned)size);
            fflush(stdout);
        } else {
            FMI_CHECK(fmi_recv(comm, token, TOKEN_LEN, FMI_INT64, prev));
            check_token(token, round, rank, size);
            for (size_t i = 0; i < TOKEN_LEN; i++)
                token[i] += (int64_t)rank + 1;
            FMI_CHECK(fmi_send(comm, token, TOKEN_LEN, FMI_INT64, next));
        }
    }

    FMI_CHECK(fmi_finalize(comm));
    if (rank == 0)
        printf("ring: OK (%d rounds, %u peers)\n", ROUNDS, (unsigned)size);
    return EXIT_SUCCESS;
}
