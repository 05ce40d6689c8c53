"""AWS Lambda packaging, offline: the layer and function zips built by scripts/build-layers.sh
are inspected and used the way Lambda would (layers unpacked as /opt stand-ins), the example
handlers run as N local processes under fmirun with the driver's payloads, and the
CloudFormation template passes cfn-lint.

The artifacts are taken from $FMI_LAYER_DIR (scripts/suites/30-python.sh builds them there), or
built into a temporary directory (with $FMI_PREFIX as the installed libfmi, when set).
"""

import json
import os
import platform
import re
import stat
import subprocess
import sys
import time
import zipfile

import pytest

from conftest import ROOT

LAMBDA = ROOT / "lambda"
ARCH = {"x86_64": "x86_64", "aarch64": "arm64"}[platform.machine()]
ELF_MACHINE = {"x86_64": "X86-64", "arm64": "AArch64"}[ARCH]


@pytest.fixture(scope="session")
def layers(tmp_path_factory):
    d = os.environ.get("FMI_LAYER_DIR")
    if not d:
        d = str(tmp_path_factory.mktemp("layers"))
        cmd = [str(ROOT / "scripts" / "build-layers.sh"), "--out", d]
        if os.environ.get("FMI_PREFIX"):
            cmd += ["--prefix", os.environ["FMI_PREFIX"]]
        subprocess.run(cmd, check=True, env=dict(os.environ, PYTHON=sys.executable))
    for name in ("fmi-cpp-layer-%s.zip" % ARCH, "fmi-python-layer-%s.zip" % ARCH,
                 "fmi-example-cpp-%s.zip" % ARCH, "fmi-example-python.zip", "SHA256SUMS"):
        assert os.path.exists(os.path.join(d, name)), name
    return d


def unzip(zpath, dest):
    """Unpacks with Info-ZIP's unzip, which restores symbolic links (as Lambda does)."""
    os.makedirs(dest, exist_ok=True)
    subprocess.run(["unzip", "-q", "-o", str(zpath), "-d", str(dest)], check=True)
    return dest


def readelf(*args):
    return subprocess.run(["readelf"] + list(args), check=True, stdout=subprocess.PIPE).stdout.decode()


def glibc_needed(path):
    versions = set(re.findall(r"GLIBC_([0-9.]+)", readelf("--dyn-syms", "-W", str(path))))
    return max(versions, key=lambda v: tuple(int(x) for x in v.split(".")))


def check_elf(path, soname=None):
    hdr = readelf("-h", str(path))
    assert ELF_MACHINE in hdr, hdr
    assert ".debug_info" not in readelf("-S", "-W", str(path)), "%s still has debug info" % path
    g = glibc_needed(path)
    assert tuple(int(x) for x in g.split(".")) <= (2, 34), "%s needs GLIBC_%s > 2.34 (Amazon Linux 2023)" % (path, g)
    if soname:
        assert "Library soname: [%s]" % soname in readelf("-d", str(path))


def test_checksums(layers):
    lines = open(os.path.join(layers, "SHA256SUMS")).read().split("\n")
    names = {ln.split()[1] for ln in lines if ln.strip()}
    assert {n for n in os.listdir(layers) if n.endswith((".zip", ".whl"))} == names
    subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=layers, check=True)


def test_cpp_layer_layout(layers, tmp_path):
    z = os.path.join(layers, "fmi-cpp-layer-%s.zip" % ARCH)
    assert os.path.getsize(z) < 50 * 2**20  # Lambda's limit for a directly uploaded zip
    with zipfile.ZipFile(z) as zf:
        names = set(zf.namelist())
        parts = ["include/fmi/" + p.name for p in (ROOT / "include" / "fmi").glob("*.hpp")]
        assert "include/fmi/communicator.hpp" in parts, parts
        for need in ["lib/libfmi.so.0", "lib/libfmi.so", "include/fmi.h", "include/fmi.hpp",
                     "lib/cmake/FMI/FMIConfig.cmake", "lib/cmake/FMI/FMIConfigVersion.cmake",
                     "lib/pkgconfig/fmi.pc", "bin/fmirun", "bin/fmi-rendezvous",
                     "lib/libmpi_abi.so.1"] + parts:
            assert need in names, need
        link = zf.getinfo("lib/libfmi.so")
        assert stat.S_ISLNK(link.external_attr >> 16) and zf.read(link) == b"libfmi.so.0"
        assert not any(n.startswith(("python/", "/")) or ".." in n for n in names)
    d = unzip(z, tmp_path / "opt")
    check_elf(d / "lib" / "libfmi.so.0", soname="libfmi.so.0")
    check_elf(d / "lib" / "libmpi_abi.so.1", soname="libmpi_abi.so.1")
    assert os.readlink(d / "lib" / "libfmi.so") == "libfmi.so.0"
    assert (d / "include" / "fmi.h").read_text() == (ROOT / "include" / "fmi.h").read_text()


def test_python_layer_layout_and_import(layers, tmp_path):
    z = os.path.join(layers, "fmi-python-layer-%s.zip" % ARCH)
    with zipfile.ZipFile(z) as zf:
        names = set(zf.namelist())
    modules = [p.name for p in (ROOT / "python" / "fmi").glob("*.py")]
    assert "__init__.py" in modules and "_comm.py" in modules, modules
    for need in ["python/fmi/" + m for m in modules] + [
            "python/fmi/libfmi.so", "python/fmi/libmpi_abi.so.1",
            "python/fmi-0.1.0.dist-info/METADATA"]:
        assert need in names, need
    assert all(n.startswith("python/") for n in names)
    opt = unzip(z, tmp_path / "opt")
    check_elf(opt / "python" / "fmi" / "libfmi.so", soname="libfmi.so.0")
    check_elf(opt / "python" / "fmi" / "libmpi_abi.so.1", soname="libmpi_abi.so.1")
    # Lambda puts /opt/python on sys.path: the layer's package and library must be the ones used
    code = "import fmi, json; print(json.dumps([fmi.__file__, fmi.library_path, fmi.version()]))"
    out = subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.PIPE,
                         env=dict(os.environ, PYTHONPATH=str(opt / "python")), cwd=str(tmp_path)).stdout
    f, lib, ver = json.loads(out)
    assert f.startswith(str(opt)) and lib == str(opt / "python" / "fmi" / "libfmi.so") and ver == "0.1.0"
    # fmi.mpi loads the layer's libmpi_abi.so.1 (for mpi4py) and names it in MPI4PY_LIBMPI
    code = ("import ctypes, fmi.mpi, os; l = ctypes.CDLL('libmpi_abi.so.1');"
            "v = ctypes.create_string_buffer(8192); n = ctypes.c_int(0);"
            "assert l.MPI_Get_library_version(v, ctypes.byref(n)) == 0;"
            "print(fmi.mpi.library_path()); print(os.environ['MPI4PY_LIBMPI']); print(v.value.decode())")
    env = {k: v for k, v in os.environ.items() if k not in ("MPI4PY_LIBMPI", "LD_LIBRARY_PATH")}
    out = subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.PIPE, text=True,
                         env=dict(env, PYTHONPATH=str(opt / "python")), cwd=str(tmp_path)).stdout
    path, named, version = out.split("\n", 2)
    assert path == named == str(opt / "python" / "fmi" / "libmpi_abi.so.1") and "libfmi" in version, out


def test_wheel_matches_python_layer(layers):
    whl = [n for n in os.listdir(layers) if n.endswith(".whl")]
    march = {"x86_64": "x86_64", "arm64": "aarch64"}[ARCH]
    assert len(whl) == 1 and re.fullmatch(r"fmi-0\.1\.0-py3-none-manylinux_2_\d+_%s\.whl" % march, whl[0]), whl
    with zipfile.ZipFile(os.path.join(layers, whl[0])) as w, \
            zipfile.ZipFile(os.path.join(layers, "fmi-python-layer-%s.zip" % ARCH)) as l:
        for n in w.namelist():
            assert w.read(n) == l.read("python/" + n), n


def driver(args, env=None, timeout=300):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([sys.executable, str(LAMBDA / "invoke.py")] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, env=e, timeout=timeout)
    out = p.stdout.decode()
    sys.stdout.write(out[-3000:])
    return p.returncode, out


@pytest.mark.parametrize("n", [1, 4])
def test_python_example_function_from_the_zips(layers, tmp_path, fmirun, n):
    """The function zip's handler.py with the Python layer, as N local peers under fmirun."""
    fn = unzip(os.path.join(layers, "fmi-example-python.zip"), tmp_path / "task")
    with zipfile.ZipFile(os.path.join(layers, "fmi-example-python.zip")) as zf:
        assert zf.namelist() == ["handler.py"]
    opt = unzip(os.path.join(layers, "fmi-python-layer-%s.zip" % ARCH), tmp_path / "opt")
    rc, out = driver(["-n", str(n), "--local", "python", "--handler-dir", str(fn), "--fmirun", fmirun],
                     env={"PYTHONPATH": str(opt / "python")})
    assert rc == 0 and "%d/%d peers ok" % (n, n) in out


@pytest.fixture(scope="session")
def cpp_function(layers, tmp_path_factory):
    """The C++ function zip and the C/C++ layer unpacked side by side, as Lambda lays them out."""
    d = tmp_path_factory.mktemp("cppfn")
    opt = unzip(os.path.join(layers, "fmi-cpp-layer-%s.zip" % ARCH), d / "opt")
    task = unzip(os.path.join(layers, "fmi-example-cpp-%s.zip" % ARCH), d / "task")
    boot = task / "bootstrap"
    assert os.access(boot, os.X_OK)
    check_elf(boot)
    dyn = readelf("-d", str(boot))
    assert "libfmi.so.0" in dyn and "[/opt/lib]" in dyn, dyn  # NEEDED + RUNPATH of the layer mount
    assert "libstdc++" not in dyn, dyn  # linked statically: no dependence on the runtime's C++ library
    return boot, opt


@pytest.mark.parametrize("n", [1, 3])
def test_cpp_example_function_once(cpp_function, fmirun, n):
    boot, opt = cpp_function
    rc, out = driver(["-n", str(n), "--local", "cpp", "--binary", str(boot), "--fmirun", fmirun],
                     env={"LD_LIBRARY_PATH": str(opt / "lib")})  # Lambda has /opt/lib there
    assert rc == 0 and "%d/%d peers ok" % (n, n) in out


def test_cpp_example_function_as_custom_runtime(cpp_function, fmirun):
    """bootstrap speaks the Lambda Runtime API (against a local stand-in of it)."""
    boot, opt = cpp_function
    rc, out = driver(["-n", "4", "--local", "cpp-runtime", "--binary", str(boot), "--fmirun", fmirun],
                     env={"LD_LIBRARY_PATH": str(opt / "lib")})
    assert rc == 0 and "4/4 peers ok" in out


def test_cpp_layer_is_a_cmake_package(cpp_function, tmp_path, fmirun):
    """Build the example from source against the unpacked layer (find_package(FMI)) and run it."""
    _, opt = cpp_function
    b = tmp_path / "build"
    subprocess.run(["cmake", "-S", str(LAMBDA / "cpp"), "-B", str(b), "-DCMAKE_PREFIX_PATH=%s" % opt],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", str(b)], check=True, stdout=subprocess.DEVNULL)
    cache = (b / "CMakeCache.txt").read_text()
    assert "FMI_DIR:PATH=%s/lib/cmake/FMI" % opt in cache
    rc, out = driver(["-n", "2", "--local", "cpp", "--binary", str(b / "bootstrap"), "--fmirun", fmirun])
    assert rc == 0 and "2/2 peers ok" in out


def test_driver_payloads():
    rc, out = driver(["-n", "3", "--rendezvous", "203.0.113.7:10000", "--comm-name", "job-x", "--print-payloads"])
    assert rc == 0
    pl = json.loads(out)
    assert [p["peer_id"] for p in pl] == [0, 1, 2]
    assert all(p["num_peers"] == 3 and p["comm_name"] == "job-x" and p["rendezvous"] == "203.0.113.7:10000"
               for p in pl)
    rc, out = driver(["-n", "2"])  # AWS mode without a function: refused
    assert rc != 0 and "--function" in out


def cfn_lint():
    exe = os.path.join(os.path.dirname(sys.executable), "cfn-lint")
    if not os.access(exe, os.X_OK):
        pytest.fail("cfn-lint is not installed next to %s (pip install cfn-lint)" % sys.executable)
    return exe


def test_template_passes_cfn_lint(tmp_path):
    p = subprocess.run([cfn_lint(), str(LAMBDA / "template.yaml")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert p.returncode == 0, p.stdout.decode()
    # the check is live: a broken copy is rejected
    bad = tmp_path / "bad.yaml"
    bad.write_text((LAMBDA / "template.yaml").read_text().replace("Runtime: python3.12", "Runtime: python2.99"))
    p = subprocess.run([cfn_lint(), str(bad)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert p.returncode != 0 and b"python2.99" in p.stdout


def test_template_names_the_built_artifacts(layers):
    keys = re.findall(r"S3Key: !Sub \$\{ArtifactPrefix\}(\S+)", (LAMBDA / "template.yaml").read_text())
    assert len(keys) == 4, keys
    for k in keys:
        assert os.path.exists(os.path.join(layers, k.replace("${Architecture}", ARCH))), k


def test_foreign_architecture_is_built_or_refused_precisely(tmp_path):
    """Cross-building the other architecture (arm64 from x86_64): without the target's Rust
    standard library and a cross toolchain the build says exactly what is missing and produces
    nothing; with them it must produce artifacts of that architecture."""
    other = "arm64" if ARCH == "x86_64" else "x86_64"
    triple = {"arm64": "aarch64", "x86_64": "x86_64"}[other]
    machine = {"arm64": "AArch64", "x86_64": "X86-64"}[other]
    out = tmp_path / other
    p = subprocess.run([str(ROOT / "scripts" / "build-layers.sh"), "--arch", other, "--out", str(out)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ, PYTHON=sys.executable))
    text = p.stdout.decode()
    sys.stdout.write(text[-2000:])
    if p.returncode != 0:
        assert "cannot build the %s artifacts" % other in text and "nothing was built" in text, text
        assert "%s-unknown-linux-gnu" % triple in text or "%s-linux-gnu-" % triple in text, text
        assert not out.exists() or not any(n.endswith((".zip", ".whl")) for n in os.listdir(out))
    else:
        for z in ("fmi-cpp-layer-%s.zip" % other, "fmi-python-layer-%s.zip" % other,
                  "fmi-example-cpp-%s.zip" % other):
            d = unzip(out / z, tmp_path / z)
            for root, _, files in os.walk(d):
                for f in files:
                    if f in ("libfmi.so.0", "libfmi.so", "bootstrap") and not os.path.islink(os.path.join(root, f)):
                        assert machine in readelf("-h", os.path.join(root, f))


# --- the driver's AWS mode (boto3) against a local stand-in of the Lambda Invoke API ---------------

RUNNER = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import handler
class Context:
    memory_limit_in_mb = 512
    function_name = "fmi-example-python"
    aws_request_id = "local"
print(json.dumps(handler.handler(json.loads(sys.stdin.read()), Context())))
"""


class FakeLambda:
    """POST /2015-03-31/functions/NAME/invocations runs handler.py (from the function zip, with
    the Python layer on sys.path, no FMI_* environment) in a new process per invocation, like a
    cold-started Lambda, and answers as the Invoke API does (X-Amz-Function-Error on failure)."""

    def __init__(self, task_dir, opt_python):
        import http.server
        import threading

        fake = self
        self.calls = []

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.calls.append((self.path, json.loads(body)))
                env = {k: v for k, v in os.environ.items() if not k.startswith("FMI_")}
                env["PYTHONPATH"] = opt_python
                p = subprocess.run([sys.executable, "-c", RUNNER, task_dir], input=body,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=120)
                headers = [("Content-Type", "application/json"), ("X-Amz-Executed-Version", "$LATEST")]
                if p.returncode == 0:
                    out = p.stdout.strip()
                else:
                    out = json.dumps({"errorMessage": p.stderr.decode()[-2000:], "errorType": "Unhandled"}).encode()
                    headers.append(("X-Amz-Function-Error", "Unhandled"))
                self.send_response(200)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def rendezvous(fmirun):
    """A real fmi-rendezvous server on a free loopback port (the binary next to fmirun)."""
    import socket

    exe = os.path.join(os.path.dirname(fmirun), "fmi-rendezvous")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen([exe, "--listen", "127.0.0.1:%d" % port], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("fmi-rendezvous did not start")
            time.sleep(0.05)
    yield "127.0.0.1:%d" % port
    proc.terminate()
    proc.wait(10)


def test_driver_invokes_n_functions_at_once_through_boto3(layers, tmp_path, rendezvous):
    import boto3  # noqa: F401  (installed by scripts/suites/30-python.sh; missing = failure)

    task = unzip(os.path.join(layers, "fmi-example-python.zip"), tmp_path / "task")
    opt = unzip(os.path.join(layers, "fmi-python-layer-%s.zip" % ARCH), tmp_path / "opt")
    fake = FakeLambda(str(task), str(opt / "python"))
    try:
        rc, out = driver(["-n", "5", "--function", "fmi-example-python", "--rendezvous", rendezvous,
                          "--endpoint-url", fake.url, "--region", "us-east-1", "--comm-name", "boto-job"],
                         env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                              "AWS_EC2_METADATA_DISABLED": "true"})
    finally:
        fake.close()
    assert rc == 0 and "5/5 peers ok" in out, out
    assert sorted(p["peer_id"] for _, p in fake.calls) == [0, 1, 2, 3, 4]
    assert all(path == "/2015-03-31/functions/fmi-example-python/invocations" for path, _ in fake.calls)
    assert all(p["rendezvous"] == rendezvous and p["comm_name"] == "boto-job" for _, p in fake.calls)
