"""Everything behind the commands: data, image preparation, networks, reporting, test helpers.

    digits.data       where the digits come from: MNIST (.mat, IDX, download), Kaggle CSV, pen strokes
    digits.imaging    pictures -> the network's 28x28 input: preparation, strokes, image files, distortions
    digits.nets       the network contract, the network kinds, their trainers and saved files
    digits.recognise  the one recognition path: a picture and a network -> the answer
    digits.reporting  accuracy, folds, pictures of a run
    digits.testing    helpers for tests and benchmarks: a private X server, replaying pen strokes

The faithful core of the tutorial stays at the top level: model.py (cost and gradient),
rand_initialise.py, prediction.py (predict).
"""
