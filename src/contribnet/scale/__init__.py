"""Scale-out: the store's journeys exported as Parquet, and credit recomputed, learned and
simulated on Apache Spark with the same ``contribnet.credit`` functions the service runs.

* :mod:`~contribnet.scale.export` -- journeys, training paths, staff spells, stores and policy
  versions streamed from either store to Parquet (pyarrow only; no Spark needed).
* :mod:`~contribnet.scale.folders` -- reading and checking those folders and a recompute's.
* :mod:`~contribnet.scale.journeys` -- an exported journey read back in the executors as the
  store reads its events.
* :mod:`~contribnet.scale.spark` -- the Spark session for a master URL, checked first.
* :mod:`~contribnet.scale.jobs` -- the Spark jobs: fit the learned models' counts, split every
  deal, simulate two policies.

pyarrow and pyspark come with the ``spark`` extra (``pip install contribnet[spark]``); the
service and the embedded store never import this package.
"""

from __future__ import annotations

from contribnet.domain.errors import ContribnetError

__all__ = ["ScaleError"]


class ScaleError(ContribnetError):
    """A scale-out command that cannot run as asked: a missing extra, a folder that is not an
    export or a recompute, an output folder in the way, a Spark master that does not answer."""
