"""The answers of `prediction.py` for image files, written as text lines, CSV rows or JSON.

    writer = answers.writer("text" | "csv" | "json", stream)
    writer.answer(path, number_reading, single_reading_or_None); writer.error(path, message)
    writer.close()

An image holding one digit is answered as it always was (`digit.png: 7 (99% sure)`); one holding
a number as `photo.jpg: 2026 (2 99%, 0 97%, 2 not sure 64%, 6 99%)`.
"""
import csv
import json


def writer(form, stream):
    """The writer of answers in `form` ("text", "csv" or "json") to text `stream`."""
    return {"text": TextAnswers, "csv": CsvAnswers, "json": JsonAnswers}[form](stream)


def digit_line(reading):
    """A single digit's answer, as prediction.py has always printed it: "7 (99% sure)", or
    "not a digit (97% sure)" when the network reads it as none of the digits."""
    if reading.digit is None:
        return f"not a digit ({reading.not_a_digit:.0%} sure)"
    if reading.sure:
        return f"{reading.digit} ({reading.confidence:.0%} sure)"
    return f"{reading.digit} (not sure: {reading.confidence:.0%})"


def number_line(number):
    """A number's answer: "2026 (2 99%, 0 97%, 2 not sure 64%, 6 99%)", and any marks left out."""
    detail = ", ".join(f"{d.digit} {d.confidence:.0%}" if d.sure else f"{d.digit} not sure {d.confidence:.0%}"
                       for d in number.digits)
    left = len(number.left_out)
    return f"{number.number} ({detail})" + (f"; {left} mark{'s' if left > 1 else ''} left out" if left else "")


def found_digits(number, single):
    """[(digit, confidence, sure, box or None)] of an answer: the single reading (none when it is
    not a digit), or the number's digits."""
    if single is not None and single.digit is None:
        return []
    if single is not None:
        box = number.digits[0].box if len(number.digits) == 1 else None
        return [(single.digit, float(single.confidence), bool(single.sure), box)]
    return [(d.digit, float(d.confidence), bool(d.sure), d.box) for d in number.digits]


class TextAnswers:
    """One line per file on the stream; errors only on stderr (written by the caller)."""

    def __init__(self, stream):
        self.stream = stream

    def answer(self, path, number, single):
        text = digit_line(single) if single is not None else number_line(number)
        print(f"{path}: {text}", file=self.stream, flush=True)

    def error(self, path, message):
        pass

    def close(self):
        pass


class CsvAnswers:
    """A header, then a row per file: file, number, confidences (one per digit), sure, error."""

    def __init__(self, stream):
        self.stream, self.rows = stream, csv.writer(stream, lineterminator="\n")
        self.rows.writerow(["file", "number", "confidences", "sure", "error"])

    def answer(self, path, number, single):
        digits = found_digits(number, single)
        self.rows.writerow([path, "".join(str(d[0]) for d in digits), " ".join(f"{d[1]:.4f}" for d in digits),
                            str(bool(digits) and all(d[2] for d in digits)).lower(), ""])
        self.stream.flush()

    def error(self, path, message):
        self.rows.writerow([path, "", "", "", message])

    def close(self):
        self.stream.flush()


class JsonAnswers:
    """One JSON list of {"file", "number", "digits": [{digit, confidence, sure, box}], "left_out",
    "message"} or {"file", "error"}, written when all files are read."""

    def __init__(self, stream):
        self.stream, self.items = stream, []

    def answer(self, path, number, single):
        digits = [{"digit": d, "confidence": c, "sure": s, "box": None if b is None else list(b)}
                  for d, c, s, b in found_digits(number, single)]
        self.items.append({"file": str(path), "number": "".join(str(d["digit"]) for d in digits), "digits": digits,
                           "left_out": [list(b) for b in number.left_out],
                           "message": single.message if single is not None else number.message})

    def error(self, path, message):
        self.items.append({"file": str(path), "error": message})

    def close(self):
        json.dump(self.items, self.stream, indent=1)
        print(file=self.stream, flush=True)
