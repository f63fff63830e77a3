"""Benchmark: the web server under load, with real pen-written digits.

Starts the real server (`python web.py`, waitress, in a subprocess on 127.0.0.1) with the
default network, and sends it real drawings -- UCI pendigits digits of writers 16-30 (the
shipped networks learnt from writers 1-15), placed on the 350x290 canvas with `fit_to_canvas`
-- from concurrent clients (threads, each with a keep-alive `http.client` connection).
Every phase is bounded in requests and in seconds.

1. Where a request's CPU time goes, in this process: drawing the strokes, preparing the
   28x28 input, the network; and the server's whole CPU time per request (/proc).
2. Waitress threads and BLAS threads side by side: the same load against servers started
   with each setting in turn.
3. The main run, with web.py's default settings: predictions/s, p50/p99 latency, failed
   requests, the server's memory at the start, every 2,000 requests and at the end, and the
   answers' accuracy against the labels.
4. The same with about 10 % bad requests mixed in: each bad one must get a 4xx, and the good
   ones the same answers as before.
5. The answers through /api/predict against the desktop app's path (`read_strokes` called
   directly): they must be identical.

    python -m benchmarks.bench_web [--requests 10000] [--clients 16] [--threads 1,2,4,8] [--rounds 3] [--model ID] [--quick]
"""
import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np

from benchmarks.pen_drawings import canvas_strokes
from digits import nets, recognise
from digits.data import pendigits
from digits.errors import UserInputError
from digits.imaging.prepare import prepare_image
from digits.imaging.strokes import CANVAS_HEIGHT, CANVAS_WIDTH, render
from digits.web.app import MAX_JSON_BYTES, MAX_POINTS

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN_WRITERS = 15
TICK = os.sysconf("SC_CLK_TCK")


# The server ----------------------------------------------------------------------------------------

class Server:
    """`python web.py --port 0 ...` in a subprocess; its port, memory and CPU time."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([sys.executable, os.path.join(REPO, "web.py"), "--port", "0", *args],
                                     cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.port = None
        for line in self.proc.stdout:
            found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
            if found:
                self.port = int(found.group(1))
                break
        if self.port is None:
            raise SystemExit(f"error: web.py did not start: {self.proc.stderr.read()}")
        self.problems = []          # stderr lines other than waitress's queue-depth warnings
        threading.Thread(target=self._drain, daemon=True).start()
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def _drain(self):
        for line in self.proc.stderr:
            if "Task queue depth" not in line and line.strip() not in ("", "Terminated."):
                self.problems.append(line.rstrip())

    def rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return int(next(line for line in f if line.startswith("VmRSS")).split()[1]) / 1024

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK      # utime + stime

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode


# The clients ----------------------------------------------------------------------------------------

class Result:
    def __init__(self, n):
        self.status = np.zeros(n, dtype=int)     # 0: not sent, -1: failed (no answer)
        self.latency = np.full(n, np.nan)
        self.answers = [None] * n
        self.seconds = 0.0
        self.sent = 0


def load(port, requests, clients, seconds, checkpoint=None, every=2000):
    """Send `requests` (a list of (method, path, body, content_type)) from `clients` threads,
    each over one keep-alive connection, until all are answered or `seconds` have passed.
    `checkpoint(done)` is called each time another `every` requests are answered."""
    n = len(requests)
    result = Result(n)
    lock = threading.Lock()
    state = {"next": 0, "done": 0}
    deadline = time.perf_counter() + seconds

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                i = state["next"]
                if i >= n or time.perf_counter() > deadline:
                    break
                state["next"] += 1
            method, path, body, content_type = requests[i]
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers={"Content-Type": content_type})
                response = conn.getresponse()
                data = response.read()
                result.latency[i] = time.perf_counter() - start
                result.status[i] = response.status
                result.answers[i] = json.loads(data)
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException, ValueError):
                result.status[i] = -1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            with lock:
                state["done"] += 1
                done = state["done"]
            if checkpoint and done % every == 0:
                checkpoint(done)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - start
    result.sent = state["next"]
    return result


def drawing_request(strokes):
    body = json.dumps({"strokes": [s.tolist() for s in strokes], "width": CANVAS_WIDTH, "height": CANVAS_HEIGHT})
    return ("POST", "/api/predict", body.encode(), "application/json")


def bad_requests():
    """Bad requests of every kind, each with the statuses it may get."""
    good = {"strokes": [[[10, 10], [100, 100]]], "width": CANVAS_WIDTH, "height": CANVAS_HEIGHT}

    def drawing(**changes):
        return json.dumps({**good, **changes}).encode()
    j = "application/json"
    return [
        (("POST", "/api/predict", b"{strokes: oops", j), {400}),
        (("POST", "/api/predict", b'{"strokes": [[[NaN, 2]]], "width": 350, "height": 290}', j), {400}),
        (("POST", "/api/predict", drawing(strokes=[[[10, 10], [5000, 10]]]), j), {400}),
        (("POST", "/api/predict", drawing(strokes=[[[1, "2"]]]), j), {400}),
        (("POST", "/api/predict", drawing(width=0), j), {400}),
        (("POST", "/api/predict", drawing(model="../../etc/passwd"), j), {400}),
        (("POST", "/api/predict", drawing(strokes=[[[10, 10]] * (MAX_POINTS + 1)]), j), {400}),
        (("POST", "/api/predict", b" " * (MAX_JSON_BYTES + 1), j), {413}),
        (("POST", "/api/predict", drawing(), "text/plain"), {415}),
        (("POST", "/api/predict-image", b"not an image", "image/png"), {400}),
        (("POST", "/api/nothing", b"", j), {404}),
    ]


# Reporting ------------------------------------------------------------------------------------------

def summary(result, good):
    """predictions/s, p50 and p99 latency (ms), failed: over the good requests answered."""
    answered = good & (result.status != 0)
    ok = answered & (result.status == 200)
    lat = result.latency[ok] * 1000
    failed = int(np.count_nonzero(answered & (result.status != 200)))
    return ok.sum() / result.seconds, np.percentile(lat, 50), np.percentile(lat, 99), failed, int(answered.sum())


def cpu_breakdown(drawings, network, repeat=300):
    """Mean milliseconds per drawing of each step of the recognition path, in this process."""
    sample = drawings[:repeat]
    t0 = time.process_time()
    images = [render(s, CANVAS_WIDTH, CANVAS_HEIGHT) for s in sample]
    t1 = time.process_time()
    inputs = [prepare_image(image) for image in images]
    t2 = time.process_time()
    for x in inputs:
        recognise.recognise(x, network)
    t3 = time.process_time()
    n = len(sample)
    return {"render (strokes -> 350x290 image)": (t1 - t0) / n * 1000,
            "prepare (image -> 28x28 input)": (t2 - t1) / n * 1000,
            f"network ({network.describe()})": (t3 - t2) / n * 1000}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=10_000, help="requests in the main run (default 10000)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--threads", default="1,2,4,8", help="waitress thread counts to compare (default 1,2,4,8)")
    parser.add_argument("--compare-requests", type=int, default=2000, help="requests per compared setting (default 2000)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each compared setting (default 3)")
    parser.add_argument("--seconds", type=float, default=180, help="time limit of each phase (default 180)")
    parser.add_argument("--unique", type=int, default=2000, help="distinct drawings (default 2000)")
    parser.add_argument("--model", metavar="ID", help="the network to read with (an id of /api/models; "
                        "default: web.py's default, the best pretrained one)")
    parser.add_argument("--quick", action="store_true", help="a short run: 2,000 requests, fewer settings")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.compare_requests, args.threads, args.unique, args.rounds = 2000, 600, "2,6", 600, 1
    from digits.blas import limit_blas
    limit_blas(1)                   # as the server: one BLAS thread

    try:
        digits = [d for d in pendigits.load() if d.writer > TRAIN_WRITERS]
        choices = {c.id: c for c in nets.choices()}
        if args.model is not None and args.model not in choices:
            raise UserInputError(f"unknown network '{args.model}'; choose one of {', '.join(choices)}")
        choice = choices[args.model] if args.model else next(iter(choices.values()))
        network = nets.load_network(choice.folder, choice.kind)
    except UserInputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    rng = np.random.default_rng(0)
    chosen = [digits[i] for i in rng.permutation(len(digits))[:args.unique]]
    drawings = canvas_strokes(chosen, rng)
    labels = np.array([d.label for d in chosen])
    bodies = [drawing_request(s) for s in drawings]
    points = [sum(len(s) for s in strokes) for strokes in drawings]
    print(f"{len(drawings)} distinct pendigits drawings (writers {TRAIN_WRITERS + 1}-30), {np.mean(points):.0f} points "
          f"on average, {np.mean([len(b[2]) for b in bodies]) / 1024:.1f} kB of JSON each; {args.clients} clients "
          f"with keep-alive connections; {os.cpu_count()} cores", flush=True)

    # 1. Where the CPU time goes -------------------------------------------------------------------
    steps = cpu_breakdown(drawings, network)
    print("\nCPU per request, recognition path alone (this process, 1 BLAS thread):")
    for name, ms in steps.items():
        print(f"  {name:40s} {ms:6.2f} ms")
    print(f"  {'total':40s} {sum(steps.values()):6.2f} ms", flush=True)

    def requests_for(n):
        return [bodies[i % len(bodies)] for i in range(n)]

    model = ["--model", choice.id]

    # 2. Threads side by side -----------------------------------------------------------------------
    settings = [(int(t), 1) for t in args.threads.split(",")]
    settings.append((max(t for t, _ in settings), 2))
    print(f"\nSettings side by side ({args.compare_requests} requests each, after 200 to warm up; "
          f"{args.rounds} rounds, the settings interleaved):")
    print(f"  {'waitress threads':>16s} {'BLAS threads':>12s} {'predictions/s':>14s} {'p50 ms':>8s} {'p99 ms':>8s} "
          f"{'failed':>7s} {'server CPU/request':>19s} {'server cores busy':>18s}")
    runs = {setting: [] for setting in settings}
    for threads, blas in settings * args.rounds:
        server = Server("--threads", str(threads), "--blas-threads", str(blas), *model)
        try:
            load(server.port, requests_for(200), args.clients, args.seconds)
            cpu0 = server.cpu_seconds()
            result = load(server.port, requests_for(args.compare_requests), args.clients, args.seconds)
            cpu = server.cpu_seconds() - cpu0
        finally:
            server.stop()
        rate, p50, p99, failed, answered = summary(result, np.ones(len(result.status), bool))
        row = (rate, p50, p99, failed, cpu / max(answered, 1) * 1000, cpu / result.seconds)
        runs[threads, blas].append(row)
        print(f"  {threads:16d} {blas:12d} {row[0]:14.1f} {row[1]:8.1f} {row[2]:8.1f} {row[3]:7d} "
              f"{row[4]:16.2f} ms {row[5]:18.2f}", flush=True)
    if args.rounds > 1:
        print("  median of the rounds:")
        for (threads, blas), rows in runs.items():
            m = np.median(np.array(rows), axis=0)
            print(f"  {threads:16d} {blas:12d} {m[0]:14.1f} {m[1]:8.1f} {m[2]:8.1f} {int(sum(r[3] for r in rows)):7d} "
                  f"{m[4]:16.2f} ms {m[5]:18.2f}", flush=True)

    # 3. The main run, web.py's defaults ------------------------------------------------------------
    from digits.web import defaults
    print(f"\nMain run: {args.requests} requests, web.py's defaults ({defaults.THREADS} waitress threads, "
          f"{defaults.BLAS_THREADS} BLAS thread):")
    server = Server(*model)
    memory = [("start", server.rss_mb())]
    try:
        cpu0 = server.cpu_seconds()
        main_run = load(server.port, requests_for(args.requests), args.clients, args.seconds,
                        checkpoint=lambda done: memory.append((f"after {done}", server.rss_mb())))
        cpu = server.cpu_seconds() - cpu0
        memory.append(("end", server.rss_mb()))

        # 4. The same with ~10 % bad requests mixed in ----------------------------------------------
        bad = bad_requests()
        mixed, expected, is_good = [], [], []
        mix_rng = np.random.default_rng(1)
        for i in range(args.compare_requests):
            if mix_rng.random() < 0.1:
                request, statuses = bad[mix_rng.integers(len(bad))]
                mixed.append(request)
                expected.append(statuses)
                is_good.append(False)
            else:
                mixed.append(bodies[i % len(bodies)])
                expected.append({200})
                is_good.append(True)
        mixed_run = load(server.port, mixed, args.clients, args.seconds)
        memory.append(("after the mixed run", server.rss_mb()))
        load(server.port, mixed, args.clients, args.seconds)       # again: does memory keep growing?
        memory.append(("after it again", server.rss_mb()))
    finally:
        code = server.stop()

    rate, p50, p99, failed, answered = summary(main_run, np.ones(len(main_run.status), bool))
    print(f"  {answered} answered in {main_run.seconds:.1f} s: {rate:.1f} predictions/s, p50 {p50:.1f} ms, "
          f"p99 {p99:.1f} ms, {failed} failed, {len(main_run.status) - main_run.sent} not sent (time limit)")
    print(f"  server CPU per request: {cpu / max(answered, 1) * 1000:.2f} ms (the recognition path: "
          f"{sum(steps.values()):.2f} ms; the rest is HTTP, JSON and Flask); {cpu / main_run.seconds:.2f} cores busy")
    print("  server memory (RSS): " + ", ".join(f"{name} {mb:.0f} MB" for name, mb in memory))
    n_main = np.flatnonzero(main_run.status == 200)
    predicted = np.array([main_run.answers[i]["digit"] if main_run.answers[i]["digit"] is not None else -1
                          for i in n_main])
    right = predicted == labels[n_main % len(labels)]
    print(f"  accuracy of the answers against the labels: {100 * right.mean():.2f} % of {len(n_main)}")

    is_good = np.array(is_good)
    statuses_ok = [mixed_run.status[i] in expected[i] for i in range(len(mixed)) if mixed_run.status[i] != 0]
    bad_sent = (~is_good) & (mixed_run.status != 0)
    rate, p50, p99, failed, answered = summary(mixed_run, is_good)
    same = all(mixed_run.answers[i]["probabilities"] == main_run.answers[i % len(bodies)]["probabilities"]
               for i in np.flatnonzero(is_good & (mixed_run.status == 200)) if main_run.status[i % len(bodies)] == 200)
    print(f"\nWith bad requests mixed in: {int(bad_sent.sum())} bad of {int((mixed_run.status != 0).sum())}; "
          f"{sum(1 for ok in statuses_ok if not ok)} answered with an unexpected status; bad ones got "
          f"{sorted(set(int(s) for s in mixed_run.status[bad_sent]))}")
    print(f"  good ones: {rate:.1f} predictions/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, {failed} failed, "
          f"answers {'identical to' if same else 'DIFFERENT from'} the clean run's")
    print(f"  server stopped with exit code {code} (143: SIGTERM, clean); "
          f"{len(server.problems)} other lines on its stderr" + (f": {server.problems[:3]}" if server.problems else ""))

    # 5. The web API against the desktop app's path -------------------------------------------------
    first = {}
    for i in n_main:
        first.setdefault(i % len(bodies), main_run.answers[i])
    same_digit = max_diff = 0
    for j, answer in first.items():
        reading = recognise.read_strokes(drawings[j], CANVAS_WIDTH, CANVAS_HEIGHT, network)
        same_digit += answer["digit"] == reading.digit
        if reading.digit is not None:
            max_diff = max(max_diff, float(np.max(np.abs(np.array(answer["probabilities"]) - reading.probabilities))))
    print(f"\n/api/predict against read_strokes (the desktop app's path) on {len(first)} drawings: "
          f"{same_digit} same digit, largest difference in a probability {max_diff:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
