"""What several test files share: drawing digits from corner points, replaying strokes in the
Tk app (`helpers.replay`), a private X server (`helpers.xvfb`; the replay benchmark uses it too)."""
import numpy as np

SEVEN = [(0.15, 0.05), (0.85, 0.05), (0.35, 0.95)]      # a 7's corners in a unit box


def polyline(points, x0, y0, side, step=4):
    """Unit-box corner points -> integer canvas pixels every `step` pixels along the lines,
    the box placed at (x0, y0) with `side` pixels."""
    out = []
    for (ax, ay), (bx, by) in zip(points[:-1], points[1:]):
        n = max(1, int(np.hypot(bx - ax, by - ay) * side / step))
        for t in np.linspace(0, 1, n, endpoint=False):
            out.append((round(x0 + (ax + t * (bx - ax)) * side), round(y0 + (ay + t * (by - ay)) * side)))
    out.append((round(x0 + points[-1][0] * side), round(y0 + points[-1][1] * side)))
    return np.array(out)


def web_py_until_serving(args, cwd, timeout=30):
    """Start `python web.py ARGS` in `cwd`, wait for its "Serving the drawing page" line, stop it:
    (that line, or the last line before it ended; the rest of stdout; stderr)."""
    import subprocess
    import sys
    proc = subprocess.Popen([sys.executable, "web.py", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = ""
    try:
        for line in proc.stdout:
            if "Serving the drawing page" in line:
                break
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=timeout)
    return line, out, err
