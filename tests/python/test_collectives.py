"""The collective matrix from Python under fmirun (see workers/matrix.py for what each section
covers): peer counts 1..9 and 16, every root, sizes 0, 1, odd and large, every datatype with
every built-in op defined for it, and non-commutative user ops in strict rank order."""

import sys
import time

import pytest

from conftest import ROOT

PEERS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 16]


@pytest.mark.parametrize("n", PEERS)
def test_matrix(launch, n):
    p = launch(n, "matrix.py", "types", "colls", "custom", "original", "buffers", "large")
    assert "%d peers" % n in p.output and ", ok" in p.output


def test_zero_copy_64mib(launch):
    p = launch(2, "zerocopy.py")
    assert "zero-copy: ok" in p.output


def test_gil_released_while_blocked(launch):
    p = launch(2, "gil.py")
    assert "iterations meanwhile" in p.output


def test_nonblocking(launch):
    p = launch(3, "nonblocking.py")
    assert p.output.count("nonblocking ok") == 3


def test_tagged_point_to_point(launch):
    p = launch(3, "tagged.py")
    assert p.output.count("tagged ok") == 3


def test_tagged_point_to_point_on_redis(launch, redis_config):
    """The same worker with only the Redis channel: tagged messages through the inboxes."""
    p = launch(3, "tagged.py", env={"FMI_CONFIG": redis_config})
    assert p.output.count("tagged ok") == 3


def test_error_paths(launch):
    p = launch(2, "errors.py")
    assert p.output.count("errors ok") == 2
    assert "SizeMismatch: FMI_ERR_SIZE_MISMATCH" in p.output
    assert "Timeout: FMI_ERR_TIMEOUT" in p.output


def test_uncaught_exception_ends_the_job_promptly(launch):
    t0 = time.monotonic()
    p = launch(2, "crash.py", expect_rc=None, timeout=60)
    assert p.returncode != 0
    assert "peer 1 fails on purpose" in p.output
    assert time.monotonic() - t0 < 20


@pytest.mark.parametrize("n", [1, 3])
def test_fmirun_python_script(launch, n):
    """``fmirun -n N python3 script.py`` with the example of docs/python.md."""
    p = launch(n, None, cmd=[sys.executable, str(ROOT / "python" / "examples" / "allreduce.py")])
    assert p.output.count("sum of ranks = %d" % (n * (n - 1) // 2)) == n


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_v_collectives(launch, n):
    """gatherv, scatterv, allgatherv (in place too), alltoallv, reduce_scatter and exscan on numpy
    arrays with uneven and zero counts (workers/vcoll.py)."""
    p = launch(n, "vcoll.py")
    assert p.output.count("vcoll ok") == n
