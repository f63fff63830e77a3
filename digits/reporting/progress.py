"""A progress line on a terminal: images/s and time left, redrawn in place."""
import sys
import time


def progress_printer(stream=None, every=0.25):
    """A `progress(done, total, seconds)` callback drawing one updating line (images/s, time
    left in the epoch) on `stream` (sys.stderr by default), at most every `every` seconds;
    erased when done reaches total."""
    stream = stream or sys.stderr
    last = [0.0]

    def show(done, total, seconds):
        now = time.perf_counter()
        if done < total and now - last[0] < every:
            return
        last[0] = now
        if done >= total:
            stream.write("\r" + " " * 64 + "\r")
        else:
            rate = done / seconds if seconds > 0 else 0.0
            left = f"{(total - done) / rate:.0f} s left" if rate > 0 else ""
            stream.write(f"\r  {done:,}/{total:,} images  {rate:,.0f} images/s  {left}   ")
        stream.flush()
    return show
