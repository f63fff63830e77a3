"""Everything behind the commands: data, image preparation, networks, reporting.

    digits.data       where the digits come from: MNIST (.mat, IDX, download), Kaggle CSV, pen strokes
    digits.imaging    pictures -> the network's 28x28 input: preparation, strokes, image files, distortions
    digits.nets       the network contract, the network kinds, their trainers, optimisers and saved files
    digits.recognise  the one recognition path: a picture and a network -> the answer
    digits.reporting  accuracy, folds, pictures of a run
    digits.recipes    a training recipe on the command line (main.py, the benchmarks that train)
    digits.blas       the BLAS's threads, set in one place

The faithful core of the tutorial stays at the top level: model.py (cost and gradient),
rand_initialise.py, prediction.py (predict).
"""
