"""Shared helpers of the Python tests.

Peers run as real processes under fmirun: ``launch(n, script, *args)`` runs
``fmirun -n N --timeout T <this python> tests/python/workers/<script> ARGS`` and fails the test,
with the peers' output, when it exits non-zero. fmirun is taken from $FMI_FMIRUN, else
$FMI_PREFIX/bin/fmirun, else target/release/fmirun of this checkout.

The ``fmi`` package is whatever this Python imports: the installed wheel in the test suite
(scripts/suites/30-python.sh sets FMI_EXPECT_INSTALLED=1 and checks it), or the source tree with
PYTHONPATH=python and FMI_LIBRARY=target/release/libfmi.so during development.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKERS = Path(__file__).resolve().parent / "workers"


def fmirun_path():
    env = os.environ.get("FMI_FMIRUN")
    if env:
        return env
    prefix = os.environ.get("FMI_PREFIX")
    if prefix:
        return os.path.join(prefix, "bin", "fmirun")
    return str(ROOT / "target" / "release" / "fmirun")


@pytest.fixture(scope="session")
def fmirun():
    path = fmirun_path()
    if not os.access(path, os.X_OK):
        pytest.fail("fmirun not found at %s (set FMI_FMIRUN or FMI_PREFIX)" % path)
    return path


class Launcher:
    def __init__(self, fmirun):
        self.fmirun = fmirun

    def __call__(self, n, script, *args, timeout=240, env=None, expect_rc=0, cmd=None):
        """Runs N peers of a worker script (or of ``cmd``); returns the CompletedProcess."""
        argv = [self.fmirun, "-n", str(n), "--timeout", str(timeout)]
        argv += cmd if cmd is not None else [sys.executable, str(WORKERS / script)]
        argv += [str(a) for a in args]
        e = dict(os.environ)
        e.setdefault("PYTHONUNBUFFERED", "1")
        if env:
            e.update(env)
        t0 = time.monotonic()
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=e,
                           timeout=timeout + 30)
        dt = time.monotonic() - t0
        out = p.stdout.decode("utf-8", "replace")
        sys.stdout.write("$ %s  (%.1fs, exit %d)\n%s" % (" ".join(argv), dt, p.returncode, out[-4000:]))
        if expect_rc is not None and p.returncode != expect_rc:
            pytest.fail("%s exited %d (expected %d):\n%s" % (" ".join(argv), p.returncode, expect_rc, out))
        p.output = out
        return p


@pytest.fixture(scope="session")
def launch(fmirun):
    return Launcher(fmirun)


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_config(tmp_path_factory):
    """A private redis-server on a free loopback port (no persistence) and the path of a
    Redis-only configuration file for it. A server that cannot start fails the test."""
    import socket

    d = tmp_path_factory.mktemp("redis")
    for _ in range(5):
        port = _free_port()
        try:
            proc = subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(d)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError as e:
            pytest.fail("cannot start redis-server (%s): install it with scripts/install-deps.sh" % e)
        t0 = time.monotonic()
        while proc.poll() is None and time.monotonic() - t0 < 10:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                time.sleep(0.02)
        else:
            proc.kill()
            proc.wait()
            continue
        cfg = d / "redis.json"
        cfg.write_text('{"backends": {"Redis": {"enabled": true, "host": "127.0.0.1", "port": %d}}}'
                       % port)
        yield str(cfg)
        proc.kill()
        proc.wait()
        return
    pytest.fail("redis-server did not start")
