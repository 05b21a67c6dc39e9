"""Hermetic library fixtures: three generated UMD scripts of realistic size (~70 KB each).

Each one looks like a utility library (lodash/ramda/dayjs style): a UMD wrapper, a few
hundred small functions over arrays, objects and strings, lookup tables built at load time,
and a namespace object assembled when the factory runs. They are put in the daemon's library
cache with ``LibraryCache.add_local`` so that session creation with 3 libraries needs no
network and no ``~/.cache`` state.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from vmsystem.libraries.cache import LibraryCache

__all__ = ["LIBRARIES", "BenchLibrary", "install_libraries", "umd_source"]


@dataclass(frozen=True)
class BenchLibrary:
    name: str
    version: str
    global_name: str
    seed: int


LIBRARIES = (
    BenchLibrary("benchalpha", "1.0.0", "BenchAlpha", 1),
    BenchLibrary("benchbeta", "2.3.1", "BenchBeta", 2),
    BenchLibrary("benchgamma", "0.9.4", "BenchGamma", 3),
)

_BODIES = (
    # array helpers
    "var out = []; for (var i = 0; i < a.length; i++) {{ if (i % {k} !== {m}) out.push(b ? b(a[i], i) : a[i]); }} return out;",  # noqa: E501
    "var acc = {k}; for (var i = 0; i < a.length; i++) {{ acc = b ? b(acc, a[i]) : acc + a[i] * {m}; }} return acc;",  # noqa: E501
    "var seen = Object.create(null), out = []; for (var i = 0; i < a.length; i++) {{ var key = String(a[i]) + '{tag}'; if (!seen[key]) {{ seen[key] = true; out.push(a[i]); }} }} return out;",  # noqa: E501
    "if (a == null) return {m}; var n = 0; for (var key in a) {{ if (Object.prototype.hasOwnProperty.call(a, key)) n += String(key).length % {k}; }} return n;",  # noqa: E501
    "var s = String(a == null ? '' : a); var parts = s.split(/[\\s_\\-]+/); return parts.map(function (p, i) {{ return i % {k} === {m} ? p.toUpperCase() : p.toLowerCase(); }}).join('{tag}');",  # noqa: E501
    "var result = {{}}; var keys = Object.keys(a || {{}}); for (var i = 0; i < keys.length; i++) {{ if (!b || b(a[keys[i]], keys[i])) result[keys[i] + '{tag}'] = a[keys[i]]; }} return result;",  # noqa: E501
    "var d = new Date(a || 0); var y = d.getUTCFullYear(), mo = d.getUTCMonth() + {m}; return y * {k} + mo + (b ? b(d) : 0);",  # noqa: E501
    "var chunks = [], size = Math.max(1, b | 0 || {k}); for (var i = 0; i < (a ? a.length : 0); i += size) chunks.push(a.slice(i, i + size)); return chunks;",  # noqa: E501
    "return function () {{ var args = Array.prototype.slice.call(arguments); if (args.length >= {k}) return a.apply(this, args); return b ? b(args) : args.length + {m}; }};",  # noqa: E501
    "var x = (a | 0) ^ {m}; x = ((x << {k}) | (x >>> (32 - {k}))) >>> 0; return b ? b(x) : x % 65521;",  # noqa: E501
)


def umd_source(lib: BenchLibrary, target_bytes: int = 70_000) -> str:
    """A deterministic UMD library of about ``target_bytes`` bytes exposing ``global_name``."""
    rng = random.Random(lib.seed)
    head = (
        f"/*! {lib.name} v{lib.version} | generated benchmark fixture (vm-system bench) */\n"
        "(function (root, factory) {\n"
        "  if (typeof define === 'function' && define.amd) define([], factory);\n"
        "  else if (typeof module === 'object' && module.exports) module.exports = factory();\n"
        f"  else root.{lib.global_name} = factory();\n"
        "}(typeof globalThis !== 'undefined' ? globalThis : this, function () {\n"
        "  'use strict';\n"
        f"  var VERSION = '{lib.version}';\n"
        "  var api = {};\n"
        "  var table = [];\n"
        "  for (var t = 0; t < 256; t++) {\n"
        "    var c = t;\n"
        "    for (var j = 0; j < 8; j++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;\n"
        "    table[t] = c >>> 0;\n"
        "  }\n"
        "  var words = {};\n"
    )
    parts = [head]
    size = len(head)
    n = 0
    tail_reserve = 2_000
    while size < target_bytes - tail_reserve:
        body = rng.choice(_BODIES).format(
            k=rng.randint(2, 9), m=rng.randint(0, 1), tag=f"_{rng.randint(0, 999)}"
        )
        fn = (
            f"  /**\n   * Helper {n} of {lib.name}: see the generated tests.\n"
            f"   * @param {{*}} a input\n   * @param {{Function}} [b] callback\n   */\n"
            f"  function fn{n}(a, b) {{\n    {body}\n  }}\n"
            f"  api.fn{n} = fn{n};\n"
        )
        if n % 7 == 0:
            fn += f"  words['w{n}'] = fn{n}.length + {rng.randint(0, 99)};\n"
        parts.append(fn)
        size += len(fn)
        n += 1
    tail = (
        "  api.crc32 = function (s) {\n"
        "    var crc = 0xffffffff; s = String(s);\n"
        "    for (var i = 0; i < s.length; i++) crc = table[(crc ^ s.charCodeAt(i)) & 0xff] ^ (crc >>> 8);\n"  # noqa: E501
        "    return (crc ^ 0xffffffff) >>> 0;\n"
        "  };\n"
        "  api.words = words;\n"
        "  api.VERSION = VERSION;\n"
        f"  api.size = {n};\n"
        "  api.check = api.crc32(Object.keys(api).join(','));\n"
        "  return api;\n"
        "}));\n"
    )
    parts.append(tail)
    return "".join(parts)


def install_libraries(cache_dir: Path, src_dir: Path) -> list[BenchLibrary]:
    """Write the three fixtures to ``src_dir`` and add them to the cache at ``cache_dir``."""
    src_dir.mkdir(parents=True, exist_ok=True)
    cache = LibraryCache(cache_dir)
    for lib in LIBRARIES:
        path = src_dir / f"{lib.name}.js"
        path.write_text(umd_source(lib), encoding="utf-8")
        cache.add_local(path, lib.name, lib.version, lib.global_name)
    return list(LIBRARIES)
