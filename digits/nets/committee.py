"""A committee of CNNs whose shares are averaged (Ciresan, Meier and Schmidhuber, "Multi-column
deep neural networks for image classification", 2012: 35 CNNs, 99.77 % of MNIST).

Networks trained alike from different random starts make different mistakes; averaging their
shares keeps what they agree on and turns most of a single network's confident mistakes into
a split vote. For members i = 1..k, each a `digits.nets.cnn.CNN` with scores z_i:

    predict_proba(X) = mean_i softmax(z_i / T)       T: the committee's calibration (1 if none)
    scores(X)        = log mean_i softmax(z_i)       (so softmax(scores) = predict_proba at T = 1)
    not_a_digit(X)   = mean_i not_a_digit_i(X)       the members' eleventh outputs, averaged
    probabilities_and_none(X): both, from one forward pass of each member

Optionally (`rotations`, whole degrees, saved with it) each member also reads every picture
turned by a few small angles, and the means run over members and turns alike (test-time
augmentation, as Ciresan et al. read their digits at several sizes): one forward pass of each
member over all the turned copies. rotations = (0,), the default, reads the pictures as given.

Training trains each member on its own with the CNN's recipe, member i from seed (seed, i):
the committee's cost is the sum of its members' costs, and its gradient theirs side by side
(parameters named "m<i>.<name>"). The file is one `committee.npz` (digits.nets.npz_files: all
members or none written, everything checked on reading); the members share one architecture.

It is a kind of network like any other (digits/nets/base.py): the apps, the API and
`prediction.py` read with it without knowing it is several.
"""
import os
import re
from collections.abc import MutableMapping

import numpy as np

from digits.cli import whole_number
from digits.constants import NUM_LABELS
from digits.errors import WeightsError
from digits.imaging.distort import warp
from digits.nets import npz_files
from digits.nets.base import Network, check_inputs
from digits.nets.cnn import ARCHITECTURE, CNN, _digit_shares, _none_share, architecture_shapes
from digits.nets.training import Option, TrainingResult

MAX_MEMBERS = 9
MEMBER = re.compile(r"m([0-9])\.(.+)")
MAX_TURN = 30           # degrees: a reading's turned copies stay within +-30 (a 7 turned 90 is no 7)
MAX_TURNS = 9


def check_rotations(rotations):
    """`rotations` as a tuple of whole degrees, each within +-MAX_TURN, distinct, 1 to MAX_TURNS of
    them; ValueError saying which rule it breaks."""
    values = np.asarray(rotations).reshape(-1)
    if values.dtype.kind not in "iu" and not (values.dtype.kind == "f" and np.all(values == np.round(values))):
        raise ValueError(f"rotations are whole degrees, not {rotations!r}")
    turns = tuple(int(v) for v in values)
    if not 1 <= len(turns) <= MAX_TURNS or len(set(turns)) != len(turns):
        raise ValueError(f"rotations are 1 to {MAX_TURNS} distinct angles, not {list(turns)}")
    if any(abs(t) > MAX_TURN for t in turns):
        raise ValueError(f"rotations are within +-{MAX_TURN} degrees, not {list(turns)}")
    return turns


def turned_copies(X, rotations):
    """X (m, 784) -> (k*m, 784), k = len(rotations): the pictures turned by each angle in degrees
    (bilinear, about the picture's centre, zeros outside; float32), all of the first angle, then
    the second... An angle of 0 is the picture as given, exactly (rotations (0,): X itself)."""
    m = X.shape[0]
    copies = []
    for degrees in rotations:
        if degrees == 0:
            copies.append(X)
        else:
            turn = np.zeros((m, 5))
            turn[:, 0], turn[:, 1], turn[:, 2] = np.radians(degrees), 1.0, 1.0
            copies.append(warp(X, turn))
    return np.concatenate(copies) if len(copies) > 1 else copies[0]


class _MembersParams(MutableMapping):
    """The members' parameters as one dict, "m<i>.<name>" -> the member's live array; setting an
    item sets the member's."""

    def __init__(self, members):
        self.members = members

    def _split(self, key):
        found = MEMBER.fullmatch(key)
        if not found or int(found[1]) >= len(self.members) or found[2] not in self.members[int(found[1])].params:
            raise KeyError(key)
        return self.members[int(found[1])].params, found[2]

    def __getitem__(self, key):
        params, name = self._split(key)
        return params[name]

    def __setitem__(self, key, value):
        params, name = self._split(key)
        params[name] = value

    def __delitem__(self, key):
        raise TypeError("a committee's parameters cannot be removed")

    def __iter__(self):
        return (f"m{i}.{name}" for i, m in enumerate(self.members) for name in m.params)

    def __len__(self):
        return sum(len(m.params) for m in self.members)


class Committee(Network):
    """`Committee(members, rotations=(0,))`: a list of CNNs of one architecture; each reads every
    picture turned by each of `rotations` (whole degrees)."""

    kind = "committee"
    FILES = ("committee.npz",)
    LAMBDA = CNN.LAMBDA
    LEARNS_NOT_A_DIGIT = True
    TRAINS_BY_EPOCH = True
    OPTIONS = CNN.OPTIONS + (Option("members", whole_number(1, MAX_MEMBERS), 3, "networks in the committee, each trained "
                                    "with the CNN's recipe from its own random start", "K"),
                             Option("first_member", whole_number(1, MAX_MEMBERS), 1, "number of the first member "
                                    "trained: --members 3 --first-member 3 trains members 3-5 of --members 5 (a long "
                                    "committee split into runs, joined by digits.join_committee)", "I"))

    def __init__(self, members, rotations=(0,)):
        self.members = list(members)
        self.rotations = check_rotations(rotations)
        if not 1 <= len(self.members) <= MAX_MEMBERS:
            raise ValueError(f"a committee has 1 to {MAX_MEMBERS} members, not {len(self.members)}")
        if any(not isinstance(m, CNN) for m in self.members) or \
                len({repr(m.architecture()) for m in self.members}) != 1:
            raise ValueError("a committee's members are CNNs of one architecture")
        self.temperature, self.sure_above = None, 0.0

    @property
    def params(self):
        return _MembersParams(self.members)

    @params.setter
    def params(self, values):
        own = self.params
        for name, value in values.items():
            own[name] = value

    def describe(self):
        turns = "" if self.rotations == (0,) else \
            f", each picture also read turned {', '.join(f'{t:+d}°' for t in self.rotations if t)}"
        return f"committee of {len(self.members)} × {self.members[0].describe()}{turns}"

    def first_layer(self):
        return self.members[0].first_layer()

    # Reading ------------------------------------------------------------------------------------

    def _shares(self, X, temperature=1.0):
        """mean_i softmax(z_i / temperature): (m, 10) float64."""
        return self.probabilities_and_none(X, temperature)[0]

    def scores(self, X):
        """(m, 784) -> (m, 10): the log of the members' mean shares."""
        with np.errstate(divide="ignore"):
            return np.maximum(np.log(self._shares(X)), -745.0)

    def predict_proba(self, X):
        return self._shares(X, self.temperature or 1.0)

    def not_a_digit(self, X):
        return self.probabilities_and_none(X)[1]

    def probabilities_and_none(self, X, temperature=None):
        """(predict_proba(X), not_a_digit(X)) with one forward pass per member, not two; the
        shares at `temperature` (default: the committee's calibration). With rotations, each
        member reads all the turned copies in that one pass, and the means run over them too."""
        X = check_inputs(X)
        m, k = X.shape[0], len(self.rotations)
        copies = turned_copies(X, self.rotations)
        shares, none = np.zeros((m, NUM_LABELS)), np.zeros(m)
        for member in self.members:
            z = np.asarray(member.all_scores(copies), dtype=np.float64)
            shares += _digit_shares(z, temperature or self.temperature).reshape(k, m, NUM_LABELS).sum(axis=0)
            none += _none_share(z).reshape(k, m).sum(axis=0)
        return shares / (len(self.members) * k), none / (len(self.members) * k)

    def features(self, X):
        """The members' features of the pictures as given (not turned), side by side."""
        return np.concatenate([m.features(X) for m in self.members], axis=1)

    # Training -----------------------------------------------------------------------------------

    def loss(self, X, y, lamb=0.0):
        """The sum of the members' costs (each trains on its own), and its gradient keyed like
        `params`."""
        J, grads, _ = self.loss_and_scores(X, y, lamb)
        return J, grads

    def loss_and_scores(self, X, y, lamb=0.0):
        J, grads, shares = 0.0, {}, 0.0
        for i, m in enumerate(self.members):
            Ji, gi, si = m.loss_and_scores(X, y, lamb)
            J += Ji
            grads.update({f"m{i}.{name}": g for name, g in gi.items()})
            z = np.asarray(si, dtype=np.float64)[:, :NUM_LABELS]
            e = np.exp(z - z.max(axis=1, keepdims=True))
            shares = shares + e / e.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore"):
            return J, grads, np.log(shares / len(self.members))

    @classmethod
    def train(cls, images, labels, *, lamb, seed, validation=None, report=print, progress=None, start=None,
              sample=None, members=3, first_member=1, **options):
        """`members` CNNs, member i trained by `CNN.train` from seed (seed, i) (or, with `start`,
        each of its members trained on). first_member = f numbers them from f, so the seeds are
        (seed, f - 1 + i): members f..f+k-1 of a longer committee. Stops after the member a Ctrl-C
        or divergence stopped: the committee then holds the members trained so far (at least the
        one stopped)."""
        starts = start.members if start is not None else [None] * members
        rotations = start.rotations if start is not None else (0,)     # training a committee on keeps its way of reading
        trained, history, seconds = [], {"loss": []}, 0.0
        for i, member_start in enumerate(starts):
            if report:
                report(f"member {first_member + i}" + (f" ({i + 1} of {len(starts)})" if first_member > 1 else
                                                       f" of {len(starts)}"))
            member_seed = int(np.random.SeedSequence([seed, first_member - 1 + i]).generate_state(1)[0])
            net, result = CNN.train(images, labels, lamb=lamb, seed=member_seed,
                                    validation=validation, report=report, progress=progress, start=member_start,
                                    sample=sample, **options)
            trained.append(net)
            for key, values in result.history.items():
                history.setdefault(key, []).extend(values)
            seconds += result.seconds
            if result.stopped_early:
                return cls(trained, rotations), TrainingResult(result.unit, history, seconds, result.interruption,
                                                               result.diverged)
        return cls(trained, rotations), TrainingResult(result.unit, history, seconds)

    @classmethod
    def describe_training(cls, options, lamb):
        cnn_options = {k: v for k, v in options.items() if k not in ("members", "first_member")}
        first, k = options.get("first_member", 1), options["members"]
        which = (f"committee of {k}" if first == 1 else f"member {first} of a committee" if k == 1 else
                 f"members {first}-{first + k - 1} of a committee")
        return f"{which}, {'a' if k == 1 else 'each a'} {CNN.describe_training(cnn_options, lamb)}"

    # Files --------------------------------------------------------------------------------------

    @classmethod
    def saved_in(cls, folder):
        return os.path.isfile(os.path.join(folder, cls.FILES[0]))

    def save(self, folder):
        """Write `folder/committee.npz`, all members or none; returns its path."""
        turns = {} if self.rotations == (0,) else {"rotations": self.rotations}      # absent: read as given
        return npz_files.save(self, folder, {"members": len(self.members), **self.members[0].architecture(), **turns})

    @classmethod
    def load(cls, folder, advice="train one with: python main.py --model committee"):
        def shapes_of(meta):
            k = int(meta["members"])
            if not 1 <= k <= MAX_MEMBERS:
                raise ValueError(f"{k} members")
            one = architecture_shapes(meta["convs"], meta["hidden"], meta["kernel"], int(meta.get("outputs", NUM_LABELS)))
            check_rotations(meta.get("rotations", (0,)))
            return {f"m{i}.{name}": shape for i in range(k) for name, shape in one.items()}
        params, meta = npz_files.read(folder, cls, advice, ("members",) + ARCHITECTURE + ("outputs", "rotations"),
                                      shapes_of)
        try:
            members = [CNN({name[len(f"m{i}."):]: p for name, p in params.items() if name.startswith(f"m{i}.")},
                           meta["convs"], meta["hidden"], meta["kernel"], int(meta.get("outputs", NUM_LABELS)))
                       for i in range(int(meta["members"]))]
        except ValueError as e:
            raise WeightsError(f"{os.path.join(folder, cls.FILES[0])}: {e}; {advice}") from None
        return npz_files.apply_temperature(cls(members, meta.get("rotations", (0,))), meta)

