"""Draw digits in a web browser, with the mouse, a pen or a finger: `python web.py`.

Serves the drawing page and its JSON API (digits/web; the README's "Draw digits in a web
browser" describes the API) on http://127.0.0.1:8000. The page reads every drawing with the
desktop app's recognition path, so a drawing gets the same answer on the page as in
`python gui.py`.

    python web.py [--host HOST] [--port PORT] [--model ID | --weights-dir DIR] [--threads N]
                  [--samples FILE]

With `--samples FILE` the page offers "That was a 0..9" buttons under each answer, and the
server keeps each drawing so labelled in that SQLite file (digits/samples; the desktop app's
file by default is `python -m digits.samples --help`'s). Without it nothing is kept.

Why Flask served by waitress: Flask is how this field usually puts a Python model behind a
small JSON API and page; waitress is a production-grade WSGI server (Flask's own server is
for development only, and a hand-written HTTP parser would be a liability). Both are pure
Python wheels: `pip install` works everywhere, Windows included, with no compiler and no build
step, like the rest of the project. Waitress answers requests in a pool of threads, and the
heavy steps of a reading run in C code that releases the GIL (Pillow's resizing, SciPy's
distance transform, NumPy's matrix products), so the threads share the cores; one BLAS thread
per product is best for one drawing at a time (measured: python -m benchmarks.bench_web).

By default it listens on 127.0.0.1 only: just this machine can open the page. `--host 0.0.0.0`
makes it listen on every network interface, so that a phone or tablet on the same network can
draw on it; then everyone who can reach this machine can use it (there is no login).
Ctrl-C or SIGTERM stops it.
"""
import sys

try:
    import argparse
    import ipaddress
    import signal
    import socket

    from digits.cli import Terminated, run_reporting_errors, whole_number
    from digits.errors import UserInputError
    from digits.web.defaults import BLAS_THREADS, DEFAULT_HOST, DEFAULT_PORT, THREADS
except KeyboardInterrupt:       # Ctrl-C while the libraries load: no traceback
    sys.exit(130)
except ImportError as error:    # ... also when it cut a C extension's start short
    from digits.cli import interrupted_import
    if interrupted_import(error):
        sys.exit(130)
    raise

def listen_address(parser, host):
    """Check `--host`; whether every address it names is loopback (this machine only).

    An empty or unknown name stops with one `error:` line and exit code 2, before anything loads.
    """
    def error(message):
        parser.exit(2, f"{parser.prog}: error: argument --host: {message}\n")

    if not host.strip():
        error("give an address to listen on, such as 127.0.0.1 (this machine) or 0.0.0.0 (every network interface)")
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as e:
        error(f"cannot find the address {host!r} ({getattr(e, 'strerror', None) or e}); "
              "give an address of this machine, such as 127.0.0.1 or 0.0.0.0")
    return all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in found)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Serve a web page to draw digits on (mouse, pen or finger) and let a network read them.",
        epilog="examples:  python web.py                     (then open http://127.0.0.1:8000)\n"
               "           python web.py --host 0.0.0.0      (a phone on the same network can draw too)\n"
               "           python web.py --weights-dir weights",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}: this machine only; "
                             "0.0.0.0: every network interface, so everyone on the network can use it)")
    parser.add_argument("--port", type=whole_number(0), default=DEFAULT_PORT,
                        help=f"port to listen on (default {DEFAULT_PORT}; 0: any free port)")
    parser.add_argument("--model", metavar="ID",
                        help="which network reads unless the page picks another: an id of /api/models such as "
                             "mlp or trained-mlp (default: the best pretrained one); with --weights-dir, which "
                             "kind of those saved there")
    parser.add_argument("--weights-dir", metavar="DIR",
                        help="read with the network saved in DIR only (as python gui.py --weights-dir DIR)")
    parser.add_argument("--samples", metavar="FILE",
                        help="keep the drawings users label with the page's 'That was a...' buttons in FILE "
                             "(an SQLite samples file, made if missing; gui.py keeps its samples in "
                             "~/.local/share/digits/samples.sqlite). Default: keep nothing, show no buttons")
    parser.add_argument("--threads", type=whole_number(1), default=THREADS,
                        help=f"requests answered at the same time (default {THREADS})")
    parser.add_argument("--blas-threads", type=whole_number(1), default=BLAS_THREADS,
                        help=f"BLAS threads per matrix product (default {BLAS_THREADS})")
    args = parser.parse_args(argv)
    if args.port > 65535:
        parser.error(f"argument --port: must be a port number from 0 to 65535, got {args.port}")
    args.loopback = listen_address(parser, args.host)
    return args


def network_choices(args):
    """What the page offers to read with (a function giving the current list: networks trained
    while the server runs are offered too), and the default: as the desktop app (gui.py)."""
    from digits import nets
    return (lambda: nets.choices(weights_dir=args.weights_dir, kind=args.model)), \
        (args.model if args.weights_dir is None else "given")


def serve(app, host, port, threads, loopback=True):
    """Serve `app` with waitress until Ctrl-C or SIGTERM (then KeyboardInterrupt / Terminated).

    `loopback`: whether `host` is this machine only; if not, say who can reach the page."""
    from digits.web.app import MAX_IMAGE_BYTES
    from digits.web.server import make_server
    try:
        # Flask refuses bodies over its limits with a JSON 413; waitress cuts off anything twice as large itself.
        server = make_server(app, host, port, threads, max_body_bytes=2 * MAX_IMAGE_BYTES)
    except (OSError, ValueError) as e:
        raise UserInputError(f"cannot listen on {host}:{port} ({getattr(e, 'strerror', None) or e}); "
                             "choose another --port (or --host)") from None
    stopped = []

    def stop(signum, frame):
        stopped.append(signum)      # waitress's loop catches either and shuts its threads down
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, f"[{host}]" if ":" in host else host)
        print(f"Serving the drawing page on http://{shown}:{server.effective_port}/ (Ctrl-C stops it)", flush=True)
        if not loopback:
            print(f"note: listening on {host}: everyone who can reach this machine on port "
                  f"{server.effective_port} can use the page and its API (there is no login)", flush=True)
        server.run()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        server.close()
    if stopped:
        raise Terminated() if stopped[0] == signal.SIGTERM else KeyboardInterrupt()


def run(args):
    from digits.blas import limit_blas

    from digits.web.app import create_app
    from digits.web.server import log_server_warnings
    choices, default = network_choices(args)
    samples = None
    if args.samples is not None:
        from digits.samples import SampleStore
        samples = SampleStore(args.samples)     # a damaged file stops here, with one line
        print(f"Keeping labelled drawings in {samples.path} ({samples.count()} so far)")
    app = create_app(choices, default, samples, local_only=args.loopback)
    networks = app.extensions["digits.networks"]
    for choice, error in networks.skipped:
        print(f"note: not offering {choice.label}: {error}", file=sys.stderr)
    for model_id, (choice, network) in networks.loaded.items():
        print(f"Reading with: {choice.label} ({network.describe()})"
              + (", the default" if model_id == networks.default else ""))
    limit_blas(args.blas_threads)      # for the whole process: every server thread
    log_server_warnings(sys.stderr)
    serve(app, args.host, args.port, args.threads, args.loopback)
    return 0


def main(argv=None):
    return run_reporting_errors(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
