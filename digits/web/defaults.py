"""The web server's defaults (`python web.py`), measured with `python -m benchmarks.bench_web`."""
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000
THREADS = 4             # waitress worker threads
BLAS_THREADS = 1        # BLAS threads per matrix product: one drawing at a time is fastest on one
