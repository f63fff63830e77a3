"""Samples of the user's own handwriting: kept when a reading is corrected or confirmed.

`SampleStore` (store.py) keeps them in one SQLite file; exports.py writes them as MNIST IDX
files, a Kaggle-style CSV or a page of thumbnails; `python -m digits.samples` does that from
the command line (__main__.py).
"""
from digits.errors import SamplesError
from digits.samples.store import SOURCES, SampleStore, default_path

__all__ = ["SampleStore", "SamplesError", "SOURCES", "default_path"]
