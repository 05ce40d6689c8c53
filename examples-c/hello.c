/* hello: every peer joins the communicator and prints its rank and the communicator size. */
#include "common.h"

int main(void)
{
    fmi_comm *comm = NULL;
    uint32_t rank = 0, size = 0;

    FMI_CHECK(fmi_init_from_env(&comm));
    FMI_CHECK(fmi_comm_rank(comm, &rank));
    FMI_CHECK(fmi_comm_size(comm, &size));
    if (size == 0 || rank >= size)
        EXAMPLE_FAIL("hello: bad rank %u / size %u", (unsigned)rank, (unsigned)size);

    printf("hello from rank %u of %u (libfmi %s)\n", (unsigned)rank, (unsigned)size, fmi_version());
    fflush(stdout);

    FMI_CHECK(fmi_barrier(comm));
    FMI_CHECK(fmi_finalize(comm));
    return EXIT_SUCCESS;
}
