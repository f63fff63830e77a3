"""Forward propagation: what the trained network says about new images.

`predict(Theta1, Theta2, X)` is the reference tutorial's function. Run as a script it reads
the digits or numbers in image files (and folders of them), or writes a Kaggle submission
for a test.csv:

    python prediction.py IMAGE|FOLDER [...] [--format text|csv|json] [--model cnn|mlp | --weights-dir DIR]
    python prediction.py --csv test.csv --out submission.csv [--model ... | --weights-dir DIR]

An image holding one digit prints as `digit.png: 7 (99% sure)`; one holding a number as
`photo.jpg: 2026 (2 99%, 0 97%, 2 not sure 64%, 6 99%)`.
"""
import sys

try:
    import argparse

    import numpy as np

    from model import feed_forward
except KeyboardInterrupt:       # Ctrl-C while the libraries load: no traceback
    sys.exit(130)
except ImportError as error:    # ... also when it cut a C extension's start short
    from digits.cli import interrupted_import
    if interrupted_import(error):
        sys.exit(130)
    raise


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
        description="Recognise handwritten digits and numbers in image files (PNG, JPEG, BMP, GIF, WebP,\n"
                    "TIFF; dark ink on light paper or light on dark, any size, phone photos too), or write\n"
                    "a Kaggle submission for the Digit Recognizer competition's test.csv.",
        epilog="examples:  python prediction.py digit.png scan.jpg photo_of_a_number.jpg\n"
               "           python prediction.py --format csv photos/ > answers.csv\n"
               "           python prediction.py --model mlp digit.png\n"
               "           python prediction.py --csv test.csv --out submission.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="*", metavar="IMAGE",
                        help="image files of a digit or a number each, or folders of them (read recursively)")
    parser.add_argument("--format", choices=("text", "csv", "json"), default="text",
                        help="how the answers are written: a line each (default), CSV rows or one JSON list")
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


def predict_files(network, paths, form="text"):
    """Print the digit or number in each image file (folders: every image file in them, at any
    depth) in `form` (text, csv, json); a bad file gets an error line. Returns how many failed."""
    from digits.errors import UserInputError
    from digits.files import image_files_in
    from digits.reporting import answers
    writer = answers.writer(form, sys.stdout)
    failed = 0
    for path in (found for given in paths for found in image_files_in(given)):
        try:
            number, single = read_image(path, network)
        except UserInputError as e:
            message = str(e) if str(e).startswith(str(path)) else f"{path}: {e}"
            sys.stdout.flush()      # keep the lines in file order when both go to a terminal
            print(f"error: {message}", file=sys.stderr, flush=True)
            writer.error(path, message)
            failed += 1
            continue
        writer.answer(path, number, single)
    writer.close()
    return failed


def read_image(path, network):
    """(NumberReading, Reading or None) of image file `path`: the number in it, and when it
    holds one digit, that digit read as a single-digit image is read (`recognise.read_file`,
    given the number reading, which raises its errors). One digit: the number reading finds at
    most one, or all its ink is no wider than `recognise.ONE_DIGIT_WIDTH` times its height, or
    no wider than `recognise.SURE_ONE_DIGIT_WIDTH` and read as one digit surely and more surely
    than as the number (a wide 0 or 2 scanned in its box), or the picture is no larger than a digit's box (`recognise.digit_sized`)."""
    from digits import recognise
    number = recognise.read_number_image(path, network)
    aspect = recognise.ink_aspect(number)
    if len(number.digits) < 2 or aspect <= recognise.ONE_DIGIT_WIDTH or recognise.digit_sized(path):
        return number, recognise.read_file(path, network, number=number)
    if aspect <= recognise.SURE_ONE_DIGIT_WIDTH:
        single = recognise.read_file(path, network, number=number)
        if single.digit is not None and single.sure and \
                single.confidence >= np.prod([d.confidence for d in number.digits]):
            return number, single
    return number, None


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
    return 1 if predict_files(network, args.images, args.format) else 0


def main(argv=None):
    from digits.cli import run_reporting_errors
    return run_reporting_errors(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
