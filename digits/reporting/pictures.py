"""Pictures of a training run: training curve, confusion matrix, misclassified digits, k-fold.

Each `plot_*` function writes one PNG (atomically: never a half-written file) and returns its
path. matplotlib is imported inside the functions, so training and the drawing app do not
need it; figures are drawn with the non-interactive Agg canvas, without pyplot, so no window
or display is ever involved.
"""
import os
import textwrap
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from digits.constants import SIDE
from digits.files import atomic_write
from digits.reporting import metrics

DPI = 110
TILE_SCALE = 3       # gallery digits are shown 3x enlarged
GALLERY_COLUMNS = 10


def _figure(width, height):
    import matplotlib
    if "matplotlib.pyplot" not in sys.modules:
        # Some plot types import pyplot; make sure it never looks for a display.
        matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png", dpi=DPI)
    return path


def plot_training_curve(costs, path):
    """Cost J after each L-BFGS-B iteration, as a line plot (log scale: the drop is steep)."""
    costs = np.asarray(costs, dtype=np.float64)
    if costs.ndim != 1 or costs.size == 0:
        raise ValueError("costs must be a non-empty sequence of numbers, one per iteration")
    fig = _figure(7, 4.2)
    ax = fig.add_subplot()
    iterations = np.arange(1, costs.size + 1)
    ax.plot(iterations, costs, color="tab:blue", linewidth=1.8, marker="o" if costs.size <= 30 else None,
            markersize=3)
    if np.all(costs > 0) and costs.max() / costs.min() > 10:
        from matplotlib.ticker import FuncFormatter, LogLocator
        ax.set_yscale("log")
        # Plain numbers (0.3, 0.5, 1, 2) rather than powers of ten, which are hard to read.
        ax.yaxis.set_minor_locator(LogLocator(subs=(2, 3, 5)))
        plain = FuncFormatter(lambda value, _: f"{value:g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
    ax.set_title(f"Training curve: cost {costs[0]:.4g} \u2192 {costs[-1]:.4g} in {costs.size} iterations")
    ax.set_xlabel("L-BFGS-B iteration")
    ax.set_ylabel("cost J (cross-entropy + regularisation)")
    ax.set_xlim(0.5, costs.size + 0.5)
    ax.grid(True, which="both", alpha=0.3)
    ax.annotate(f"{costs[-1]:.4f}", (iterations[-1], costs[-1]), textcoords="offset points",
                xytext=(-4, 8), ha="right", color="tab:blue")
    return _save(fig, path)


def plot_epochs(history, path):
    """Minibatch training per epoch: the loss (left), training and validation accuracy (right).

    `history` as digits.nets.minibatch.train_minibatch returns it.
    """
    loss = np.asarray(history["loss"], dtype=np.float64)
    if loss.ndim != 1 or loss.size == 0:
        raise ValueError("history must hold the loss of at least one epoch")
    epochs = np.arange(1, loss.size + 1)
    marker = "o" if loss.size <= 30 else None
    fig = _figure(9, 3.8)
    left, right = fig.subplots(1, 2)
    left.plot(epochs, loss, marker=marker, color="tab:blue")
    left.set_title(f"Loss: {loss[0]:.4g} \u2192 {loss[-1]:.4g}")
    left.set_xlabel("epoch")
    left.set_ylabel("mean cost over the epoch's batches")
    right.plot(epochs, 100 * np.asarray(history["train_accuracy"]), marker=marker, label="training (as trained)")
    validation = [v for v in history.get("validation_accuracy", []) if v is not None]
    if len(validation) == loss.size:
        right.plot(epochs, 100 * np.asarray(validation), marker=marker, label="validation")
        right.set_title(f"Accuracy: validation {100 * validation[-1]:.2f} % after {loss.size} epochs")
    else:
        right.set_title("Accuracy")
    right.set_xlabel("epoch")
    right.set_ylabel("accuracy (%)")
    right.legend(loc="lower right")
    for ax in (left, right):
        if loss.size <= 20:
            ax.set_xticks(epochs)
        ax.set_xlim(0.5, loss.size + 0.5)
        ax.grid(True, alpha=0.3)
    return _save(fig, path)


def plot_filters(net, path, max_filters=100):
    """The first layer's weights as small pictures, each on its own grey scale (grey 0,
    light positive, dark negative): "what the hidden layer looks for"."""
    what, filters = net.first_layer()
    filters = filters[:max_filters]
    n = len(filters)
    columns = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / columns))
    fig = _figure(max(min(1.0 * columns, 10), 4.5), min(1.0 * rows, 10) + 0.8)
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for ax in axes:
        ax.set_axis_off()
    for ax, f in zip(axes, filters):
        top = np.abs(f).max() or 1.0
        ax.imshow(f, cmap="gray", vmin=-top, vmax=top, interpolation="nearest")
    fig.suptitle("\n".join(textwrap.wrap(net.describe(), 40)) + f"\n{what} ({n} shown)")
    return _save(fig, path)


def plot_confusion_matrix(counts, path):
    """Confusion matrix (rows: true digit, columns: predicted) with the count in every cell.

    Colours follow the count on a log scale, so the few mistakes show next to the diagonal.
    """
    from matplotlib.colors import LogNorm
    counts = _check_counts(counts)
    n = counts.shape[0]
    fig = _figure(7.4, 6.4)
    ax = fig.add_subplot()
    shown = np.ma.masked_equal(counts, 0)          # empty cells stay white
    norm = LogNorm(vmin=1, vmax=max(int(counts.max()), 2))
    image = ax.imshow(shown, cmap="Blues", norm=norm)
    colourbar = fig.colorbar(image, ax=ax, shrink=0.85)
    colourbar.set_label("images (log scale)")
    for i in range(n):
        for j in range(n):
            if counts[i, j]:
                dark = norm(counts[i, j]) > 0.6
                ax.text(j, i, str(counts[i, j]), ha="center", va="center",
                        fontsize=9 if counts[i, j] < 1000 else 8,
                        color="white" if dark else "black", fontweight="bold" if i == j else "normal")
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    total = int(counts.sum())
    correct = int(np.trace(counts))
    accuracy = correct / total if total else 0.0
    ax.set_title(f"Confusion matrix: {correct} of {total} test images right ({accuracy:.2%})")
    return _save(fig, path)


def plot_fold_accuracies(accuracies, path):
    """Box plot of the k-fold validation accuracies (fractions), with each fold as a dot."""
    acc = 100 * np.asarray(accuracies, dtype=np.float64)
    if acc.ndim != 1 or acc.size == 0:
        raise ValueError("accuracies must be a non-empty sequence of fractions, one per fold")
    fig = _figure(4.8, 4.8)
    ax = fig.add_subplot()
    ax.boxplot(acc, widths=0.5, medianprops={"color": "tab:orange", "linewidth": 2})
    # Spread the dots sideways a little (deterministically) so equal values stay visible.
    spread = np.linspace(-0.08, 0.08, acc.size) if acc.size > 1 else np.zeros(1)
    ax.scatter(1 + spread, acc, color="tab:blue", zorder=3, label="one fold")
    ax.set_xticks([1], [f"{acc.size} folds"])
    ax.set_ylabel("validation accuracy (%)")
    std = acc.std(ddof=1) if acc.size > 1 else 0.0
    ax.set_title(f"k-fold cross-validation\n{acc.mean():.2f} \u00b1 {std:.2f} %  (mean \u00b1 std)")
    ax.yaxis.get_major_formatter().set_useOffset(False)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(loc="lower right")
    return _save(fig, path)


def plot_misclassified(images, y_true, y_pred, path, max_images=100, what="test digits"):
    """Gallery of the misclassified digits, each captioned 'true -> predicted'; `what` names
    them in the title ("Misclassified test digits: 12 of 10000").

    `images` are the (m, 784) test images, bytes 0..255 or floats in [0, 1]; the digits with
    y_true != y_pred are shown, at most `max_images` (the first ones), sorted by true digit.
    Returns the path; a gallery with no mistakes says so.
    """
    images = np.asarray(images)
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if images.ndim != 2 or images.shape[1] != SIDE * SIDE or not len(images) == len(y_true) == len(y_pred):
        raise ValueError(f"images must be (m, {SIDE * SIDE}) with m labels in y_true and y_pred; got "
                         f"{images.shape}, {y_true.shape}, {y_pred.shape}")
    wrong = np.flatnonzero(y_true != y_pred)
    shown = wrong[:max_images]
    shown = shown[np.lexsort((y_pred[shown], y_true[shown]))]
    pixels = images[shown].astype(np.float64)
    if not np.issubdtype(images.dtype, np.integer):
        pixels = pixels * 255
    # Dark ink on white paper reads better on a page than MNIST's light on black.
    tiles = 255 - np.clip(np.round(pixels), 0, 255).astype(np.uint8).reshape(-1, SIDE, SIDE)

    font = _font(14)
    title_font = _font(17)
    arrow = " \u2192 " if _has_arrow(font) else " -> "
    cell = SIDE * TILE_SCALE
    pad, caption = 10, 20
    columns = max(1, min(GALLERY_COLUMNS, len(shown)))
    rows = max(1, -(-len(shown) // columns))
    title_height = 56
    width = max(columns * (cell + pad) + pad, 480)
    height = title_height + rows * (cell + caption + pad) + pad
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    title = f"Misclassified {what}: {len(wrong)} of {len(y_true)}"
    subtitle = (f"each captioned true{arrow}predicted" + (f"; the first {len(shown)} shown" if len(shown) < len(wrong) else "")
                if len(wrong) else "none: every test image was recognised")
    draw.text((pad, 8), title, fill="black", font=title_font)
    draw.text((pad, 32), subtitle, fill=(90, 90, 90), font=font)
    for n, (tile, true, pred) in enumerate(zip(tiles, y_true[shown], y_pred[shown])):
        x = pad + (n % columns) * (cell + pad)
        y = title_height + (n // columns) * (cell + caption + pad)
        digit = Image.fromarray(tile).resize((cell, cell), Image.NEAREST)
        sheet.paste(digit, (x, y))
        draw.rectangle((x - 1, y - 1, x + cell, y + cell), outline=(200, 200, 200))
        # The true digit in black, the network's wrong answer in red.
        left = f"{true}{arrow}"
        tx = x + (cell - draw.textlength(left + str(pred), font=font)) / 2
        draw.text((tx, y + cell + 2), left, fill="black", font=font)
        draw.text((tx + draw.textlength(left, font=font), y + cell + 2), str(pred), fill=(200, 30, 30), font=font)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_write(path, "wb") as f:
        sheet.save(f, format="PNG")
    return path


def format_confusion_matrix(counts):
    """Confusion matrix as a text table: rows true digit, columns predicted, with recall and
    precision per digit at the ends."""
    counts = _check_counts(counts)
    n = counts.shape[0]
    precision, recall = metrics.precision_recall(counts)
    width = max(len(str(int(counts.max()))), 5)
    head = "true\\pred".rjust(11) + " " + " ".join(f"{j:>{width}}" for j in range(n)) + "  recall %"
    lines = [head, "-" * len(head)]
    for i in range(n):
        row = " ".join(f"{c:>{width}}" if c else f"{'.':>{width}}" for c in counts[i])
        lines.append(f"{i:>11} {row}  {100 * recall[i]:8.1f}")
    lines.append("-" * len(head))
    lines.append(f"{'precision %':>11} " + " ".join(f"{100 * p:>{width}.1f}" for p in precision))
    return "\n".join(lines)


def write_report(report_dir, training, y_true, y_pred, test_images, fold_accuracies=None, net=None):
    """Write all pictures of a run into `report_dir` (created if needed); returns their paths.

    training: the TrainingResult (digits.nets.training) whose curve is drawn (None, or no step
    finished: no training curve): the cost per iteration, or per epoch the loss and accuracies.
    y_true, y_pred, test_images: the test set's labels, predictions and (m, 784) images.
    fold_accuracies: the k-fold validation accuracies (fractions), or None. net: the trained
    network, for the picture of its first layer.
    """
    os.makedirs(report_dir, exist_ok=True)
    paths = []
    if training is not None and training.steps:
        plot = plot_training_curve if training.unit == "iteration" else plot_epochs
        curve = training.history["loss"] if training.unit == "iteration" else training.history
        paths.append(plot(curve, os.path.join(report_dir, "training_curve.png")))
    if net is not None and net.first_layer() is not None:
        paths.append(plot_filters(net, os.path.join(report_dir, "filters.png")))
    counts = metrics.confusion_matrix(y_true, y_pred, 10)
    paths.append(plot_confusion_matrix(counts, os.path.join(report_dir, "confusion_matrix.png")))
    paths.append(plot_misclassified(test_images, y_true, y_pred, os.path.join(report_dir, "misclassified.png")))
    if fold_accuracies is not None and len(fold_accuracies):
        paths.append(plot_fold_accuracies(fold_accuracies, os.path.join(report_dir, "fold_accuracies.png")))
    return paths


def _check_counts(counts):
    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.size == 0:
        raise ValueError(f"counts must be a square confusion matrix, got shape {counts.shape}")
    return counts.astype(np.int64)


def _font(size):
    """DejaVu Sans, which matplotlib ships (it has the arrow), else Pillow's own font."""
    try:
        from matplotlib import font_manager
        return ImageFont.truetype(font_manager.findfont("DejaVu Sans"), size)
    except (ImportError, OSError, ValueError):
        pass
    try:
        return ImageFont.load_default(size=size)     # scalable with Pillow >= 10.1 and FreeType
    except (TypeError, AttributeError, ImportError):
        return ImageFont.load_default()


def _has_arrow(font):
    # A font without the glyph draws a "missing" box, the same as for a private-use character.
    try:
        return font.getmask("\u2192").getbbox() != font.getmask("\ue000").getbbox()
    except (AttributeError, UnicodeEncodeError, OSError):
        return False
