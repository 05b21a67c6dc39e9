# ruff: noqa: E501  (the JavaScript cases are copied as they are)
"""The web-platform globals (WinterTC minimum common API) that the prelude adds to V8.

Most cases are copied from the web-platform-tests (https://github.com/web-platform-tests/wpt),
with the file they come from noted above each block; they run under a small testharness.js
look-alike (HARNESS). A few assertions are left out where noted (what a runtime without
documents or trusted events cannot do).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from vmsystem.runtime.v8 import V8Context

from .conftest import run, value

# The parts of testharness.js the copied cases use: every test() records its name and, when it
# failed, the message; the run's value is the list of failures.
HARNESS = r"""
globalThis.__results = [];
globalThis.self = globalThis;
function fmt(v) { try { return typeof v === 'string' ? JSON.stringify(v) : String(v) } catch { return '?' } }
function test(fn, name) {
  const t = { step_func: (f) => f, unreached_func: (m) => () => { throw new Error('unreached: ' + m) } };
  try { fn(t); } catch (e) { __results.push(name + ': ' + (e && e.message || e)); }
}
function assert_equals(a, b, m) { if (!Object.is(a, b)) throw new Error((m || '') + ' expected ' + fmt(b) + ' got ' + fmt(a)); }
function assert_not_equals(a, b, m) { if (Object.is(a, b)) throw new Error((m || '') + ' did not expect ' + fmt(b)); }
function assert_true(v, m) { if (v !== true) throw new Error((m || '') + ' expected true'); }
function assert_false(v, m) { if (v !== false) throw new Error((m || '') + ' expected false'); }
function assert_array_equals(a, b, m) {
  if (a.length !== b.length) throw new Error((m || '') + ' lengths ' + a.length + ' != ' + b.length);
  for (let i = 0; i < a.length; i++) assert_equals(a[i], b[i], (m || '') + ' [' + i + ']');
}
function assert_throws_js(C, fn, m) {
  try { fn(); } catch (e) { if (!(e instanceof C)) throw new Error((m || '') + ' threw ' + e); return; }
  throw new Error((m || '') + ' did not throw');
}
function assert_throws_dom(name, fn, m) {
  try { fn(); } catch (e) {
    if (!(e instanceof DOMException) || e.name !== name) throw new Error((m || '') + ' threw ' + e + ' not ' + name);
    return;
  }
  throw new Error((m || '') + ' did not throw');
}
function assert_throws_quotaexceedederror(fn, _a, _b, m) { assert_throws_dom('QuotaExceededError', fn, m); }
function done() {}
"""


def wpt(ctx: V8Context, cases: str) -> list[str]:
    """Failures of the copied cases (an empty list when all pass)."""
    outcome = run(ctx, HARNESS + cases + "\n;__results")
    assert outcome.kind == "ok", (outcome.kind, outcome.exception, outcome.message)
    assert outcome.value is not None
    failures = outcome.value["json"]
    assert isinstance(failures, list)
    return failures


def test_url_search_params_get(ctx: V8Context) -> None:
    # wpt/url/urlsearchparams-get.any.js
    cases = r"""
test(function() {
    var params = new URLSearchParams('a=b&c=d');
    assert_equals(params.get('a'), 'b');
    assert_equals(params.get('c'), 'd');
    assert_equals(params.get('e'), null);
    params = new URLSearchParams('a=b&c=d&a=e');
    assert_equals(params.get('a'), 'b');
    params = new URLSearchParams('=b&c=d');
    assert_equals(params.get(''), 'b');
    params = new URLSearchParams('a=&c=d&a=e');
    assert_equals(params.get('a'), '');
}, 'Get basics');

test(function() {
    var params = new URLSearchParams('first=second&third&&');
    assert_true(params != null, 'constructor returned non-null value.');
    assert_true(params.has('first'), 'Search params object has name "first"');
    assert_equals(params.get('first'), 'second');
    assert_equals(params.get('third'), '');
    assert_equals(params.get('fourth'), null);
}, 'More get() basics');
"""
    assert wpt(ctx, cases) == []


def test_url_parsing(ctx: V8Context) -> None:
    # Cases from wpt/url/resources/urltestdata.json and url-setters (a handful).
    cases = r"""
test(function() {
    var u = new URL('http://example.com/a/../b?x=1#frag');
    assert_equals(u.href, 'http://example.com/b?x=1#frag');
    assert_equals(u.pathname, '/b');
    assert_equals(u.search, '?x=1');
    assert_equals(u.hash, '#frag');
}, 'dot segments');
test(function() {
    assert_equals(new URL('HTTP://EXAMPLE.COM:80/').href, 'http://example.com/');
    assert_equals(new URL('https://xn--nxasmq6b.com/').hostname, 'xn--nxasmq6b.com');
    assert_equals(new URL('http://\u00E9xample.com/').hostname, 'xn--xample-9ua.com');
    assert_equals(new URL('b', 'http://example.com/a/').href, 'http://example.com/a/b');
    assert_equals(new URL('http://[::1]:8080/').host, '[::1]:8080');
    assert_equals(new URL('http://192.168.257/').hostname, '192.168.1.1');
}, 'host parsing');
test(function() {
    assert_throws_js(TypeError, function() { new URL('http://exa mple.com') });
    assert_throws_js(TypeError, function() { new URL('/relative') });
    assert_equals(URL.canParse('https://a.example'), true);
}, 'invalid URLs');
test(function() {
    var u = new URL('https://a.example/p?q=1');
    u.searchParams.append('r', 'a b');
    assert_equals(u.search, '?q=1&r=a+b');
    u.port = '8443';
    assert_equals(u.host, 'a.example:8443');
}, 'setters');
"""
    assert wpt(ctx, cases) == []
    assert value(ctx, 'new URL("https://a.example/p?q=1").searchParams.get("q")') == "1"


def test_text_encoder_utf16_surrogates(ctx: V8Context) -> None:
    # wpt/encoding/textencoder-utf16-surrogates.any.js
    cases = r"""
var bad = [
    { input: '\uD800', expected: '\uFFFD', name: 'lone surrogate lead' },
    { input: '\uDC00', expected: '\uFFFD', name: 'lone surrogate trail' },
    { input: '\uD800\u0000', expected: '\uFFFD\u0000', name: 'unmatched surrogate lead' },
    { input: '\uDC00\u0000', expected: '\uFFFD\u0000', name: 'unmatched surrogate trail' },
    { input: '\uDC00\uD800', expected: '\uFFFD\uFFFD', name: 'swapped surrogate pair' },
    { input: '\uD834\uDD1E', expected: '\uD834\uDD1E', name: 'MUSICAL SYMBOL G CLEF (U+1D11E)' }
];
bad.forEach(function(t) {
    test(function() {
        var encoded = new TextEncoder().encode(t.input);
        var decoded = new TextDecoder().decode(encoded);
        assert_equals(decoded, t.expected);
    }, 'USVString handling: ' + t.name);
});
test(function() {
    assert_equals(new TextEncoder().encode().length, 0, 'Should default to empty string');
}, 'USVString default');
"""
    assert wpt(ctx, cases) == []
    assert value(ctx, 'new TextEncoder().encode("é").length') == 2


def test_text_decoder_fatal(ctx: V8Context) -> None:
    # wpt/encoding/textdecoder-fatal.any.js (utf-8 cases; assert_throws(new TypeError()) as
    # assert_throws_js(TypeError))
    cases = r"""
var bad = [
    { input: [0xFF], name: 'invalid code' },
    { input: [0xC0], name: 'ends early' },
    { input: [0xE0], name: 'ends early 2' },
    { input: [0xC0, 0x00], name: 'invalid trail' },
    { input: [0xE0, 0x80, 0xC0], name: 'invalid trail 6' },
    { input: [0xFC, 0x80, 0x80, 0x80, 0x80, 0x80], name: '> 0x10FFFF' },
    { input: [0xC0, 0x80], name: 'overlong U+0000 - 2 bytes' },
    { input: [0xF0, 0x8F, 0xBF, 0xBF], name: 'overlong U+FFFF - 4 bytes' },
    { input: [0xED, 0xA0, 0x80], name: 'lead surrogate' },
    { input: [0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80], name: 'surrogate pair' },
];
bad.forEach(function(t) {
    test(function() {
        assert_throws_js(TypeError, function() {
            new TextDecoder('utf-8', {fatal: true}).decode(new Uint8Array(t.input))
        });
    }, 'Fatal flag: utf-8 - ' + t.name);
});
test(function() {
    assert_true('fatal' in new TextDecoder(), 'The fatal attribute should exist on TextDecoder.');
    assert_equals(typeof  new TextDecoder().fatal, 'boolean');
    assert_false(new TextDecoder().fatal, 'The fatal attribute should default to false.');
    assert_true(new TextDecoder('utf-8', {fatal: true}).fatal);
}, 'The fatal attribute of TextDecoder');
"""
    assert wpt(ctx, cases) == []


def test_atob_btoa(ctx: V8Context) -> None:
    # Cases from wpt/html/webappapis/atob/base64.any.js
    cases = r"""
test(function() {
    assert_equals(atob(''), '');
    assert_equals(atob('abcd'), 'i\xB7\x1D');
    assert_equals(atob(' abcd'), 'i\xB7\x1D');
    assert_equals(atob('abcd '), 'i\xB7\x1D');
    assert_equals(atob('ab'), 'i');
    assert_equals(atob('ab=='), 'i');
    assert_equals(atob('YQ'), 'a');
    assert_equals(btoa(''), '');
    assert_equals(btoa('a'), 'YQ==');
    assert_equals(btoa('\xFF\xFE'), '//4=');
}, 'round trips');
test(function() {
    assert_throws_dom('InvalidCharacterError', function() { atob('a') });
    assert_throws_dom('InvalidCharacterError', function() { atob('ab=c') });
    assert_throws_dom('InvalidCharacterError', function() { atob('@@@@') });
    assert_throws_dom('InvalidCharacterError', function() { btoa('\u0100') });
}, 'errors');
"""
    assert wpt(ctx, cases) == []


def test_structured_clone(ctx: V8Context) -> None:
    # Cases from wpt/html/webappapis/structured-clone/structured-clone-battery-of-tests.js
    cases = r"""
test(function() {
    assert_equals(structuredClone(1.5), 1.5);
    assert_equals(structuredClone('s'), 's');
    assert_equals(structuredClone(null), null);
    assert_equals(structuredClone(undefined), undefined);
    assert_equals(structuredClone(10n), 10n);
}, 'primitives');
test(function() {
    var d = new Date(1e12);
    var c = structuredClone(d);
    assert_not_equals(c, d);
    assert_equals(c.getTime(), 1e12);
    var r = structuredClone(/ab/gi);
    assert_equals(r.source, 'ab');
    assert_equals(r.flags, 'gi');
}, 'Date and RegExp');
test(function() {
    var m = structuredClone(new Map([[1, {a: 1}]]));
    assert_equals(m.get(1).a, 1);
    var s = structuredClone(new Set([1, 2]));
    assert_true(s.has(2));
    var o = {}; o.self = o;
    var c = structuredClone(o);
    assert_equals(c.self, c);
    assert_not_equals(c, o);
}, 'Map, Set and cycles');
test(function() {
    assert_throws_dom('DataCloneError', function() { structuredClone(function () {}) });
    assert_throws_dom('DataCloneError', function() { structuredClone(Symbol('s')) });
}, 'uncloneable values');
"""
    assert wpt(ctx, cases) == []
    assert value(ctx, "structuredClone(new Map([[1, {a: 1}]])).get(1).a") == 1


def test_abort_controller_events(ctx: V8Context) -> None:
    # wpt/dom/abort/event.any.js (without e.isTrusted: only a browser dispatches trusted
    # events, and without the brand checks of null/primitive receivers' messages)
    cases = r"""
test(t => {
  const c = new AbortController(), s = c.signal;
  let state = "begin";
  assert_false(s.aborted);
  s.addEventListener("abort", t.step_func(e => { assert_equals(state, "begin"); state = "aborted"; }));
  c.abort();
  assert_equals(state, "aborted");
  assert_true(s.aborted);
  c.abort();
}, "AbortController abort() should fire event synchronously");
test(t => {
  const controller = new AbortController();
  const signal = controller.signal;
  assert_equals(controller.signal, signal);
  controller.abort();
  assert_equals(controller.signal, signal);
}, "controller.signal should always return the same object");
test(t => {
  const controller = new AbortController();
  const signal = controller.signal;
  let eventCount = 0;
  signal.onabort = () => { ++eventCount; };
  controller.abort();
  assert_true(signal.aborted);
  assert_equals(eventCount, 1, "event handler should have been called once");
  controller.abort();
  assert_equals(eventCount, 1, "event handler should not have been called again");
}, "controller.abort() should do nothing the second time it is called");
test(t => {
  const controller = new AbortController();
  const signal = controller.signal;
  signal.onabort = t.step_func(e => {
    assert_equals(e.type, "abort", "event type should be abort");
    assert_equals(e.target, signal, "event target should be signal");
    assert_false(e.bubbles, "event should not bubble");
  });
  controller.abort();
}, "the abort event should have the right properties");
test(t => {
  const signal = AbortSignal.abort();
  assert_true(signal.aborted);
  assert_equals(signal.reason.name, "AbortError");
}, "the AbortSignal.abort() static returns an already aborted signal");
test(t => {
  const acSignalGet = Object.getOwnPropertyDescriptor(AbortController.prototype, 'signal').get;
  const bad = [null, undefined, 0, true, Object.create(AbortController.prototype)];
  for (const b of bad) assert_throws_js(TypeError, acSignalGet.bind(b), 'controller.signal should throw');
}, "AbortController should perform brand checks");
"""
    assert wpt(ctx, cases) == []


def test_abort_signal_timeout_fires_within_the_run(ctx: V8Context) -> None:
    code = """
    const s = AbortSignal.timeout(10);
    await new Promise(r => s.addEventListener('abort', r));
    [s.aborted, s.reason.name]
    """
    assert value(ctx, code) == [True, "TimeoutError"]


def test_event_target(ctx: V8Context) -> None:
    # Cases after wpt/dom/events/EventTarget-dispatchEvent.html, AddEventListenerOptions-once
    # and Event-constructors.any.js
    cases = r"""
test(function() {
    var ev = new Event('test');
    assert_equals(ev.type, 'test');
    assert_false(ev.bubbles);
    assert_false(ev.cancelable);
    assert_false(ev.defaultPrevented);
    var ev2 = new Event('x', {cancelable: true});
    ev2.preventDefault();
    assert_true(ev2.defaultPrevented);
}, 'Event constructors');
test(function() {
    var target = new EventTarget(), calls = [];
    function h(e) { calls.push(e.type + ':' + (e.target === target)); }
    target.addEventListener('a', h);
    target.addEventListener('a', h);   // a duplicate is ignored
    assert_true(target.dispatchEvent(new Event('a')));
    target.removeEventListener('a', h);
    target.dispatchEvent(new Event('a'));
    assert_array_equals(calls, ['a:true']);
}, 'dispatch, duplicates and removal');
test(function() {
    var target = new EventTarget(), n = 0;
    target.addEventListener('b', function () { n++ }, {once: true});
    target.dispatchEvent(new Event('b'));
    target.dispatchEvent(new Event('b'));
    assert_equals(n, 1);
}, 'once');
test(function() {
    class Custom extends EventTarget {}
    var c = new Custom(), got = null;
    c.addEventListener('c', { handleEvent(e) { got = e.type } });
    c.dispatchEvent(new Event('c'));
    assert_equals(got, 'c');
}, 'subclasses and handleEvent objects');
"""
    assert wpt(ctx, cases) == []


def test_crypto_get_random_values(ctx: V8Context) -> None:
    # wpt/WebCryptoAPI/getRandomValues.any.js
    cases = r"""
test(function() {
    assert_throws_dom("TypeMismatchError", function() { self.crypto.getRandomValues(new Float32Array(6)) }, "Float32Array")
    assert_throws_dom("TypeMismatchError", function() { self.crypto.getRandomValues(new Float64Array(6)) }, "Float64Array")
}, "Float arrays");
test(function() {
    assert_throws_dom("TypeMismatchError", function() { self.crypto.getRandomValues(new DataView(new ArrayBuffer(6))) }, "DataView")
}, "DataView");
const arrays = ['Int8Array', 'Int16Array', 'Int32Array', 'BigInt64Array', 'Uint8Array',
                'Uint8ClampedArray', 'Uint16Array', 'Uint32Array', 'BigUint64Array'];
for (const array of arrays) {
    const ctor = globalThis[array];
    test(function() {
        assert_equals(self.crypto.getRandomValues(new ctor(8)).constructor, ctor)
    }, "Integer array: " + array);
    test(function() {
        const maxlength = 65536 / ctor.BYTES_PER_ELEMENT;
        assert_throws_quotaexceedederror(() => { self.crypto.getRandomValues(new ctor(maxlength + 1)); }, null, null, "over 65536");
    }, "Large length: " + array);
    test(function() {
        assert_true(self.crypto.getRandomValues(new ctor(0)).length == 0)
    }, "Null arrays: " + array);
    test(function() {
        class Buffer extends ctor {}
        self.crypto.getRandomValues(new Buffer(256));
    }, "Subclass of " + array);
}
"""
    assert wpt(ctx, cases) == []


def test_random_values_come_from_the_host_and_differ(ctx: V8Context) -> None:
    code = """
    const a = crypto.getRandomValues(new Uint8Array(64));
    const b = crypto.getRandomValues(new Uint8Array(64));
    // Math.random is replaced: the bytes do not come from it.
    Math.random = () => 0;
    const c = crypto.getRandomValues(new Uint32Array(16));
    [a.join() !== b.join(), a.some(x => x !== 0), c.some(x => x !== 0)]
    """
    assert value(ctx, code) == [True, True, True]


def test_random_uuid(ctx: V8Context) -> None:
    # After wpt/WebCryptoAPI/randomUUID.https.any.js
    code = r"""
    const ids = new Set();
    let ok = true;
    for (let i = 0; i < 50; i++) {
      const id = crypto.randomUUID();
      ok = ok && /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id);
      ids.add(id);
    }
    [ok, ids.size]
    """
    assert value(ctx, code) == [True, 50]


def test_performance_now_is_monotonic_milliseconds(ctx: V8Context) -> None:
    first = value(ctx, "performance.now()")
    time.sleep(0.02)
    second = value(ctx, "performance.now()")
    assert 0 <= first < second
    assert second - first >= 15
    assert value(ctx, "typeof performance.timeOrigin") == "number"


@pytest.mark.parametrize("name", ["URL", "TextEncoder", "structuredClone", "AbortController"])
def test_web_api_globals_can_be_replaced(ctx: V8Context, name: str) -> None:
    assert value(ctx, f"{name} = 5; {name}") == 5
    assert value(ctx, f"typeof {name}") == "number"


def test_no_network_api_is_added(ctx: V8Context) -> None:
    assert value(ctx, "[typeof fetch, typeof XMLHttpRequest, typeof WebSocket]") == [
        "undefined",
        "undefined",
        "undefined",
    ]


def test_web_apis_work_when_the_template_hides_globals_they_use(
    make_ctx: Callable[..., V8Context],
) -> None:
    # Sessions hide SharedArrayBuffer and Atomics by default; the libraries still get them.
    ctx = make_ctx(hidden_globals=("SharedArrayBuffer", "Atomics", "Intl", "eval"))
    assert value(ctx, "new URL('https://b.example/x?y=2').searchParams.get('y')") == "2"
    assert value(ctx, "[typeof SharedArrayBuffer, typeof Atomics]") == ["undefined", "undefined"]


HEX = "const hex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');"


@pytest.mark.parametrize(
    ("algorithm", "digest"),
    [
        ("SHA-1", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("SHA-256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "SHA-384",
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
            "8086072ba1e7cc2358baeca134c825a7",
        ),
        (
            "SHA-512",
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        ),
    ],
)
def test_subtle_digest_matches_the_known_vectors(
    ctx: V8Context, algorithm: str, digest: str
) -> None:
    code = f"{HEX} hex(await crypto.subtle.digest('{algorithm}', new TextEncoder().encode('abc')))"
    assert value(ctx, code) == digest


def test_subtle_hmac_signs_and_verifies_the_known_vector(ctx: V8Context) -> None:
    code = (
        HEX
        + """
    const enc = new TextEncoder();
    const key = await crypto.subtle.importKey(
      'raw', enc.encode('key'), {name: 'HMAC', hash: 'SHA-256'}, false, ['sign', 'verify']);
    const msg = enc.encode('The quick brown fox jumps over the lazy dog');
    const sig = await crypto.subtle.sign('HMAC', key, msg);
    const bad = new Uint8Array(sig).slice(); bad[0] ^= 1;
    [hex(sig), await crypto.subtle.verify('HMAC', key, sig, msg),
     await crypto.subtle.verify('HMAC', key, bad, msg), key.constructor.name, key.algorithm.hash.name]
    """
    )
    assert value(ctx, code) == [
        "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
        True,
        False,
        "CryptoKey",
        "SHA-256",
    ]


def test_subtle_aes_gcm_matches_the_known_vector_and_refuses_tampering(ctx: V8Context) -> None:
    # GCM test case 2 (zero key and IV, one zero block): ciphertext then tag.
    code = (
        HEX
        + """
    const key = await crypto.subtle.importKey(
      'raw', new Uint8Array(16), 'AES-GCM', true, ['encrypt', 'decrypt']);
    const iv = new Uint8Array(12);
    const sealed = await crypto.subtle.encrypt({name: 'AES-GCM', iv}, key, new Uint8Array(16));
    const opened = await crypto.subtle.decrypt({name: 'AES-GCM', iv}, key, sealed);
    const bad = new Uint8Array(sealed).slice(); bad[0] ^= 1;
    let refused;
    try { await crypto.subtle.decrypt({name: 'AES-GCM', iv}, key, bad) } catch (e) { refused = e.name }
    const fresh = await crypto.subtle.generateKey({name: 'AES-GCM', length: 256}, true, ['encrypt', 'decrypt']);
    const text = await crypto.subtle.encrypt({name: 'AES-GCM', iv}, fresh, new TextEncoder().encode('hi'));
    [hex(sealed), hex(opened), refused, (await crypto.subtle.exportKey('raw', fresh)).byteLength,
     new TextDecoder().decode(await crypto.subtle.decrypt({name: 'AES-GCM', iv}, fresh, text))]
    """
    )
    assert value(ctx, code) == [
        "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf",
        "00000000000000000000000000000000",
        "OperationError",
        32,
        "hi",
    ]


def test_subtle_refuses_what_it_does_not_support(ctx: V8Context) -> None:
    code = """
    const out = [];
    for (const f of [() => crypto.subtle.digest('MD5', new Uint8Array(1)),
                     () => crypto.subtle.generateKey({name: 'RSA-OAEP'}, false, []),
                     () => crypto.subtle.digest('SHA-256', 'not bytes')]) {
      try { await f(); out.push('accepted') } catch (e) { out.push(e.name) }
    }
    out
    """
    assert value(ctx, code) == ["NotSupportedError", "NotSupportedError", "TypeError"]
