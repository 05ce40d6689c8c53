"""moto_server, handling one request at a time.

moto checks `If-None-Match: *` and then writes, in two steps, while its server runs requests on
several threads: two concurrent conditional writes of one key can then both succeed. AWS S3
(and MinIO) perform conditional writes atomically, and libfmi's S3 channel relies on that for its
counters (barriers). A lock around every request gives moto the same guarantee; moto is one
Python process, so it costs no parallelism. Arguments are moto_server's (-H HOST -p PORT).
"""

import threading

import moto.server as server

_lock = threading.Lock()
_run_simple = server.run_simple


class _OneAtATime:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        with _lock:
            # Materialise the response inside the lock: the request is complete when it ends.
            return list(self.app(environ, start_response))


def _run(host, port, app, **kwargs):
    return _run_simple(host, port, _OneAtATime(app), **kwargs)


server.run_simple = _run

if __name__ == "__main__":
    server.main()
