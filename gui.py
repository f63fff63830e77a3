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
a box around each digit with its digit and confidence; the buttons under the answer pick the
digit whose 28x28 input and ten shares are shown. One digit is shown exactly as it always was.
The canvas keeps its shape and grows with the window.

Keys: Enter predicts, Escape clears, Ctrl-Z takes back the last stroke. A prediction is also
made whenever a stroke ends.

Under the answer, "That was a 0..9" buttons (or the digit keys) keep the drawing as a labelled
sample of your handwriting (its strokes, the canvas size, the 28x28 input the network read,
which network read it and what it said) in the samples file (digits/samples): a correction, or
a confirmation when it is the digit read (one digit at a time: not offered for a number). `--samples FILE` names the file; by default it is in
the user data folder (~/.local/share/digits/samples.sqlite), made at the first sample.
"""
import sys

try:
    import argparse
    import os
    import tkinter as tk
    import tkinter.font as tkfont

    import numpy as np
    from PIL import Image, ImageDraw, ImageTk

    from digits import nets, recognise
    from digits.errors import SamplesError, WeightsError
    from digits.samples import SampleStore, default_path
    from digits.imaging.strokes import BRUSH, CANVAS_HEIGHT, CANVAS_WIDTH, draw_segment
except KeyboardInterrupt:       # Ctrl-C while the libraries load: no traceback
    sys.exit(130)
except ImportError as error:    # ... also when it cut a C extension's start short
    from digits.cli import interrupted_import
    if interrupted_import(error):
        sys.exit(130)
    raise

BAR_WIDTH, BAR_HEIGHT = 250, 110
NUMBER_WIDTH = 700              # the canvas's width (canvas pixels): room for a number
BOX = "#ffb300"                 # the boxes around the digits read
INPUT_ZOOM = 4                  # the 28x28 input is shown 4x enlarged
BG, FG = "grey15", "white"
MUTED, PROBLEM, WINNER = "grey70", "#ffb74d", "#4caf50"
ANSWER_FONT, GUESS_FONT = ("Helvetica", 40, "bold"), ("Helvetica", 40, "italic")
MESSAGE_LINES = 3               # room kept for the message, so that the layout does not move


def wrapped_lines(font, text, width):
    """How many lines a Tk label of `font` and wraplength `width` (pixels) shows `text` in."""
    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        line = ""
        for word in paragraph.split(" "):
            if line and font.measure(f"{line} {word}") > width:
                lines, line = lines + 1, word
            else:
                line = f"{line} {word}" if line else word
    return lines


class Tooltip:
    """A small note under a widget while the pointer rests on it (`text`; none when empty)."""
    DELAY_MS = 400

    def __init__(self, widget, text=""):
        self.widget, self.text, self.window, self._pending = widget, text, None, None
        widget.bind("<Enter>", self._schedule, add="+")
        widget.bind("<Leave>", self.hide, add="+")
        widget.bind("<ButtonPress>", self.hide, add="+")

    def _schedule(self, event=None):
        self._cancel()
        self._pending = self.widget.after(self.DELAY_MS, self.show)

    def _cancel(self):
        if self._pending is not None:
            self.widget.after_cancel(self._pending)
            self._pending = None

    def show(self):
        self._pending = None
        if self.window is not None or not self.text:
            return
        self.window = tk.Toplevel(self.widget)
        self.window.wm_overrideredirect(True)
        x, y = self.widget.winfo_rootx(), self.widget.winfo_rooty() + self.widget.winfo_height() + 4
        self.window.wm_geometry(f"+{x}+{y}")
        tk.Label(self.window, text=self.text, bg="#ffffe0", fg="black", relief="solid", bd=1,
                 padx=6, pady=3).pack()

    def hide(self, event=None):
        self._cancel()
        if self.window is not None:
            self.window.destroy()
            self.window = None


class DigitApp:
    """The drawing window's contents, inside any Tk `root` (a test can make and drive one).

    With no `weights_dir` it reads with the best pretrained network, as `python gui.py` does;
    `weights_dir` reads with the network saved there instead. `samples`: the path of the
    samples file that the "That was a..." buttons write to (None: no buttons).
    """

    def __init__(self, root, weights_dir=None, brush=BRUSH, samples=None):
        self.root = root
        self.brush = brush
        self.samples_path = samples
        self.store = None               # the SampleStore, opened at the first sample
        self.strokes = []               # what was drawn: lists of (x, y) canvas pixels
        self.reading = None             # the last Reading of one digit shown (what a sample keeps)
        self.number = None              # the last NumberReading
        self.selected = None            # which digit of a number shows its input and shares
        self.last = None
        self.network = None
        self.weights_error = None
        self.scale = 1.0                # screen pixels per canvas pixel: the canvas grows with the window
        root.title("Digit recogniser")
        root.configure(bg=BG)
        # Content centred in the window; the canvas takes the room the window gains.
        root.columnconfigure(0, weight=1)
        root.rowconfigure(0, weight=1)
        frame = tk.Frame(root, bg=BG)
        frame.grid(row=0, column=0, sticky="nsew")
        frame.rowconfigure(0, weight=1)
        frame.columnconfigure((0, 1), weight=1)

        self.canvas = self._growing_canvas(frame)
        self.canvas.bind("<Button-1>", self.on_press)
        self.canvas.bind("<B1-Motion>", self.on_motion)
        self.canvas.bind("<ButtonRelease-1>", self.on_release)

        self.digit_row = tk.Frame(frame, bg=BG)        # one button per digit of a number
        self.digit_row.grid(row=7, column=0, columnspan=2)
        # Its room is kept from the start: buttons appearing would otherwise take it from the canvas.
        probe = tk.Button(self.digit_row, text="0  100%", width=6)
        frame.rowconfigure(7, minsize=probe.winfo_reqheight())
        probe.destroy()
        tk.Button(frame, text="Clear", width=12, command=self.clear).grid(row=1, column=0, pady=4)
        tk.Button(frame, text="Prediction", width=12, command=self.predict).grid(row=1, column=1, pady=4)

        # Which network reads: one click to switch.
        self.choices, self.library = nets.choices(weights_dir=weights_dir), None
        if weights_dir is None:       # a network that cannot be loaded (a damaged one you trained) is not offered
            self.library = nets.Library(nets.choices)
            for choice, error in self.library.skipped:
                print(f"note: not offering {choice.label}: {error}", file=sys.stderr)
            self.choices = [choice for choice, _ in self.library.loaded.values()] or self.choices
        chooser = tk.Frame(frame, bg=BG)
        chooser.grid(row=2, column=0, columnspan=2, pady=2)
        tk.Label(chooser, text="Reading with:", fg=FG, bg=BG).pack(side=tk.LEFT)
        self.network_name = tk.StringVar(root)
        labels = [choice.label for choice in self.choices] or ["no network"]
        self.network_menu = tk.OptionMenu(chooser, self.network_name, *labels, command=self.use_network)
        self.network_menu.configure(highlightthickness=0)
        self.network_menu.pack(side=tk.LEFT, padx=4)
        # Opening the chooser looks again: a network trained meanwhile is offered, one
        # retrained is read anew (no restart needed).
        self.network_menu["menu"].configure(postcommand=self.refresh_networks)

        self.answer = tk.Label(frame, text="", font=ANSWER_FONT, width=8, fg=FG, bg=BG)
        self.answer.grid(row=3, column=0, columnspan=2)
        self.message = tk.Label(frame, text="", font=("Helvetica", 12), fg=FG, bg=BG, height=MESSAGE_LINES,
                                wraplength=CANVAS_WIDTH, justify="center")
        self.message.grid(row=4, column=0, columnspan=2, padx=8)
        self.message_font = tkfont.Font(root=root, font=self.message.cget("font"))
        if samples is not None:
            self._teaching_row(frame).grid(row=8, column=0, columnspan=2, padx=8, pady=(0, 8))
            self._open_samples(only_if_there=True)
        self.bars = tk.Canvas(frame, width=BAR_WIDTH, height=BAR_HEIGHT, bg=BG, highlightthickness=0)
        self.bars.grid(row=5, column=0, padx=8, pady=(8, 0))
        side = 28 * INPUT_ZOOM
        self.input_view = tk.Label(frame, bg="black", width=side, height=side, bd=0,
                                   image=self._photo(np.zeros((28, 28))))
        self.input_view.grid(row=5, column=1, padx=8, pady=(8, 0))
        tk.Label(frame, text="each digit's share", fg="grey70", bg=BG).grid(row=6, column=0)
        tk.Label(frame, text="what the network read", fg="grey70", bg=BG).grid(row=6, column=1, pady=(0, 8))
        self.tooltip = Tooltip(self.network_menu)
        root.update_idletasks()
        root.minsize(root.winfo_reqwidth(), root.winfo_reqheight())
        # The window keeps its size when its contents ask for more or less (a message that
        # wraps, a longer network name): it changes only when the user resizes it.
        root.geometry(f"{root.winfo_reqwidth()}x{root.winfo_reqheight()}")

        root.bind("<Return>", lambda event: self.predict())
        root.bind("<KP_Enter>", lambda event: self.predict())
        root.bind("<Escape>", lambda event: self.clear())
        root.bind("<Control-z>", lambda event: self.undo())
        root.bind("<Control-Z>", lambda event: self.undo())
        if samples is not None:
            root.bind("<Key>", self.on_key)

        self.use_network(labels[0])

    # Which network reads ---------------------------------------------------------------------

    def refresh_networks(self):
        """Offer what is saved now: networks trained since, and retrained ones read anew."""
        if self.library is None or not self.library.refresh():
            return
        self.choices = [choice for choice, _ in self.library.loaded.values()] or self.choices
        menu = self.network_menu["menu"]
        menu.delete(0, "end")
        for choice in self.choices:
            menu.add_command(label=choice.label, command=lambda label=choice.label: self.use_network(label))
        current = self.network_name.get()
        self.use_network(current if any(c.label == current for c in self.choices) else self.choices[0].label)

    def use_network(self, label):
        """Read with the network of that label from the chooser (or say why it cannot)."""
        self.network_name.set(label)
        found = [choice for choice in self.choices if choice.label == label]
        try:
            if not found:
                nets.load_pretrained()       # says what is missing and how to restore it
            loaded = self.library.loaded.get(found[0].id) if self.library else None
            self.network = loaded[1] if loaded else nets.load_network(found[0].folder, found[0].kind)
            self.weights_error = None
            self.tooltip.text = f"{label}: {self.network.describe()}"     # the architecture
        except WeightsError as e:
            self.network = None
            self.weights_error = f"Cannot recognise digits: {e}"
            self.tooltip.text = ""
        if hasattr(self, "image"):
            self.predict() if np.asarray(self.image).any() else self.clear()
        else:
            self.clear()

    # Drawing ---------------------------------------------------------------------------------
    # Points are kept in canvas pixels (NUMBER_WIDTH x CANVAS_HEIGHT, what the network's picture
    # is drawn in) whatever size the canvas is shown at: screen pixels / self.scale.

    def _growing_canvas(self, frame):
        """The drawing canvas, in a holder that takes the window's spare room: the canvas keeps
        the reference's shape and grows (never below its reference size) as the window does."""
        holder = tk.Frame(frame, bg=BG, width=NUMBER_WIDTH + 16, height=CANVAS_HEIGHT + 16)
        holder.grid(row=0, column=0, columnspan=2, sticky="nsew")
        holder.grid_propagate(False)
        canvas = tk.Canvas(holder, width=NUMBER_WIDTH, height=CANVAS_HEIGHT, bg="black",
                           highlightthickness=0, cursor="pencil")
        canvas.place(relx=0.5, rely=0.5, anchor="center")
        holder.bind("<Configure>", self.on_resize)
        return canvas

    def on_resize(self, event):
        scale = max(1.0, min((event.width - 16) / NUMBER_WIDTH, (event.height - 16) / CANVAS_HEIGHT))
        if scale != self.scale:
            self.scale = scale
            self.canvas.configure(width=round(NUMBER_WIDTH * scale), height=round(CANVAS_HEIGHT * scale))
            self.canvas.delete("all")
            for stroke in self.strokes:         # the drawing again, at the new size
                for p, q in zip(stroke[:1] + stroke[:-1], stroke):
                    self._show_segment(*p, *q)
            self._draw_boxes()

    def _point(self, event):
        return round(event.x / self.scale), round(event.y / self.scale)

    def on_press(self, event):
        if self.samples_path is not None:
            self._say_kept("")              # what was kept before is not about this drawing
        self.last = self._point(event)
        self.strokes.append([self.last])
        self._segment(*self.last, *self.last)

    def on_motion(self, event):
        point = self._point(event)
        if self.last is None:           # a drag that began outside the canvas
            self.last = point
            self.strokes.append([point])
        self._segment(*self.last, *point)
        self.last = point
        self.strokes[-1].append(point)

    def on_release(self, event):
        point = self._point(event)
        if self.last is not None:
            self._segment(*self.last, *point)
            if point != self.last:
                self.strokes[-1].append(point)
        self.last = None
        self.predict()                  # live: the answer follows the drawing

    def undo(self):
        """Take back the last stroke (Ctrl-Z): the canvas and the image are drawn again without it."""
        if not self.strokes:
            return
        strokes = self.strokes[:-1]
        self.clear()
        for stroke in strokes:
            self.strokes.append([stroke[0]])
            for p, q in zip(stroke[:1] + stroke[:-1], stroke):
                self._segment(*p, *q)
            self.strokes[-1].extend(stroke[1:])
        if self.strokes:
            self.predict()

    def _segment(self, x0, y0, x1, y1):
        """A segment (canvas pixels) on the screen and into the network's picture."""
        self._show_segment(x0, y0, x1, y1)
        draw_segment(self.draw, x0, y0, x1, y1, self.brush)

    def _show_segment(self, x0, y0, x1, y1):
        s = self.scale
        r = self.brush * s / 2
        if (x0, y0) == (x1, y1):
            self.canvas.create_oval(x0 * s - r, y0 * s - r, x0 * s + r, y0 * s + r, fill="white", outline="white")
        else:
            self.canvas.create_line(x0 * s, y0 * s, x1 * s, y1 * s, fill="white", width=self.brush * s,
                                    capstyle=tk.ROUND, joinstyle=tk.ROUND)

    # Buttons ---------------------------------------------------------------------------------

    def clear(self):
        """Wipe the drawing and the answer."""
        self.canvas.delete("all")
        self.image = Image.new("L", (NUMBER_WIDTH, CANVAS_HEIGHT), 0)
        self.draw = ImageDraw.Draw(self.image)
        self.last = None
        self.strokes = []
        self.reading = self.number = None
        self._show_digit_buttons([])
        self._offer_teaching(None, False)
        self._show(None, None, None, self.weights_error or
                   "Draw a digit or a number with the mouse. Enter: predict, Escape: clear, Ctrl-Z: undo.")

    def predict(self):
        """Read the drawing: returns (digit, ten probabilities) for one digit, (None, None) if
        there is none, and for a number (the number as a string, None)."""
        self.canvas.delete("box")
        self._show_digit_buttons([])
        self.reading = self.number = None
        self._offer_teaching(None, False)
        if self.network is None:
            self._show(None, None, None, self.weights_error)
            return None, None
        try:
            number = recognise.read_number_strokes(self.strokes, *self.image.size, self.network)
            # Nothing, a dot or not a digit: said as a single drawing always was.
            reading = recognise.read_drawing(self.image, self.network) if not number.digits else None
        except WeightsError as e:      # a network whose sums overflow: say so, show no NaN
            self._show(None, None, None, f"Cannot recognise digits: {e}")
            return None, None
        self.number = number
        self._draw_boxes()
        if len(number.digits) > 1:
            self._show_digit_buttons(number.digits)
            self.select(len(number.digits) - 1)
            self._style_answer(number.sure)
            return number.number, None
        reading = reading or number.digits[0]
        self._show(reading.digit, reading.probabilities, reading.image, reading.message)
        self._style_answer(reading.sure)
        self.reading = reading
        self._offer_teaching(reading.digit, reading.image is not None)
        return reading.digit, reading.probabilities

    def select(self, index):
        """Show the input and the ten shares of digit `index` of the number read."""
        self.selected = index
        reading = self.number.digits[index]
        self._show(self.number.number, reading.probabilities, reading.image,
                   f"{self.number.message} Digit {index + 1}: {reading.message}", digit=reading.digit)
        for i, button in enumerate(self.digit_row.winfo_children()):
            button.configure(relief=tk.SUNKEN if i == index else tk.RAISED)

    # Teaching it your handwriting ------------------------------------------------------------

    def _teaching_row(self, frame):
        """The "That was a 0..9" buttons and the line that says what was kept."""
        row = tk.Frame(frame, bg=BG)
        tk.Label(row, text="That was a\u2026", fg=MUTED, bg=BG).grid(row=0, column=0, padx=(0, 4))
        self.teach_buttons = []
        for d in range(10):
            button = tk.Button(row, text=str(d), width=1, state=tk.DISABLED, highlightthickness=2,
                               highlightbackground=BG, command=lambda d=d: self.keep_as(d))
            button.grid(row=0, column=d + 1, padx=1)
            self.teach_buttons.append(button)
        self.kept = tk.Label(row, text="", fg=MUTED, bg=BG, font=("Helvetica", 10), wraplength=CANVAS_WIDTH)
        self.kept.grid(row=1, column=0, columnspan=11, pady=(2, 0))
        return row

    def _offer_teaching(self, digit, something_read):
        """Enable the buttons when there is a reading to correct; mark the digit read."""
        for d, button in enumerate(getattr(self, "teach_buttons", [])):
            button.configure(state=tk.NORMAL if something_read else tk.DISABLED,
                             highlightbackground=WINNER if d == digit else BG)

    def _open_samples(self, only_if_there=False):
        """Open the samples file (made if missing, unless `only_if_there`); whether it is usable.
        A damaged one is said on the window's "kept" line, and left as it is."""
        if self.store is not None or (only_if_there and not os.path.exists(self.samples_path)):
            return self.store is not None
        try:
            self.store = SampleStore(self.samples_path)
        except SamplesError as e:
            self._say_kept(f"Not kept: {e}", PROBLEM)
        return self.store is not None

    def on_key(self, event):
        """The digit keys do what the buttons do."""
        if event.char and event.char in "0123456789":
            self.keep_as(int(event.char))

    def keep_as(self, label):
        """Keep the drawing as a sample of `label` (confirmed when that is the digit read), then
        clear the canvas for the next one. Returns the sample's row id, or None if it was not kept."""
        reading = self.reading
        if self.samples_path is None or reading is None or reading.image is None or not self.strokes:
            return None     # nothing read (a drawing read as "not a digit" can be corrected too)
        if not self._open_samples():
            return None
        try:
            row = self.store.add(label, self.strokes, *self.image.size, reading.image,
                                 network=reading.network, answer=reading.digit,
                                 source="confirmed" if label == reading.digit else "correction")
            count = self.store.counts_by_label()[label]
        except SamplesError as e:
            self._say_kept(f"Not kept: {e}", PROBLEM)
            return None
        self.clear()
        self._say_kept(f"Kept as a {label}: {count} sample{'s' * (count != 1)} of {label} so far. Write another.")
        return row

    def _say_kept(self, text, colour=MUTED):
        self.kept.configure(text=text, fg=colour)

    # Display ---------------------------------------------------------------------------------

    def _photo(self, image28):
        pixels = np.round(np.clip(image28, 0, 1) * 255).astype(np.uint8)
        self._input_photo_source = Image.fromarray(pixels)      # what is shown, before zooming
        picture = self._input_photo_source.resize((28 * INPUT_ZOOM, 28 * INPUT_ZOOM), Image.NEAREST)
        self._input_photo = ImageTk.PhotoImage(picture, master=self.root)    # keep a reference
        return self._input_photo

    def _style_answer(self, sure):
        """A sure answer in bold white; a guess ("Not sure: perhaps...") in grey italics."""
        self.answer.configure(fg=FG if sure else MUTED, font=ANSWER_FONT if sure else GUESS_FONT)

    def _draw_boxes(self):
        """A box around each digit of the number read, its digit and confidence above it (on
        the canvas as shown: canvas pixels times the scale)."""
        self.canvas.delete("box")
        for index, reading in enumerate(self.number.digits if self.number else []):
            x0, y0, x1, y1 = (v * self.scale for v in reading.box)
            tags = ("box", f"box{index}")
            self.canvas.create_rectangle(x0, y0, x1, y1, outline=BOX, width=2, tags=tags)
            self.canvas.create_text(x0 + 2, max(y0 - 2, 12), anchor="sw" if y0 > 14 else "nw", fill=BOX,
                                    text=f"{reading.digit} {reading.confidence:.0%}" + ("" if reading.sure else "?"),
                                    font=("Helvetica", 11, "bold"), tags=tags)

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
        lines = wrapped_lines(self.message_font, message or "", CANVAS_WIDTH)
        self.message.configure(text=message, height=max(MESSAGE_LINES, lines))
        self.input_view.configure(image=self._photo(np.zeros((28, 28)) if image28 is None else image28))
        self.bars.delete("all")
        slot = BAR_WIDTH / 10
        top, bottom = 8, BAR_HEIGHT - 20
        for d in range(10):
            x = d * slot + slot / 2
            self.bars.create_text(x, BAR_HEIGHT - 10, text=str(d), fill=FG, font=("Helvetica", 11))
            if probs is not None:
                h = (bottom - top) * float(probs[d])
                colour = WINNER if d == digit else "#888888"
                self.bars.create_rectangle(x - slot * 0.3, bottom - max(h, 1), x + slot * 0.3, bottom,
                                           fill=colour, outline="")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Draw a digit; a network says which it is.")
    parser.add_argument("--weights-dir", metavar="DIR",
                        help="read with the network saved in DIR (default: the best pretrained network; "
                             "the window offers the others)")
    parser.add_argument("--samples", metavar="FILE", default=default_path(),
                        help="keep the drawings you label with 'That was a...' in FILE, an SQLite samples "
                             "file made at the first one (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        root = tk.Tk()
    except tk.TclError as e:
        print(f"gui.py: cannot open a window ({e}); is there a display?", file=sys.stderr)
        return 1
    DigitApp(root, weights_dir=args.weights_dir, samples=args.samples)
    try:
        root.mainloop()
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
