"""Benchmark: the web server's memory and latency while it is sent huge images at once.

Starts the real server (`python web.py --port 0`, from REPO or from --repo DIR, so that an
older checkout can be measured the same way), sends it `--uploads` copies at once of a tiny
lossless WebP that decodes to 7000 x 7000 pixels (about 2 kB on the wire, 49 megapixels
decoded), and meanwhile times a small request (`GET /api/models`) every 0.1 s. It reports
the server's resident memory (from /proc) before, its peak, and after, every upload's status
and the slowest small request.

    python -m benchmarks.bench_big_uploads [--uploads 4] [--side 7000] [--repo DIR]
"""
import argparse
import http.client
import io
import os
import re
import subprocess
import sys
import threading
import time

from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def bomb(side):
    """A lossless WebP of side x side pixels: a white page with one black square (tiny to send)."""
    image = Image.new("L", (side, side), 255)
    image.paste(0, (side // 3, side // 3, side // 2, side // 2))
    out = io.BytesIO()
    image.convert("RGB").save(out, format="WEBP", lossless=True, quality=0, method=0)
    return out.getvalue()


def memory(pid):
    """(VmRSS, VmHWM) of process `pid`, MB."""
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return tuple(int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))


def request(port, method, url, body=None, headers=None, timeout=120):
    """(status, seconds) of one request on a fresh connection."""
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, url, body=body, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - start
    finally:
        conn.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=4)
    parser.add_argument("--side", type=int, default=7000)
    parser.add_argument("--repo", default=REPO, help="checkout whose web.py is measured (default: this one)")
    args = parser.parse_args(argv)
    body = bomb(args.side)
    print(f"upload: {len(body)} bytes of lossless WebP, {args.side} x {args.side} pixels")
    proc = subprocess.Popen([sys.executable, "web.py", "--port", "0"], cwd=args.repo,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = next(int(m.group(1)) for line in proc.stdout
                    for m in [re.search(r"http://127\.0\.0\.1:(\d+)/", line)] if m)
        request(port, "GET", "/api/models")
        before = memory(proc.pid)[0]
        statuses, small = [], []
        headers = {"Content-Type": "image/webp"}
        uploads = [threading.Thread(target=lambda: statuses.append(
            request(port, "POST", "/api/predict-image", body, headers)[0])) for _ in range(args.uploads)]
        for t in uploads:
            t.start()
        while any(t.is_alive() for t in uploads):
            small.append(request(port, "GET", "/api/models")[1])
            time.sleep(0.1)
        for t in uploads:
            t.join()
        time.sleep(1)
        after, peak = memory(proc.pid)
        print(f"statuses: {sorted(statuses)}")
        print(f"server memory: before {before:.0f} MB, peak {peak:.0f} MB, after {after:.0f} MB")
        print(f"GET /api/models meanwhile: {len(small)} requests, slowest {max(small):.2f} s")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
