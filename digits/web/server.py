"""Serving the app with waitress, with limits that hold against slow and many clients.

Waitress keeps every connection in one event loop and hands complete requests to its worker
threads. Its defaults let 100 clients that each send half a request and then a byte every few
seconds hold every connection slot for ever (a "slowloris"): the idle timeout never fires, and
there is no deadline for a request to arrive. Here:

- CONNECTION_LIMIT connections at once (waitress: 100), watched with poll() rather than select()
  (which cannot watch more than 1024 sockets);
- a connection that sends nothing for CHANNEL_TIMEOUT seconds is closed (waitress: 120);
- a request's headers must arrive within HEADER_DEADLINE seconds of its first byte, and its
  body within BODY_DEADLINE (an 8 MB photo at 1 Mbit/s takes 64 s), however it trickles;
- headers are at most MAX_HEADER_BYTES; a body at most twice the app's largest (the app itself
  refuses the bodies above its limits with a JSON 413, so none is ever spooled to disk).

`make_server` builds the server; `log_server_warnings` keeps waitress's "Task queue depth is N"
(every thread busy, requests waiting) to one line a minute in the log.
"""
import logging
import time

import waitress
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer

CONNECTION_LIMIT = 500
CHANNEL_TIMEOUT = 30            # seconds of silence before a connection is closed
CLEANUP_INTERVAL = 5            # how often waitress looks for silent connections, seconds
HEADER_DEADLINE = 10            # seconds from a request's first byte to the end of its headers
BODY_DEADLINE = 120             # seconds from a request's first byte to the end of its body
MAX_HEADER_BYTES = 64 << 10
QUEUE_WARNING_INTERVAL = 60     # seconds between two "Task queue depth" lines


class DeadlineChannel(HTTPChannel):
    """A waitress connection that closes when a request takes too long to arrive.

    The time is checked whenever bytes arrive (a trickling client sends some now and then); a
    client that sends nothing is closed by waitress's own CHANNEL_TIMEOUT.
    """

    request_started = 0.0

    def received(self, data):
        now = time.monotonic()
        if self.request is None:        # these bytes begin a new request
            self.request_started = now
        else:
            deadline = BODY_DEADLINE if self.request.headers_finished else HEADER_DEADLINE
            if now - self.request_started > deadline:
                self.will_close = True      # the event loop closes it next
                return False
        return super().received(data)


def make_server(app, host, port, threads, max_body_bytes):
    """A waitress server for `app` on host:port (not yet running: call its `run()`).

    Raises OSError (the port is taken, the address is not this machine's) or ValueError (an
    address that does not resolve).
    """
    sockets = {}
    server = waitress.create_server(
        app, map=sockets, host=host, port=port, threads=threads, ident="digits",
        connection_limit=CONNECTION_LIMIT, asyncore_use_poll=True, channel_timeout=CHANNEL_TIMEOUT,
        cleanup_interval=CLEANUP_INTERVAL, max_request_header_size=MAX_HEADER_BYTES,
        # Bodies are kept in memory, never spooled to a temporary file.
        max_request_body_size=max_body_bytes, inbuf_overflow=max_body_bytes + (1 << 16))
    for listener in list(sockets.values()):     # one per address the host resolves to
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = DeadlineChannel
    return server


class Throttle(logging.Filter):
    """Lets a log line that starts with `prefix` through at most once every `interval` seconds;
    the next one shown says how many were left out meanwhile."""

    def __init__(self, prefix, interval):
        super().__init__()
        self.prefix, self.interval = prefix, interval
        self.last, self.hidden = None, 0

    def filter(self, record):
        message = record.getMessage()
        if not message.startswith(self.prefix):
            return True
        now = time.monotonic()
        if self.last is not None and now - self.last < self.interval:
            self.hidden += 1
            return False
        if self.hidden:
            record.msg, record.args = f"{message} ({self.hidden} more such lines not shown)", ()
        self.last, self.hidden = now, 0
        return True


def log_server_warnings(stream):
    """waitress's own warnings as one "waitress: ..." line each on `stream`; "Task queue depth
    is N" at most once every QUEUE_WARNING_INTERVAL seconds."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("waitress: %(message)s"))
    handler.addFilter(Throttle("Task queue depth", QUEUE_WARNING_INTERVAL))
    log = logging.getLogger("waitress")
    log.addHandler(handler)
    log.setLevel(logging.WARNING)
    log.propagate = False
    return handler
