"""The batched executor, split by job as Google's Pub/Sub publisher is.

- ``_flow``: flow control (``max_pending``, waiting for room, idle);
- ``_sequencer``: calls on one record one at a time, in order;
- ``_assembly``: queues and the drain that assembles a batch (distinguishable creates);
- ``_dispatch``: the :class:`Batcher` (dispatch loop, pacing linger, sending, decoding,
  bisection of whole-batch failures, unclaimed results).

Request bodies are built in ``hubengage._requests`` and answers read in
``hubengage._multistatus``, beside the direct executor's.
"""

from ._dispatch import Batcher

__all__ = ["Batcher"]
