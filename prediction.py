"""Forward propagation: what the trained network says about new images.

`predict(Theta1, Theta2, X)` is the reference tutorial's function. Run as a script it reads
digits from image files, or writes a Kaggle submission for a test.csv:

    python prediction.py IMAGE [IMAGE ...] [--model cnn|mlp | --weights-dir DIR]
    python prediction.py --csv test.csv --out submission.csv [--model ... | --weights-dir DIR]
"""
import sys

try:
    import argparse

    import numpy as np

    from model import feed_forward
except KeyboardInterrupt:       # Ctrl-C while the libraries load: no traceback
    sys.exit(130)


def predict_proba(Theta1, Theta2, X):
    """Output-unit activations, shape (m, labels): each in (0, 1), one per digit.

    The output units are independent sigmoids (as trained), so a row need not sum to 1;
    the predicted digit is the most active unit.
    """
    return feed_forward(Theta1, Theta2, X)


def predict(Theta1, Theta2, X):
    """Predicted digit for each row of X (pixels scaled to [0, 1]), as in the reference."""
    return np.argmax(predict_proba(Theta1, Theta2, X), axis=1)


# Command line ------------------------------------------------------------------------------

def parse_args(argv):
    from digits.nets import KINDS
    parser = argparse.ArgumentParser(
        description="Recognise handwritten digits in image files (PNG, JPEG, BMP, GIF, WebP, TIFF; dark ink\n"
                    "on light paper or light on dark, any size), or write a Kaggle submission\n"
                    "for the Digit Recognizer competition's test.csv.",
        epilog="examples:  python prediction.py digit.png scan.jpg\n"
               "           python prediction.py --model mlp digit.png\n"
               "           python prediction.py --csv test.csv --out submission.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="*", metavar="IMAGE", help="image files of one digit each")
    parser.add_argument("--csv", metavar="TEST_CSV",
                        help="Kaggle test.csv (header pixel0..pixel783) to predict instead of images")
    parser.add_argument("--out", metavar="SUBMISSION_CSV",
                        help="where --csv writes the submission (ImageId,Label)")
    parser.add_argument("--model", choices=tuple(KINDS),
                        help="which pretrained network reads (default: the best one); with --weights-dir, "
                             "which of the networks saved there")
    parser.add_argument("--weights-dir", metavar="DIR",
                        help="read with the network saved in DIR (e.g. weights/, where python main.py saves)")
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


def predict_files(network, paths):
    """Print the digit in each image file; a bad file gets an error line. Returns how many failed."""
    from digits import recognise
    from digits.errors import EmptyImageError, ImageFileError
    failed = 0
    for path in paths:
        try:
            reading = recognise.read_file(path, network)
        except (ImageFileError, EmptyImageError) as e:
            message = str(e) if str(e).startswith(str(path)) else f"{path}: {e}"
            sys.stdout.flush()      # keep the lines in file order when both go to a terminal
            print(f"error: {message}", file=sys.stderr, flush=True)
            failed += 1
            continue
        if reading.digit is None:       # the network reads it as none of the digits
            print(f"{path}: not a digit ({reading.not_a_digit:.0%} sure)", flush=True)
        elif reading.sure:
            print(f"{path}: {reading.digit} ({reading.confidence:.0%} sure)", flush=True)
        else:       # below the network's calibrated threshold: a guess, and said to be one
            print(f"{path}: {reading.digit} (not sure: {reading.confidence:.0%})", flush=True)
    return failed


def predict_csv(network, csv_path, out_path):
    """Predict every image of a Kaggle test.csv and write the submission file."""
    from digits.data import kaggle_csv
    X = kaggle_csv.read_test_csv(csv_path)
    labels = network.predict_pixels(X)
    kaggle_csv.write_submission(out_path, labels)
    print(f"Wrote {labels.size} predictions to {out_path}")


def run(args):
    from digits import nets
    from digits.files import check_output_file
    if args.csv is not None:
        check_output_file(args.out, inputs=[args.csv], what="the submission (--out)")
    if args.weights_dir is not None:
        network = nets.load_network(args.weights_dir, args.model)
    else:
        network = nets.load_pretrained(args.model)
    if args.csv is not None:
        predict_csv(network, args.csv, args.out)
        return 0
    return 1 if predict_files(network, args.images) else 0


def main(argv=None):
    from digits.cli import run_reporting_errors
    return run_reporting_errors(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
