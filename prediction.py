"""Forward propagation: what the trained network says about new images.

Run as a script it reads digits from image files, or a Kaggle test.csv:

    python prediction.py IMAGE [IMAGE ...] [--weights-dir DIR]
    python prediction.py --csv test.csv --out submission.csv [--weights-dir DIR]
"""
import argparse
import sys

import numpy as np

import image_files
import kaggle_csv
import weights
from activations import sigmoid
from cli import run_reporting_errors
from preprocess import EmptyImageError


def predict_proba(Theta1, Theta2, X):
    """Output-unit activations, shape (m, labels): each in (0, 1), one per digit.

    The output units are independent sigmoids (as trained), so a row need not sum to 1;
    the predicted digit is the most active unit.
    """
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    a2 = sigmoid(X @ Theta1[:, 1:].T + Theta1[:, 0])
    return sigmoid(a2 @ Theta2[:, 1:].T + Theta2[:, 0])


def predict(Theta1, Theta2, X):
    """Predicted digit for each row of X (pixels scaled to [0, 1]), as in the reference."""
    return np.argmax(predict_proba(Theta1, Theta2, X), axis=1)


def predict_pixels(Theta1, Theta2, images, batch_size=4096):
    """Predicted digits for raw 0..255 pixel rows, scaled by / 255 (as the reference did) a batch at
    a time, so that no float copy of all the images is ever made."""
    return np.concatenate([predict(Theta1, Theta2, images[i:i + batch_size] / 255.0)
                           for i in range(0, images.shape[0], batch_size)])


# Command line ------------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Recognise handwritten digits in image files (PNG, JPEG, BMP, GIF; dark ink\n"
                    "on light paper or light on dark, any size), or write a Kaggle submission\n"
                    "for the Digit Recognizer competition's test.csv.",
        epilog="examples:  python prediction.py digit.png scan.jpg\n"
               "           python prediction.py --csv test.csv --out submission.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="*", metavar="IMAGE", help="image files of one digit each")
    parser.add_argument("--csv", metavar="TEST_CSV",
                        help="Kaggle test.csv (header pixel0..pixel783) to predict instead of images")
    parser.add_argument("--out", metavar="SUBMISSION_CSV",
                        help="where --csv writes the submission (ImageId,Label)")
    parser.add_argument("--weights-dir", default=weights.DEFAULT_WEIGHTS_DIR, metavar="DIR",
                        help="folder holding Theta1.txt and Theta2.txt (default weights/)")
    args = parser.parse_args(argv)
    if args.csv is None and args.out is not None:
        parser.error("--out needs --csv: give the test.csv to predict")
    if args.csv is not None and args.out is None:
        parser.error("--csv needs --out: give the file to write the submission to")
    if args.csv is not None and args.images:
        parser.error("give either image files or --csv, not both")
    if args.csv is None and not args.images:
        parser.error("give at least one image file, or --csv test.csv --out submission.csv")
    return args


def output_shares(outputs):
    """The ten sigmoid outputs divided by their sum, to read as probabilities (the app's bars)."""
    return outputs / np.sum(outputs)


def confidence(outputs):
    """Share of the winning unit in the ten sigmoid outputs (as the drawing app shows it)."""
    return float(np.max(output_shares(outputs)))


def predict_files(Theta1, Theta2, paths):
    """Print the digit in each image file; a bad file gets an error line. Returns how many failed."""
    failed = 0
    for path in paths:
        try:
            x = image_files.load_digit(path)
        except (image_files.ImageFileError, EmptyImageError) as e:
            message = str(e) if str(e).startswith(str(path)) else f"{path}: {e}"
            sys.stdout.flush()      # keep the lines in file order when both go to a terminal
            print(f"error: {message}", file=sys.stderr, flush=True)
            failed += 1
            continue
        outputs = predict_proba(Theta1, Theta2, x)[0]
        print(f"{path}: {int(np.argmax(outputs))} ({confidence(outputs):.0%} sure)", flush=True)
    return failed


def predict_csv(Theta1, Theta2, csv_path, out_path):
    """Predict every image of a Kaggle test.csv and write the submission file."""
    X = kaggle_csv.read_test_csv(csv_path)
    labels = predict_pixels(Theta1, Theta2, X)
    kaggle_csv.write_submission(out_path, labels)
    print(f"Wrote {labels.size} predictions to {out_path}")


def run(args):
    Theta1, Theta2 = weights.load_weights(args.weights_dir)
    if args.csv is not None:
        predict_csv(Theta1, Theta2, args.csv, args.out)
        return 0
    return 1 if predict_files(Theta1, Theta2, args.images) else 0


def main(argv=None):
    return run_reporting_errors(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
