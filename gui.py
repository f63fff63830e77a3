"""Draw a digit with the mouse and let the trained network read it: `python gui.py`.

Every stroke goes both onto the Tk canvas (what the user sees) and into an off-screen
Pillow image of the same size (what the network reads). The app never reads the screen:
a screen grab would also catch any window lying over the canvas, fails on Wayland and
on scaled displays, and leaks whatever else is on screen.

Keys: Enter predicts, Escape clears. A prediction is also made whenever a stroke ends.
"""
import argparse
import sys
import tkinter as tk

import numpy as np
from PIL import Image, ImageDraw

import prediction
import weights
from preprocess import EmptyImageError, preprocess

CANVAS_WIDTH, CANVAS_HEIGHT = 350, 290      # the reference's canvas
BRUSH = 16                                  # stroke width in canvas pixels
BAR_WIDTH, BAR_HEIGHT = 350, 110


def draw_segment(draw, x0, y0, x1, y1, width=BRUSH):
    """Draw a round-ended line of `width` into a Pillow ImageDraw, as Tk draws it on screen."""
    r = width / 2
    if (x0, y0) != (x1, y1):
        draw.line((x0, y0, x1, y1), fill=255, width=width)
    # Round caps at both ends give the round joins a pen leaves between segments.
    draw.ellipse((x0 - r, y0 - r, x0 + r, y0 + r), fill=255)
    draw.ellipse((x1 - r, y1 - r, x1 + r, y1 + r), fill=255)


class DigitApp:
    """The drawing window's contents, inside any Tk `root` (a test can make and drive one)."""

    def __init__(self, root, weights_dir=weights.DEFAULT_WEIGHTS_DIR, brush=BRUSH):
        self.root = root
        self.brush = brush
        self.last = None
        root.title("Digit recogniser")
        root.configure(bg="grey15")

        self.canvas = tk.Canvas(root, width=CANVAS_WIDTH, height=CANVAS_HEIGHT, bg="black",
                                highlightthickness=0, cursor="pencil")
        self.canvas.grid(row=0, column=0, columnspan=2, padx=8, pady=8)
        self.canvas.bind("<Button-1>", self.on_press)
        self.canvas.bind("<B1-Motion>", self.on_motion)
        self.canvas.bind("<ButtonRelease-1>", self.on_release)

        tk.Button(root, text="Clear", width=12, command=self.clear).grid(row=1, column=0, pady=4)
        tk.Button(root, text="Prediction", width=12, command=self.predict).grid(row=1, column=1, pady=4)

        self.answer = tk.Label(root, text="", font=("Helvetica", 40, "bold"), width=3,
                               fg="white", bg="grey15")
        self.answer.grid(row=2, column=0, columnspan=2)
        self.message = tk.Label(root, text="", font=("Helvetica", 12), fg="white", bg="grey15",
                                wraplength=CANVAS_WIDTH, justify="center")
        self.message.grid(row=3, column=0, columnspan=2, padx=8)
        self.bars = tk.Canvas(root, width=BAR_WIDTH, height=BAR_HEIGHT, bg="grey15", highlightthickness=0)
        self.bars.grid(row=4, column=0, columnspan=2, padx=8, pady=8)

        root.bind("<Return>", lambda event: self.predict())
        root.bind("<KP_Enter>", lambda event: self.predict())
        root.bind("<Escape>", lambda event: self.clear())

        try:
            self.Theta1, self.Theta2 = weights.load_weights(weights_dir)
            self.weights_error = None
        except weights.WeightsError as e:
            self.Theta1 = self.Theta2 = None
            self.weights_error = f"Cannot recognise digits: {e}"
        self.clear()

    # Drawing -------------------------------------------------------------------------------

    def on_press(self, event):
        self.last = (event.x, event.y)
        self._segment(event.x, event.y, event.x, event.y)

    def on_motion(self, event):
        if self.last is None:           # a drag that began outside the canvas
            self.last = (event.x, event.y)
        x0, y0 = self.last
        self._segment(x0, y0, event.x, event.y)
        self.last = (event.x, event.y)

    def on_release(self, event):
        if self.last is not None:
            self._segment(*self.last, event.x, event.y)
        self.last = None
        self.predict()                  # live: the answer follows the drawing

    def _segment(self, x0, y0, x1, y1):
        r = self.brush / 2
        if (x0, y0) == (x1, y1):
            self.canvas.create_oval(x0 - r, y0 - r, x0 + r, y0 + r, fill="white", outline="white")
        else:
            self.canvas.create_line(x0, y0, x1, y1, fill="white", width=self.brush,
                                    capstyle=tk.ROUND, joinstyle=tk.ROUND)
        draw_segment(self.draw, x0, y0, x1, y1, self.brush)

    # Buttons -------------------------------------------------------------------------------

    def clear(self):
        """Wipe the drawing and the answer."""
        self.canvas.delete("all")
        self.image = Image.new("L", (CANVAS_WIDTH, CANVAS_HEIGHT), 0)
        self.draw = ImageDraw.Draw(self.image)
        self.last = None
        self._show(None, None, self.weights_error or "Draw a digit with the mouse. Enter: predict, Escape: clear.")

    def predict(self):
        """Read the drawing: returns (digit, ten probabilities), or (None, None) if there is none.

        The network's ten outputs are independent sigmoids; they are shown (and returned)
        divided by their sum so they read as probabilities.
        """
        if self.weights_error:
            self._show(None, None, self.weights_error)
            return None, None
        try:
            x = preprocess(self.image)
        except EmptyImageError as e:
            message = str(e)
            self._show(None, None, message[:1].upper() + message[1:] + ".")
            return None, None
        probs = prediction.output_shares(prediction.predict_proba(self.Theta1, self.Theta2, x)[0])
        digit = int(np.argmax(probs))
        self._show(digit, probs, f"It is a {digit} ({probs[digit]:.0%} sure).")
        return digit, probs

    # Display -------------------------------------------------------------------------------

    def _show(self, digit, probs, message):
        self.answer.configure(text="" if digit is None else str(digit))
        self.message.configure(text=message)
        self.bars.delete("all")
        slot = BAR_WIDTH / 10
        top, bottom = 8, BAR_HEIGHT - 20
        for d in range(10):
            x = d * slot + slot / 2
            self.bars.create_text(x, BAR_HEIGHT - 10, text=str(d), fill="white", font=("Helvetica", 11))
            if probs is not None:
                h = (bottom - top) * float(probs[d])
                colour = "#4caf50" if d == digit else "#888888"
                self.bars.create_rectangle(x - slot * 0.3, bottom - max(h, 1), x + slot * 0.3, bottom,
                                           fill=colour, outline="")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Draw a digit; the network says which it is.")
    parser.add_argument("--weights-dir", default=weights.DEFAULT_WEIGHTS_DIR,
                        help="folder holding Theta1.txt and Theta2.txt (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        root = tk.Tk()
    except tk.TclError as e:
        print(f"gui.py: cannot open a window ({e}); is there a display?", file=sys.stderr)
        return 1
    DigitApp(root, weights_dir=args.weights_dir)
    root.mainloop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
