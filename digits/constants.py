"""Numbers and folders the whole project shares, defined once."""
import os

SIDE = 28                   # MNIST images are SIDE x SIDE pixels
PIXELS = SIDE * SIDE        # 784 inputs
NUM_LABELS = 10             # the digits 0..9
NOT_A_DIGIT = 10            # the label of a drawing that is none of them (a network may learn it)
PIXEL_MAX = 255             # pixels are grey levels 0..PIXEL_MAX
PIXEL_SCALE = 1 / PIXEL_MAX  # the reference trained on pixels / 255

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_DIR = os.path.join(REPO, "data")               # MNIST is downloaded here
WEIGHTS_DIR = os.path.join(REPO, "weights")         # what `python main.py` trains (git-ignored)
PRETRAINED_DIR = os.path.join(WEIGHTS_DIR, "pretrained")   # shipped networks, one folder each
REPORT_DIR = os.path.join(REPO, "report")           # pictures of a run (git-ignored)
