"""Draw a digit or a whole number with the mouse and let a network read it: `python gui.py`.

Every stroke goes both onto the Tk canvas (what the user sees) and into an off-screen
Pillow image of the same size (what the network reads). The app never reads the screen:
a screen grab would also catch any window lying over the canvas, fails on Wayland and
on scaled displays, and leaks whatever else is on screen.

It reads with the best pretrained network unless told otherwise, shows which network reads,
and switches in one click to another one (the other pretrained ones, and the network you
trained with `python main.py`, when there is one). It also shows the 28x28 picture the
network actually read, so you can see why a drawing fails.

A number is read as `digits.recognise.read_number_strokes` reads it (the API's POST /api/read):
a box around each digit with its digit and confidence; the buttons under the canvas pick the
digit whose 28x28 input and ten shares are shown. One digit is shown exactly as it always was.
The canvas grows with the window.

Keys: Enter predicts, Escape clears, Ctrl-Z takes back the last stroke. A prediction is also
made whenever a stroke ends.
"""
import sys

try:
    import argparse
    import tkinter as tk

    import numpy as np
    from PIL import Image, ImageDraw, ImageTk

    from digits import nets, recognise
    from digits.errors import WeightsError
    from digits.imaging.strokes import BRUSH, CANVAS_HEIGHT, CANVAS_WIDTH, draw_segment
except KeyboardInterrupt:       # Ctrl-C while the libraries load: no traceback
    sys.exit(130)

BAR_WIDTH, BAR_HEIGHT = 250, 110
NUMBER_WIDTH = 700              # the canvas's width at start: room for a number
BOX = "#ffb300"                 # the boxes around the digits read
INPUT_ZOOM = 4                  # the 28x28 input is shown 4x enlarged
BG, FG = "grey15", "white"


class DigitApp:
    """The drawing window's contents, inside any Tk `root` (a test can make and drive one).

    With no `weights_dir` it reads with the best pretrained network, as `python gui.py` does;
    `weights_dir` reads with the network saved there instead.
    """

    def __init__(self, root, weights_dir=None, brush=BRUSH):
        self.root = root
        self.brush = brush
        self.last = None
        self.network = None
        self.weights_error = None
        root.title("Digit recogniser")
        root.configure(bg=BG)
        # Content centred in the window, whatever its size; never smaller than the content.
        root.columnconfigure(0, weight=1)
        root.rowconfigure(0, weight=1)
        frame = tk.Frame(root, bg=BG)
        frame.grid(row=0, column=0, sticky="nsew")
        frame.columnconfigure(0, weight=1)
        frame.columnconfigure(1, weight=1)
        frame.rowconfigure(0, weight=1)
        self.strokes = []               # what was drawn: lists of (x, y), as the API takes them
        self.selected = None            # which digit of a number shows its input and shares
        self.size = (NUMBER_WIDTH, CANVAS_HEIGHT)

        self.canvas = tk.Canvas(frame, width=NUMBER_WIDTH, height=CANVAS_HEIGHT, bg="black",
                                highlightthickness=0, cursor="pencil")
        self.canvas.grid(row=0, column=0, columnspan=2, padx=8, pady=8, sticky="nsew")
        self.canvas.bind("<Configure>", self.on_resize)
        self.canvas.bind("<Button-1>", self.on_press)
        self.canvas.bind("<B1-Motion>", self.on_motion)
        self.canvas.bind("<ButtonRelease-1>", self.on_release)

        self.digit_row = tk.Frame(frame, bg=BG)        # one button per digit of a number
        self.digit_row.grid(row=7, column=0, columnspan=2)
        tk.Button(frame, text="Clear", width=12, command=self.clear).grid(row=1, column=0, pady=4)
        tk.Button(frame, text="Prediction", width=12, command=self.predict).grid(row=1, column=1, pady=4)

        # Which network reads: one click to switch.
        self.choices = nets.choices()
        if weights_dir is not None:
            self.choices = [nets.Choice("given", f"network in {weights_dir}", weights_dir, None)]
        chooser = tk.Frame(frame, bg=BG)
        chooser.grid(row=2, column=0, columnspan=2, pady=2)
        tk.Label(chooser, text="Reading with:", fg=FG, bg=BG).pack(side=tk.LEFT)
        self.network_name = tk.StringVar(root)
        labels = [choice.label for choice in self.choices] or ["no network"]
        self.network_menu = tk.OptionMenu(chooser, self.network_name, *labels, command=self.use_network)
        self.network_menu.configure(highlightthickness=0)
        self.network_menu.pack(side=tk.LEFT, padx=4)

        self.answer = tk.Label(frame, text="", font=("Helvetica", 40, "bold"), width=8, fg=FG, bg=BG)
        self.answer.grid(row=3, column=0, columnspan=2)
        self.message = tk.Label(frame, text="", font=("Helvetica", 12), fg=FG, bg=BG, height=2,
                                wraplength=NUMBER_WIDTH, justify="center")
        self.message.grid(row=4, column=0, columnspan=2, padx=8)
        self.bars = tk.Canvas(frame, width=BAR_WIDTH, height=BAR_HEIGHT, bg=BG, highlightthickness=0)
        self.bars.grid(row=5, column=0, padx=8, pady=(8, 0))
        side = 28 * INPUT_ZOOM
        self.input_view = tk.Label(frame, bg="black", width=side, height=side, bd=0,
                                   image=self._photo(np.zeros((28, 28))))
        self.input_view.grid(row=5, column=1, padx=8, pady=(8, 0))
        tk.Label(frame, text="each digit's share", fg="grey70", bg=BG).grid(row=6, column=0)
        tk.Label(frame, text="what the network read", fg="grey70", bg=BG).grid(row=6, column=1, pady=(0, 8))
        root.update_idletasks()
        root.minsize(root.winfo_reqwidth(), root.winfo_reqheight())

        root.bind("<Return>", lambda event: self.predict())
        root.bind("<KP_Enter>", lambda event: self.predict())
        root.bind("<Escape>", lambda event: self.clear())
        root.bind("<Control-z>", lambda event: self.undo())
        root.bind("<Control-Z>", lambda event: self.undo())

        self.use_network(labels[0])

    # Which network reads ---------------------------------------------------------------------

    def use_network(self, label):
        """Read with the network of that label from the chooser (or say why it cannot)."""
        self.network_name.set(label)
        found = [(choice.folder, choice.kind) for choice in self.choices if choice.label == label]
        try:
            if not found:
                nets.load_pretrained()       # says what is missing and how to restore it
            self.network = nets.load_network(*found[0])
            self.weights_error = None
        except WeightsError as e:
            self.network = None
            self.weights_error = f"Cannot recognise digits: {e}"
        if hasattr(self, "image"):
            self.predict() if np.asarray(self.image).any() else self.clear()
        else:
            self.clear()

    # Drawing ---------------------------------------------------------------------------------

    def on_press(self, event):
        self.last = (event.x, event.y)
        self.strokes.append([(event.x, event.y)])
        self._segment(event.x, event.y, event.x, event.y)

    def on_motion(self, event):
        if self.last is None:           # a drag that began outside the canvas
            self.last = (event.x, event.y)
            self.strokes.append([(event.x, event.y)])
            self._segment(event.x, event.y, event.x, event.y)
        x0, y0 = self.last
        self._segment(x0, y0, event.x, event.y)
        self.strokes[-1].append((event.x, event.y))
        self.last = (event.x, event.y)

    def on_release(self, event):
        if self.last is not None:
            self._segment(*self.last, event.x, event.y)
            self.strokes[-1].append((event.x, event.y))
        self.last = None
        self.predict()                  # live: the answer follows the drawing

    def on_resize(self, event):
        """The canvas grew or shrank with the window: the off-screen image follows (it only
        grows, so that nothing drawn is lost)."""
        if not hasattr(self, "image"):
            return
        size = (max(event.width, self.image.size[0]), max(event.height, self.image.size[1]))
        if size != self.image.size:
            grown = Image.new("L", size, 0)
            grown.paste(self.image)
            self.image, self.draw = grown, ImageDraw.Draw(grown)
        self.size = size
        self.message.configure(wraplength=max(event.width, CANVAS_WIDTH))

    def undo(self):
        """Take back the last stroke (Ctrl-Z): the canvas and the image are drawn again without it."""
        if not self.strokes:
            return
        strokes = self.strokes[:-1]
        self.clear()
        for stroke in strokes:
            self.strokes.append([stroke[0]])
            self._segment(*stroke[0], *stroke[0])
            for (x0, y0), (x1, y1) in zip(stroke[:-1], stroke[1:]):
                self._segment(x0, y0, x1, y1)
                self.strokes[-1].append((x1, y1))
        if self.strokes:
            self.predict()

    def _segment(self, x0, y0, x1, y1):
        r = self.brush / 2
        if (x0, y0) == (x1, y1):
            self.canvas.create_oval(x0 - r, y0 - r, x0 + r, y0 + r, fill="white", outline="white")
        else:
            self.canvas.create_line(x0, y0, x1, y1, fill="white", width=self.brush,
                                    capstyle=tk.ROUND, joinstyle=tk.ROUND)
        draw_segment(self.draw, x0, y0, x1, y1, self.brush)

    # Buttons ---------------------------------------------------------------------------------

    def clear(self):
        """Wipe the drawing and the answer."""
        self.canvas.delete("all")
        self.image = Image.new("L", self.size, 0)
        self.draw = ImageDraw.Draw(self.image)
        self.last = None
        self.strokes = []
        self.number = None
        self._show_digit_buttons([])
        self._show(None, None, None, self.weights_error or
                   "Draw a digit or a number with the mouse. Enter: predict, Escape: clear, Ctrl-Z: undo.")

    def predict(self):
        """Read the drawing: returns (digit, ten probabilities) for one digit, (None, None) if
        there is none, and for a number (the number as a string, None)."""
        self.canvas.delete("box")
        self._show_digit_buttons([])
        if self.network is None:
            self._show(None, None, None, self.weights_error)
            return None, None
        width, height = self.image.size
        self.number = recognise.read_number_strokes(self.strokes, width, height, self.network)
        digits = self.number.digits
        if not digits:              # nothing, or only a dot: said as it always was
            reading = recognise.read_drawing(self.image, self.network)
            self._show(reading.digit, reading.probabilities, reading.image, reading.message)
            return reading.digit, reading.probabilities
        for i, reading in enumerate(digits):
            self._draw_box(reading, i)
        if len(digits) == 1:
            reading = digits[0]
            self._show(reading.digit, reading.probabilities, reading.image, reading.message)
            return reading.digit, reading.probabilities
        self._show_digit_buttons(digits)
        self.select(len(digits) - 1)
        return self.number.number, None

    def select(self, index):
        """Show the input and the ten shares of digit `index` of the number read."""
        self.selected = index
        reading = self.number.digits[index]
        self._show(self.number.number, reading.probabilities, reading.image,
                   f"{self.number.message} Digit {index + 1}: {reading.message}", digit=reading.digit)
        for i, button in enumerate(self.digit_row.winfo_children()):
            button.configure(relief=tk.SUNKEN if i == index else tk.RAISED)

    # Display ---------------------------------------------------------------------------------

    def _photo(self, image28):
        pixels = np.round(np.clip(image28, 0, 1) * 255).astype(np.uint8)
        self._input_photo_source = Image.fromarray(pixels)      # what is shown, before zooming
        picture = self._input_photo_source.resize((28 * INPUT_ZOOM, 28 * INPUT_ZOOM), Image.NEAREST)
        self._input_photo = ImageTk.PhotoImage(picture, master=self.root)    # keep a reference
        return self._input_photo

    def _draw_box(self, reading, index):
        """A box around a digit read on the canvas, its digit and confidence above it."""
        x0, y0, x1, y1 = reading.box
        self.canvas.create_rectangle(x0, y0, x1, y1, outline=BOX, width=2, tags=("box", f"box{index}"))
        self.canvas.create_text(x0 + 2, max(y0 - 2, 12), anchor="sw" if y0 > 14 else "nw", fill=BOX,
                                text=f"{reading.digit} {reading.confidence:.0%}" + ("" if reading.sure else "?"),
                                font=("Helvetica", 11, "bold"), tags=("box", f"box{index}"))

    def _show_digit_buttons(self, digits):
        """One button per digit of a number, to show its input and shares; none for one digit."""
        for button in self.digit_row.winfo_children():
            button.destroy()
        for i, reading in enumerate(digits):
            tk.Button(self.digit_row, text=f"{reading.digit}  {reading.confidence:.0%}", width=6,
                      command=lambda i=i: self.select(i)).pack(side=tk.LEFT, padx=2)

    def _show(self, answer, probs, image28, message, digit=None):
        """Show `answer` (a digit or a number), the message, the input and the shares of `digit`
        (default: the answer itself)."""
        digit = answer if digit is None else digit
        self.answer.configure(text="" if answer is None else str(answer))
        self.message.configure(text=message)
        self.input_view.configure(image=self._photo(np.zeros((28, 28)) if image28 is None else image28))
        self.bars.delete("all")
        slot = BAR_WIDTH / 10
        top, bottom = 8, BAR_HEIGHT - 20
        for d in range(10):
            x = d * slot + slot / 2
            self.bars.create_text(x, BAR_HEIGHT - 10, text=str(d), fill=FG, font=("Helvetica", 11))
            if probs is not None:
                h = (bottom - top) * float(probs[d])
                colour = "#4caf50" if d == digit else "#888888"
                self.bars.create_rectangle(x - slot * 0.3, bottom - max(h, 1), x + slot * 0.3, bottom,
                                           fill=colour, outline="")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Draw a digit or a number; a network reads it.")
    parser.add_argument("--weights-dir", metavar="DIR",
                        help="read with the network saved in DIR (default: the best pretrained network; "
                             "the window offers the others)")
    args = parser.parse_args(argv)
    try:
        root = tk.Tk()
    except tk.TclError as e:
        print(f"gui.py: cannot open a window ({e}); is there a display?", file=sys.stderr)
        return 1
    DigitApp(root, weights_dir=args.weights_dir)
    try:
        root.mainloop()
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
