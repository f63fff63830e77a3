"""The networks: the contract (`base.Network`), the kinds, their trainers and their files.

A new kind of network plugs in by subclassing `Network` in a file of its own and adding one
line to `KINDS` below (best first: the apps read with the first pretrained kind found).
"""
import os
from collections import namedtuple

import numpy as np

from digits.constants import PIXELS, PRETRAINED_DIR, WEIGHTS_DIR
from digits.errors import WeightsError
from digits.nets.base import Network
from digits.nets.calibration import FILE as CALIBRATION_FILE, load_calibration
from digits.nets.cnn import CNN
from digits.nets.committee import Committee
from digits.nets.deep import DeepMLP
from digits.nets.mlp import MLP
from digits.nets import trajectory

KINDS = {
    "committee": Committee,
    "cnn": CNN,
    "mlp": MLP,
    "deep": DeepMLP,
}


def kind_class(kind):
    try:
        return KINDS[kind]
    except KeyError:
        raise WeightsError(f"unknown kind of network '{kind}'; choose one of {', '.join(KINDS)}") from None


def kinds_in(folder):
    """The kinds of network saved in `folder`, in KINDS order."""
    return [kind for kind, cls in KINDS.items() if os.path.isdir(folder) and cls.saved_in(folder)]


def restore_advice(folder):
    """What to do about a missing or broken network in `folder`: the exact command."""
    folder = os.path.abspath(folder)
    if folder.startswith(os.path.abspath(PRETRAINED_DIR) + os.sep):
        rel = os.path.relpath(folder, os.path.dirname(os.path.dirname(os.path.abspath(PRETRAINED_DIR))))
        return f"restore the shipped network with: git checkout -- {rel}"
    if folder == os.path.abspath(WEIGHTS_DIR):
        return "train one with: python main.py (or read with a pretrained network: --model)"
    return f"train one with: python main.py --weights-dir {folder}"


def load_network(folder, kind=None):
    """The network saved in `folder`; `kind` picks one where the folder holds several.

    Raises WeightsError with one clear line (what is wrong, and the command that fixes it).
    """
    folder = os.fspath(folder)
    advice = restore_advice(folder)
    if not os.path.exists(folder):
        raise WeightsError(f"no network in {folder}: the folder does not exist "
                           f"(expected {' or '.join(_file_names())}); {advice}")
    if not os.path.isdir(folder):
        raise WeightsError(f"{folder} is a file; give the folder that holds the network")
    found = kinds_in(folder)
    if kind is None:
        if not found:
            raise WeightsError(f"no network in {folder}: {' or '.join(_file_names())} not found; {advice}")
        if len(found) > 1:
            raise WeightsError(f"{folder} holds several networks ({', '.join(found)}); choose one with --model")
        kind = found[0]
    net = check_answers(load_calibration(kind_class(kind).load(folder, advice=advice), folder), folder, advice)
    return trajectory.attach(net, folder, advice)


def check_answers(net, folder, advice):
    """`net` if it gives probabilities (not NaN or infinity) for a blank, a full, a grey and a
    noisy input; WeightsError otherwise (finite weights can still be large enough to overflow)."""
    probe = np.vstack([np.repeat([[0.0], [1.0], [0.5]], PIXELS, axis=1),
                       np.random.default_rng(0).random((1, PIXELS))])
    with np.errstate(all="ignore"):
        answers = net.predict_proba(probe)
    if not np.all(np.isfinite(answers)):
        raise WeightsError(f"the network in {folder} answers NaN or infinity (its weights are too large "
                           f"to compute with); {advice}")
    return net


def _file_names():
    return [" and ".join(cls.FILES) for cls in KINDS.values()]


def pretrained_dir(kind):
    return os.path.join(PRETRAINED_DIR, kind)


def shipped_kinds():
    """The kinds with a pretrained network in weights/pretrained/<kind>/, best first."""
    return [k for k in KINDS if k in kinds_in(pretrained_dir(k))]


def load_pretrained(kind=None):
    """A shipped network: the best one (first in KINDS that is shipped), or the given kind."""
    kinds = [kind] if kind else shipped_kinds()
    if not kinds:
        raise WeightsError(f"no pretrained network in {PRETRAINED_DIR}; restore them with: "
                           "git checkout -- weights/pretrained")
    kind_class(kinds[0])
    return load_network(pretrained_dir(kinds[0]), kinds[0])


PEOPLE_NAMES = {"cnn": "convolutional network", "mlp": "tutorial network", "deep": "deep network",
                "committee": "committee of networks"}   # what the apps call each kind


def people_name(kind):
    """What the apps call a kind of network; `describe()` gives the architecture (for a tooltip)."""
    return PEOPLE_NAMES.get(kind, f"{kind.upper()} network")


def load_choices(offered):
    """Load every network of `offered` (Choices): ({id: (Choice, Network)} in order, and
    [(Choice, WeightsError)] for those that cannot be loaded, which the apps skip with a note)."""
    library = Library(lambda: offered)
    return library.loaded, library.skipped


def files_stamp(choice):
    """When the files of `choice`'s network (and its calibration) last changed: a tuple to compare."""
    kinds = [kind_class(choice.kind)] if choice.kind else list(KINDS.values())
    stamp = []
    for name in [n for cls in kinds for n in cls.FILES] + [CALIBRATION_FILE, trajectory.FILE]:
        try:
            stamp.append(os.stat(os.path.join(choice.folder, name)).st_mtime_ns)
        except OSError:
            stamp.append(None)
    return tuple(stamp)


class Library:
    """The networks an app offers, loaded: `loaded` {id: (Choice, Network)} in order, `skipped`
    [(Choice, WeightsError)]. `offer()` says what to offer (e.g. `choices`); `refresh()` asks
    again and reads anew only the networks whose files changed or that are new, such as one
    `python main.py` saved while the app was open; it returns whether anything changed."""

    def __init__(self, offer):
        self.offer, self.loaded, self.skipped, self._stamps = offer, {}, [], {}
        self.refresh()

    def refresh(self):
        loaded, skipped = {}, []
        for choice in self.offer():
            stamp = files_stamp(choice)
            if choice.id in self.loaded and self._stamps.get(choice.id) == stamp:
                loaded[choice.id] = self.loaded[choice.id]
                continue
            try:
                loaded[choice.id] = (choice, load_network(choice.folder, choice.kind))
                self._stamps[choice.id] = stamp
            except WeightsError as e:
                skipped.append((choice, e))
        changed = [(i, id(n)) for i, (_, n) in loaded.items()] != [(i, id(n)) for i, (_, n) in self.loaded.items()]
        self.loaded, self.skipped = loaded, skipped
        return changed


Choice = namedtuple("Choice", "id label folder kind")
Choice.__doc__ = """A network the apps offer: a short id ("cnn", "trained-mlp"), a label for people,
the folder it is saved in and its kind."""


def choices(trained_dir=WEIGHTS_DIR, weights_dir=None, kind=None):
    """What the apps offer to read with: each pretrained network, best first, then each network
    the user trained into `trained_dir` (where `python main.py` saves).

    With `weights_dir` (the apps' --weights-dir): only the network saved there (of `kind`, where
    the folder holds several), as the one choice "given".
    """
    if weights_dir is not None:
        name = os.path.basename(os.path.normpath(weights_dir))
        return [Choice("given", f"network in {name}/", weights_dir, kind)]
    out = [Choice(k, f"pretrained {people_name(k)}", pretrained_dir(k), k) for k in shipped_kinds()]
    out += [Choice(f"trained-{k}", f"your {people_name(k)} ({os.path.basename(os.path.normpath(trained_dir))}/)",
                   trained_dir, k) for k in kinds_in(trained_dir)]
    return out


__all__ = ["KINDS", "Network", "MLP", "Choice", "load_network", "load_pretrained", "choices", "load_choices",
           "kinds_in", "kind_class", "Library"]
