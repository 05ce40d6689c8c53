/* The tool information interface (MPI_T_*): initialization nests and may happen before
 * MPI_Init and after MPI_Finalize; every variable, category, event type and source the library
 * reports can be described, and the first index past the count is refused with
 * MPI_T_ERR_INVALID_INDEX; unknown names, sessions and handles get their own classes. The
 * MPI_T calls return their classes and never call an error handler: the communicators keep
 * MPI_ERRORS_ARE_FATAL here, so a handler call would abort the test. The checks hold for any
 * number of variables (MPICH has hundreds, libfmi none).
 *
 * The refusals, and the restart after MPI_Finalize, are checked only with the argument "errors":
 * MPICH 5.0.2's standard-ABI library crashes on both (SIGSEGV in MPI_T_cvar_get_info(-1, ...); an
 * assertion in its PMI code at exit after MPI_T_init_thread following MPI_Finalize), so the
 * driver passes it when running libfmi's library only. */
#include "check.h"

#define T_OK(call)                                                                         \
    do {                                                                                   \
        int rc_ = (call);                                                                  \
        CHECK(rc_ == MPI_SUCCESS, "%s returned %d", #call, rc_);                          \
    } while (0)
#define T_ERR(call, want)                                                                  \
    do {                                                                                   \
        int rc_ = (call);                                                                  \
        CHECK(rc_ == (want), "%s returned %d, expected %s (%d)", #call, rc_, #want, want); \
    } while (0)

static int errors = 0; /* check the refusals too */

/* T_ERR when the refusals are checked. */
#define T_REFUSED(call, want)                                                              \
    do {                                                                                   \
        if (errors) T_ERR(call, want);                                                     \
    } while (0)

static void describe_everything(void) {
    char name[256], desc[1024];
    int name_len, desc_len, verbosity, bind, scope, n;
    MPI_Datatype dt;
    MPI_T_enum et;

    T_OK(MPI_T_cvar_get_num(&n));
    CHECK(n >= 0, "cvar count %d", n);
    for (int i = 0; i < n; i++) {
        name_len = sizeof name;
        desc_len = sizeof desc;
        T_OK(MPI_T_cvar_get_info(i, name, &name_len, &verbosity, &dt, &et, desc, &desc_len, &bind,
                                 &scope));
    }
    name_len = sizeof name;
    desc_len = sizeof desc;
    T_REFUSED(MPI_T_cvar_get_info(n, name, &name_len, &verbosity, &dt, &et, desc, &desc_len, &bind,
                              &scope),
          MPI_T_ERR_INVALID_INDEX);
    int idx = -1;
    T_REFUSED(MPI_T_cvar_get_index("fmi_test_no_such_variable", &idx), MPI_T_ERR_INVALID_NAME);
    MPI_T_cvar_handle ch;
    int count = 0;
    T_REFUSED(MPI_T_cvar_handle_alloc(n, NULL, &ch, &count), MPI_T_ERR_INVALID_INDEX);

    int pclass, readonly, continuous, atomic;
    T_OK(MPI_T_pvar_get_num(&n));
    CHECK(n >= 0, "pvar count %d", n);
    for (int i = 0; i < n; i++) {
        name_len = sizeof name;
        desc_len = sizeof desc;
        T_OK(MPI_T_pvar_get_info(i, name, &name_len, &verbosity, &pclass, &dt, &et, desc, &desc_len,
                                 &bind, &readonly, &continuous, &atomic));
    }
    name_len = sizeof name;
    desc_len = sizeof desc;
    T_REFUSED(MPI_T_pvar_get_info(n, name, &name_len, &verbosity, &pclass, &dt, &et, desc, &desc_len,
                              &bind, &readonly, &continuous, &atomic),
          MPI_T_ERR_INVALID_INDEX);
    T_REFUSED(MPI_T_pvar_get_index("fmi_test_no_such_variable", MPI_T_PVAR_CLASS_COUNTER, &idx),
          MPI_T_ERR_INVALID_NAME);

    MPI_T_pvar_session session = MPI_T_PVAR_SESSION_NULL;
    T_OK(MPI_T_pvar_session_create(&session));
    CHECK(session != MPI_T_PVAR_SESSION_NULL, "a created session is MPI_T_PVAR_SESSION_NULL");
    MPI_T_pvar_handle ph;
    T_REFUSED(MPI_T_pvar_handle_alloc(session, n, NULL, &ph, &count), MPI_T_ERR_INVALID_INDEX);
    T_OK(MPI_T_pvar_session_free(&session));
    CHECK(session == MPI_T_PVAR_SESSION_NULL, "a freed session is not MPI_T_PVAR_SESSION_NULL");

    int ncvars, npvars, ncats;
    T_OK(MPI_T_category_get_num(&n));
    CHECK(n >= 0, "category count %d", n);
    for (int i = 0; i < n; i++) {
        name_len = sizeof name;
        desc_len = sizeof desc;
        T_OK(MPI_T_category_get_info(i, name, &name_len, desc, &desc_len, &ncvars, &npvars, &ncats));
    }
    name_len = sizeof name;
    desc_len = sizeof desc;
    T_REFUSED(MPI_T_category_get_info(n, name, &name_len, desc, &desc_len, &ncvars, &npvars, &ncats),
          MPI_T_ERR_INVALID_INDEX);
    T_REFUSED(MPI_T_category_get_index("fmi_test_no_such_category", &idx), MPI_T_ERR_INVALID_NAME);
    int stamp = -1;
    T_OK(MPI_T_category_changed(&stamp));

    T_OK(MPI_T_event_get_num(&n));
    CHECK(n >= 0, "event type count %d", n);
    T_REFUSED(MPI_T_event_get_index("fmi_test_no_such_event", &idx), MPI_T_ERR_INVALID_NAME);
    T_OK(MPI_T_source_get_num(&n));
    CHECK(n >= 0, "source count %d", n);
    MPI_Count ts;
    T_REFUSED(MPI_T_source_get_timestamp(n, &ts), MPI_T_ERR_INVALID_INDEX);
}

int main(int argc, char **argv) {
    int n = 0, provided = -1;
    errors = argc > 1 && strcmp(argv[1], "errors") == 0;
    /* Not initialized yet. */
    T_REFUSED(MPI_T_cvar_get_num(&n), MPI_T_ERR_NOT_INITIALIZED);
    T_REFUSED(MPI_T_finalize(), MPI_T_ERR_NOT_INITIALIZED);

    /* Before MPI_Init, nested twice. */
    T_OK(MPI_T_init_thread(MPI_THREAD_SINGLE, &provided));
    CHECK(provided == MPI_THREAD_SINGLE || provided == MPI_THREAD_FUNNELED ||
              provided == MPI_THREAD_SERIALIZED || provided == MPI_THREAD_MULTIPLE,
          "provided %d is not a thread level", provided);
    T_OK(MPI_T_init_thread(MPI_THREAD_MULTIPLE, &provided));
    describe_everything();
    T_OK(MPI_T_finalize());
    T_OK(MPI_T_cvar_get_num(&n)); /* still initialized once */

    OK(MPI_Init(&argc, &argv));
    describe_everything();
    OK(MPI_Barrier(MPI_COMM_WORLD));
    T_OK(MPI_T_finalize());
    T_REFUSED(MPI_T_cvar_get_num(&n), MPI_T_ERR_NOT_INITIALIZED);
    T_REFUSED(MPI_T_finalize(), MPI_T_ERR_NOT_INITIALIZED);
    pass("tool");
    OK(MPI_Finalize());

    /* After MPI_Finalize the interface may start again. */
    if (errors) {
        T_OK(MPI_T_init_thread(MPI_THREAD_SINGLE, &provided));
        T_OK(MPI_T_cvar_get_num(&n));
        T_OK(MPI_T_finalize());
    }
    return 0;
}
