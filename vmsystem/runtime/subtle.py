"""The host side of ``crypto.subtle`` (js/prelude/7-webapi.js): digests and HMAC from
:mod:`hashlib` and :mod:`hmac`, AES-GCM from the ``cryptography`` package. Bytes travel as hex."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vmsystem.runtime.base import HostError

__all__ = ["subtle"]

_HASHES = {"SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
#: Most bytes one call may hand over (hex doubles it in transport).
_MAX_BYTES = 16 * 1024 * 1024


def _bytes(value: Any) -> bytes:
    if not isinstance(value, str) or len(value) > 2 * _MAX_BYTES:
        raise HostError("invalid data", "TypeError")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise HostError("invalid data", "TypeError") from None


def _hash(name: Any) -> str:
    if name not in _HASHES:
        raise HostError(f"unsupported hash {name!r}", "TypeError")
    return _HASHES[name]


def subtle(payload: Any) -> Any:
    """Serve one ``[op, ...args]`` request of ``crypto.subtle``."""
    if not isinstance(payload, list) or not payload:
        raise HostError("invalid request", "TypeError")
    op, args = payload[0], payload[1:]
    if op == "digest" and len(args) == 2:
        return hashlib.new(_hash(args[0]), _bytes(args[1])).hexdigest()
    if op == "hmac" and len(args) == 3:
        return hmac.new(_bytes(args[1]), _bytes(args[2]), _hash(args[0])).hexdigest()
    if op == "hmac_verify" and len(args) == 4:
        mac = hmac.new(_bytes(args[1]), _bytes(args[3]), _hash(args[0])).digest()
        return hmac.compare_digest(mac, _bytes(args[2]))
    if op in ("aes_gcm_encrypt", "aes_gcm_decrypt") and len(args) == 5:
        key, iv, data = _bytes(args[0]), _bytes(args[1]), _bytes(args[2])
        aad = _bytes(args[3]) if args[3] is not None else None
        tag_bytes = args[4]
        if len(key) not in (16, 24, 32):
            raise HostError("AES key data must be 128, 192 or 256 bits", "RangeError")
        if tag_bytes != 16:
            raise HostError("only 128-bit AES-GCM tags are supported", "RangeError")
        if not iv:
            raise HostError("the iv must not be empty", "RangeError")
        cipher = AESGCM(key)
        if op == "aes_gcm_encrypt":
            return cipher.encrypt(iv, data, aad).hex()
        try:
            return cipher.decrypt(iv, data, aad).hex()
        except InvalidTag:
            raise HostError("OperationError: the data could not be decrypted", "Error") from None
    raise HostError(f"unsupported operation {op!r}", "TypeError")
