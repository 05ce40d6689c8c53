"""The GIL is released while a call blocks (2 peers): peer 0 blocks in recv for ~1 s (peer 1
sleeps before sending) while a pure-Python thread counts; if the GIL were held, the thread could
not run at all during the recv. A user op (a Python callback) also runs while that thread spins."""

import threading
import time

import fmi

comm = fmi.Communicator.from_env()
R = comm.rank
T = fmi.types(fmi.datatypes.int)

if R == 0:
    stop = threading.Event()
    ticks = [0]

    def spin():
        while not stop.is_set():
            ticks[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    time.sleep(0.1)
    t0, c0 = time.monotonic(), ticks[0]
    v = comm.recv(1, T)
    dt, during = time.monotonic() - t0, ticks[0] - c0
    s = comm.allreduce(5, fmi.func(fmi.op.custom, lambda a, b: a * 10 + b, False, False), T)
    stop.set()
    t.join()
    print("blocked %.2f s in recv; the other thread ran %d iterations meanwhile" % (dt, during))
    assert v == 7 and s == 57, (v, s)
    assert dt > 0.7, dt
    assert during > 100000, "the GIL was not released: %d iterations in %.2f s" % (during, dt)
else:
    time.sleep(1.0)
    comm.send(7, 0, T)
    comm.allreduce(7, fmi.func(fmi.op.custom, lambda a, b: a * 10 + b, False, False), T)
comm.finalize()
