"""In-process checks of the binding (no launcher): constants and functions against
include/fmi.h, the installed layout, a one-peer communicator with every kind of value, and
errors raised before any communication."""

import os
import pickle
import re
import uuid

import numpy as np
import pytest

import fmi
from fmi import _capi
from conftest import ROOT

HEADER = ROOT / "include" / "fmi.h"


def header_constants():
    text = HEADER.read_text()
    consts = dict((m.group(1), int(m.group(2))) for m in re.finditer(r"#define (FMI_\w+) (\d+)", text))
    consts.update((m.group(1), int(m.group(2))) for m in re.finditer(r"^\s+(FMI_\w+) = (\d+),", text, re.M))
    funcs = set(re.findall(r"^[\w\s\*]*?\b(fmi_\w+)\(", text, re.M))
    return consts, funcs


def test_constants_and_functions_match_the_header():
    consts, funcs = header_constants()
    assert len(consts) > 30 and len(funcs) > 20
    for name, value in consts.items():
        if name.startswith("FMI_VERSION_"):
            continue
        assert getattr(_capi, name) == value, name
    assert funcs == set(_capi._PROTOTYPES), funcs ^ set(_capi._PROTOTYPES)
    # every C datatype and op is reachable from Python
    codes = {v for k, v in consts.items() if k in (
        "FMI_INT8", "FMI_UINT8", "FMI_INT16", "FMI_UINT16", "FMI_INT32", "FMI_UINT32",
        "FMI_INT64", "FMI_UINT64", "FMI_FLOAT", "FMI_DOUBLE", "FMI_BYTE")}
    assert {fmi.types(d).code for d in fmi.datatypes} == codes
    assert {o.value for o in fmi.op if o is not fmi.op.custom} == {
        v for k, v in consts.items() if k.startswith("FMI_OP_")}
    assert {x.value for x in fmi.links} == {v for k, v in consts.items() if k.startswith("FMI_LINK_")}
    for d in fmi.datatypes:
        t = fmi.types(d)
        assert fmi.datatype_size(t.code) == fmi._INFO[t.code][1]


def test_version_and_library():
    assert fmi.version() == fmi.__version__ == "0.1.0"
    assert os.path.exists(fmi.library_path)
    if os.environ.get("FMI_EXPECT_INSTALLED") == "1":
        pkg = os.path.dirname(fmi.__file__)
        assert "site-packages" in pkg, pkg
        assert not pkg.startswith(str(ROOT)), pkg
        assert fmi.library_path == os.path.join(pkg, "libfmi.so"), fmi.library_path


def test_original_names():
    for name in ("int", "double", "int_list", "double_list"):
        assert isinstance(getattr(fmi.datatypes, name), fmi.datatypes)
    for name in ("sum", "prod", "max", "min", "custom"):
        assert isinstance(getattr(fmi.op, name), fmi.op)
    assert {h.name for h in fmi.hints} == {"fast", "cheap"}
    t = fmi.types(fmi.datatypes.int_list, 4)
    assert t.num_objects == 4 and t.is_list and "int_list" in repr(t)
    f = fmi.func(fmi.op.custom, lambda a, b: a, True, False)
    assert f.commutative and not f.associative
    with pytest.raises(TypeError):
        fmi.func(fmi.op.custom)
    with pytest.raises(TypeError):
        fmi.func(fmi.op.sum, lambda a, b: a)
    with pytest.raises(TypeError):
        fmi.types("int")
    with pytest.raises(fmi.InvalidArgument):
        fmi.types(fmi.datatypes.int_list, -1)


@pytest.fixture
def solo():
    comm = fmi.Communicator(0, 1, None, "pytest-solo-%s" % uuid.uuid4().hex[:8], 256)
    yield comm
    comm.finalize()


def test_one_peer_all_operations(solo):
    c = solo
    assert (c.rank, c.size, c.peer_id, c.num_peers) == (0, 1, 0, 1)
    T, D = fmi.types, fmi.datatypes
    s = fmi.func(fmi.op.sum)
    assert c.allreduce(3, s, T(D.int)) == 3
    assert c.reduce(2.5, 0, s, T(D.double)) == 2.5
    assert c.scan([1, 2], s, T(D.int_list, 2)) == [1, 2]
    assert c.bcast([1.5], 0, T(D.double_list, 1)) == [1.5]
    assert c.gather(4, 0, T(D.int)) == [4]
    assert c.scatter([7, 8], 0, T(D.int_list, 2)) == [7, 8]
    assert c.allgather([1, 2], T(D.int_list, 2)) == [1, 2]
    assert c.alltoall([5], T(D.int_list, 1)) == [5]
    assert c.allreduce(b"\x0f", fmi.func(fmi.op.band), T(D.byte)) == 15
    assert c.allreduce(b"\x0f\xf0", fmi.func(fmi.op.bxor), T(D.byte_list, 2)) == bytearray(b"\x0f\xf0")
    a = np.arange(6, dtype=np.uint16).reshape(2, 3)
    r = c.allreduce(a, fmi.func(fmi.op.max))
    assert r.dtype == np.uint16 and r.shape == (6,) and (r == a.ravel()).all()
    assert c.allreduce(np.zeros(0, np.int8), s).shape == (0,)
    c.barrier()
    c.hint(fmi.hints.fast)
    c.reset_counters()
    c.barrier()
    assert c.counters("direct")["operations"] == 1 and c.counters()["operations"] == 1
    assert c.counters("s3") == {"operations": 0, "bytes": 0, "time_ns": 0, "errors": 0}
    with pytest.raises(fmi.InvalidArgument):
        c.counters("carrier-pigeon")
    c.set_channel("direct")
    c.set_channel(None)
    with pytest.raises(fmi.InvalidArgument):
        c.set_channel("redis")
    c.set_timeout(1234)
    assert c.timeout == 1234
    assert "peer 0 of 1" in repr(c)
    assert c.peer_link(0) is fmi.links.self
    with pytest.raises(fmi.InvalidArgument):
        c.peer_link(1)


def test_context_manager_and_finalize():
    with fmi.Communicator(0, 1, None, "pytest-ctx-%s" % uuid.uuid4().hex[:8]) as c:
        c.barrier()
    assert "finalized" in repr(c)
    with pytest.raises(fmi.InvalidArgument) as e:
        c.barrier()
    assert e.value.status == fmi._capi.FMI_ERR_INVALID_ARG


def test_init_errors(tmp_path, monkeypatch):
    bad = tmp_path / "fmi.json"
    bad.write_text('{"backends": {"Direct": {"enabled": true, "port": "not a port"}}}')
    with pytest.raises(fmi.FMIError) as e:
        fmi.Communicator(0, 1, str(bad), "pytest-bad-config")
    assert e.value.status == fmi._capi.FMI_ERR_CONFIG and e.value.status_name == "FMI_ERR_CONFIG"
    assert "port" in e.value.message
    with pytest.raises(fmi.InvalidArgument) as e:
        fmi.Communicator(3, 2, None, "pytest-bad-peer")
    assert e.value.status == 2 and e.value.message
    with pytest.raises(fmi.InvalidArgument):
        fmi.Communicator(-1, 2, None, "pytest-negative")
    monkeypatch.delenv("FMI_PEER_ID", raising=False)
    with pytest.raises(fmi.FMIError) as e:
        fmi.Communicator.from_env()
    assert "FMI_PEER_ID" in e.value.message


def test_exceptions_pickle():
    e = fmi.Timeout(4, "waited for peer 3")
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is fmi.Timeout and e2.status == 4 and e2.message == "waited for peer 3"
    assert isinstance(e2, RuntimeError) and isinstance(e2, TimeoutError)
    assert str(fmi.FMIError(10)) == "FMI_ERR_INTERNAL: " + fmi._capi.strerror(10)
