"""The private local Ray cluster a daemon starts when no ``--ray-address`` is given.

Without an address, ``ray.init()`` joins whatever cluster ``RAY_ADDRESS`` or the machine-wide
``/tmp/ray/ray_current_cluster`` names: on a shared machine, another user's. The daemon
instead always starts a cluster of its own (``address="local"``, which ignores both) in a
temporary directory of its own, on loopback, and removes that directory when it stops the
cluster. Ray only where the operator says: a cluster to join is named with ``--ray-address``.

Joining a named cluster, the daemon authenticates the way ``ray start`` does
(:func:`use_token_auth_if_available`): Ray 2.59 and later turn token authentication on for a
cluster started with ``ray start --head`` whenever a token exists (``RAY_AUTH_TOKEN``,
``RAY_AUTH_TOKEN_PATH`` or ``~/.ray/auth_token``), but a driver given an explicit address does
not, and then loops on ``InvalidAuthToken``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["PrivateCluster", "use_token_auth_if_available"]


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


def use_token_auth_if_available() -> bool:
    """Send Ray's authentication token when joining a cluster, if one is available.

    With ``RAY_AUTH_MODE`` unset and a token found where Ray looks for one (``RAY_AUTH_TOKEN``,
    then the file ``RAY_AUTH_TOKEN_PATH`` names, then ``~/.ray/auth_token``), this process
    (and the Ray processes it starts) use token authentication: the rule ``ray start`` applies
    to the cluster it starts. An explicit ``RAY_AUTH_MODE`` is respected as it is. A cluster
    without token authentication accepts a driver that sends a token, so sending it is safe.
    Returns whether token authentication is on.
    """
    try:
        from ray._private.authentication import authentication_token_setup as setup
    except ImportError:  # a Ray older than 2.52 has no token authentication
        return False
    return bool(setup.maybe_enable_token_auth_if_token_available(warn_if_disabled=False))
