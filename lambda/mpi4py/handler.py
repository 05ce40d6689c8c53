"""AWS Lambda function running an unchanged MPI program (mpi4py, or any MPI binary built for the
MPI standard ABI) as one process of an MPI job: the invocation is one peer, as one process under
``fmirun`` is. Runtime python3.12/3.13 with the fmi Python layer (it ships libfmi's
``libmpi_abi.so.1``); mpi4py built for the standard ABI goes into the function's package
(``MPI4PY_BUILD_MPIABI=1``, see docs/mpi4py.md).

The payload (lambda/invoke.py sends one per peer):

    {"peer_id": 0, "num_peers": 4, "comm_name": "job-42",
     "rendezvous": "203.0.113.7:10000",       # fmi-rendezvous server reachable by all functions
     "program": "mpi4py_pi.py",               # optional: in the function's directory (default:
     "args": ["100000"],                      #   $FMI_MPI_PROGRAM, else mpi4py_pi.py)
     "config": {...},                         # optional: libfmi configuration (docs/configuration.md),
     "timeout_ms": 30000}                     #   e.g. only Redis or S3 enabled; optional bound

The program runs in a child process started for this invocation: MPI allows one MPI_Init per
process, and Lambda reuses a warm process for later invocations, so each invocation gets a fresh
process with the environment fmirun would give it (FMI_PEER_ID, FMI_NUM_PEERS, FMI_COMM_NAME,
FMI_RENDEZVOUS, FMI_CONFIG) and libfmi's MPI library named for mpi4py (MPI4PY_LIBMPI) and first
on LD_LIBRARY_PATH. The child is bounded by the invocation's remaining time, and so is every
blocking MPI call in it (FMI_MPI_TIMEOUT). The function returns the program's exit status and the
end of its output; ``all_ok`` is true when the program exited with 0.
"""

import json
import os
import subprocess
import sys
import tempfile

import fmi.mpi

HERE = os.path.dirname(os.path.abspath(__file__))
TAIL = 4000  # characters of the program's output returned


def program_command(event):
    prog = event.get("program") or os.environ.get("FMI_MPI_PROGRAM") or "mpi4py_pi.py"
    path = prog if os.path.isabs(prog) else os.path.join(HERE, prog)
    if not os.path.exists(path):
        raise FileNotFoundError(f"the MPI program {path} is not in the function's package")
    args = [str(a) for a in event.get("args", [])]
    if path.endswith(".py"):
        return [sys.executable, path] + args
    return [path] + args


def child_environment(event, config_dir, seconds):
    lib = fmi.mpi.load()  # the layer's libmpi_abi.so.1 (or $MPI4PY_LIBMPI)
    env = dict(os.environ)
    env.update({
        "FMI_PEER_ID": str(int(event["peer_id"])),
        "FMI_NUM_PEERS": str(int(event["num_peers"])),
        "FMI_COMM_NAME": str(event["comm_name"]),
        "MPI4PY_LIBMPI": lib,
        "LD_LIBRARY_PATH": os.pathsep.join(
            p for p in [os.path.dirname(lib), os.environ.get("LD_LIBRARY_PATH", "")] if p),
        # every blocking MPI call ends before the invocation does
        "FMI_MPI_TIMEOUT": str(max(1.0, seconds - 2.0)),
    })
    if event.get("rendezvous"):
        env["FMI_RENDEZVOUS"] = str(event["rendezvous"])
    if event.get("config") is not None:
        cfg = event["config"]
        path = os.path.join(config_dir, "fmi-config.json")
        with open(path, "w") as f:
            f.write(cfg if isinstance(cfg, str) else json.dumps(cfg))
        env["FMI_CONFIG"] = path
    return env


def handler(event, context):
    remaining = context.get_remaining_time_in_millis() / 1000.0
    if event.get("timeout_ms"):
        remaining = min(remaining, int(event["timeout_ms"]) / 1000.0)
    seconds = max(1.0, remaining - 1.0)
    cmd = program_command(event)
    with tempfile.TemporaryDirectory(prefix="fmi-mpi-") as tmp:
        env = child_environment(event, tmp, seconds)
        try:
            p = subprocess.run(cmd, env=env, cwd=HERE, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=seconds)
            code, out = p.returncode, p.stdout
        except subprocess.TimeoutExpired as e:
            code, out = None, (e.stdout or b"") + b"\n(stopped: the invocation's time ran out)"
    return {
        "peer_id": int(event["peer_id"]),
        "num_peers": int(event["num_peers"]),
        "program": cmd[1:] if cmd[0] == sys.executable else cmd,
        "exit_code": code,
        "output": out.decode("utf-8", "replace")[-TAIL:],
        "all_ok": code == 0,
    }
