"""jindu serve's gunicorn worker: gunicorn's threaded worker (gthread), made to share the load
fairly between the processes.

gthread takes every connection it is offered and queues the requests behind its own threads,
and a kept-alive connection stays with the process that took it. When 50 clients connected at
once, one process took 30 of them and another 3; a page on the busy process waited three times
as long as on the idle one (100,000 persons on 2 cores: p50 0.5 s, p95 1.4 s). This worker

* takes a new connection only while one of its threads is free, so the kernel's queue hands it
  to a process that can serve it now;
* answers "Connection: close" when all its threads are busy, so that client's next request
  goes through that shared queue too instead of waiting behind this process's own;
* waits for a new connection's first request in its poller, not in a thread: gthread gives the
  connection a thread that waits up to 5 s for the request, and a browser opens connections
  before it has anything to send (with one thread a process, users pausing about a second
  between pages waited 0.8 s at p95 for that).

A quiet server keeps its connections alive as before; a busy one serves in arrival order.
"""

import errno
import selectors
import time
from functools import partial

from gunicorn.workers.gthread import DEFAULT_WORKER_DATA_TIMEOUT, TConn, ThreadWorker


class BalancedThreadWorker(ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Requests handed to the threads and not finished (counted on the main thread).
        self.in_flight = 0

    def accept(self, listener):
        # gthread's accept, parking the connection with the poller as gthread does with a
        # connection whose request did not come within its 5 s (finish_request, _DEFER): the
        # poller hands it to a thread once the request arrives, or closes it after keep-alive.
        try:
            sock, address = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        sock.setblocking(False)
        conn = TConn(self.cfg, sock, address, listener.getsockname())
        conn.timeout = time.monotonic() + (self.cfg.keepalive or DEFAULT_WORKER_DATA_TIMEOUT)
        self.pending_conns.append(conn)
        self.poller.register(sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn))

    def enqueue_req(self, conn):
        self.in_flight += 1
        super().enqueue_req(conn)

    def finish_request(self, conn, fs):
        self.in_flight -= 1
        super().finish_request(conn, fs)

    def wait_for_and_dispatch_events(self, timeout):
        # run() enables accepting whenever the connection limit allows; only while a thread is
        # free, here (run() calls this right after, on the same main thread).
        self.set_accept_enabled(self.nr_conns < self.worker_connections and self.in_flight < self.cfg.threads)
        super().wait_for_and_dispatch_events(timeout)

    def handle_request(self, req, conn):
        # In a worker thread; in_flight is read as the main thread last left it.
        if self.in_flight >= self.cfg.threads:
            req.must_close = True
        return super().handle_request(req, conn)
