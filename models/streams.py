"""Random streams of replications: independent child seeds, and sub-streams that stay put.

``numpy.random.SeedSequence(seed).spawn(n)`` gives n child seeds whose streams do not overlap in
practice; replication i always gets child i (`spawn_seeds`). Within a replication, each component and
day gets a child of its own (`child_seed`), derived from the spawn key so that it is the same in every
scenario and executor. The base of `models.replications` and `models.coupled` (it imports neither).
"""

from __future__ import annotations

import numpy as np

from motcua.errors import InputError


def spawn_seeds(seed: int | np.random.SeedSequence, replications: int) -> list[np.random.SeedSequence]:
    """Child seeds for `replications` independent replications of one run seeded with `seed`."""
    if replications < 1:
        raise InputError(f"--replications {replications}: must be at least 1; use e.g. --replications 20")
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(_check_seed(seed))
    return root.spawn(replications)


def child_seed(seed: np.random.SeedSequence, index: int) -> np.random.SeedSequence:
    """The `index`-th child of `seed`, without touching `seed`.

    ``SeedSequence.spawn`` counts the children it already gave, so spawning twice from the same
    object (as a serial run does, once per scenario) would give different children; deriving them
    from the spawn key keeps replication i's sub-streams identical in every scenario and executor.
    """
    return np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, index), pool_size=seed.pool_size)


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"--seed {seed!r}: must be a non-negative integer, e.g. --seed 2024")
    return int(seed)
