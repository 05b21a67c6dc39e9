"""The private local Ray cluster a daemon starts when no ``--ray-address`` is given.

Without an address, ``ray.init()`` joins whatever cluster ``RAY_ADDRESS`` or the machine-wide
``/tmp/ray/ray_current_cluster`` names: on a shared machine, another user's. The daemon
instead always starts a cluster of its own (``address="local"``, which ignores both) in a
temporary directory of its own, on loopback, and removes that directory when it stops the
cluster. Ray only where the operator says: a cluster to join is named with ``--ray-address``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["PrivateCluster"]


class PrivateCluster:
    """The ``ray.init`` options of a private local cluster, and its temporary directory."""

    def __init__(self) -> None:
        # Short: Ray's Unix sockets live below it (a socket path is at most 107 bytes).
        self.temp_dir = Path(tempfile.mkdtemp(prefix="vmray-"))

    def init_options(self) -> dict[str, Any]:
        """Keyword arguments for ``ray.init``: a new cluster in :attr:`temp_dir` on loopback."""
        return {
            "address": "local",
            "_temp_dir": str(self.temp_dir),
            "_node_ip_address": "127.0.0.1",
        }

    def remove(self) -> None:
        """Delete the temporary directory (once Ray is shut down)."""
        shutil.rmtree(self.temp_dir, ignore_errors=True)
