/* MPI_Abort ends the whole job with a non-zero exit: rank 0 aborts, the others wait in a
 * receive that never completes. Must NOT print "survived". */
#include "check.h"

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    int rank = 0;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    if (rank == 0) MPI_Abort(MPI_COMM_WORLD, 7);
    MPI_Barrier(MPI_COMM_WORLD);
    printf("survived\n");
    MPI_Finalize();
    return 0;
}
