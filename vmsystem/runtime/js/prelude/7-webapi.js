// Part of the session prelude, concatenated in file-name order inside the closure that
// 1-primordials.js opens (see runtime/isolate.py): names defined in earlier parts are in scope.
  // ---------------------------------------------------------------- web APIs
  // The WinterTC minimum common API where V8 lacks it. The npm libraries (js/bundle-webapi.js,
  // built from runtime-js/) cost ~25 ms to evaluate, so their globals are accessors that load
  // the bundle on first use and then replace themselves with plain data properties.
  // crypto and performance are small glue, installed directly.
  const bundles = _create(null);
  // extra: {name: value} passed to the bundle as parameters of the function it is evaluated in
  // (hooks the bundle expects; never globals).
  function loadBundle(name, extra) {
    if (!_hasOwn(bundles, name)) {
      const src = hostCall("bundle", name);
      const module = { exports: {} };
      const names = newList(), argv = newList();
      _push(argv, module);
      _push(argv, module.exports);
      for (let i = 0; i < hiddenNames.length; i++) { _push(names, hiddenNames[i]); _push(argv, hiddenValues[i]); }
      if (extra !== undefined) {
        const keys = _keys(extra);
        for (let i = 0; i < keys.length; i++) { _push(names, keys[i]); _push(argv, extra[keys[i]]); }
      }
      const params = names.length ? ", " + _arrJoin(names, ", ") : "";
      const fn = (0, _eval)("(function (module, exports" + params + ") {" + src + "\n})\n//# sourceURL=vm-system:bundle-" + name);
      _apply(fn, undefined, argv);
      bundles[name] = module.exports;
    }
    return bundles[name];
  }
  function defineGlobal(name, value) {
    _defineProperty(G, name, { value, writable: true, configurable: true, enumerable: false });
  }
  let webapi = null, webapiLoading = false;
  const nativeDOMException = typeof G.DOMException === "function" ? G.DOMException : null;
  function installWebApi() {
    if (webapi !== null) return webapi;
    // The libraries probe for these globals while they load: they are absent meanwhile.
    if (webapiLoading) return null;
    webapiLoading = true;
    try { return buildWebApi(); } finally { webapiLoading = false; }
  }
  function buildWebApi() {
    const lib = loadBundle("webapi");
    const DOMException = nativeDOMException !== null ? nativeDOMException : makeDOMException();
    const { EventTarget, Event } = lib;
    const ABORT = _Symbol("abort");
    class AbortSignal extends EventTarget {
      #aborted = false;
      #reason = undefined;
      constructor(key) {
        if (key !== ABORT) throw new _TypeError("Illegal constructor");
        super();
      }
      get aborted() { return this.#aborted; }
      get reason() { return this.#reason; }
      throwIfAborted() { if (this.#aborted) throw this.#reason; }
      static abort(reason) {
        const s = new AbortSignal(ABORT);
        s.#aborted = true;
        s.#reason = reason === undefined ? new DOMException("This operation was aborted", "AbortError") : reason;
        return s;
      }
      static timeout(ms) {
        const s = new AbortSignal(ABORT);
        timerFns.setTimeout(() => AbortSignal[ABORT](s, new DOMException("The operation was aborted due to timeout", "TimeoutError")), ms);
        return s;
      }
      static any(signals) {
        const s = new AbortSignal(ABORT);
        for (const other of signals) {
          if (other.aborted) { AbortSignal[ABORT](s, other.reason); return s; }
        }
        for (const other of signals) other.addEventListener("abort", () => AbortSignal[ABORT](s, other.reason), { once: true });
        return s;
      }
      static [ABORT](s, reason) {
        if (s.#aborted) return;
        s.#aborted = true;
        s.#reason = reason === undefined ? new DOMException("This operation was aborted", "AbortError") : reason;
        s.dispatchEvent(new Event("abort"));
      }
    }
    lib.defineEventAttribute(AbortSignal.prototype, "abort");
    class AbortController {
      #signal = new AbortSignal(ABORT);
      get signal() { return this.#signal; }
      abort(reason) { AbortSignal[ABORT](this.#signal, reason); }
    }
    _defineProperty(AbortSignal.prototype, _Symbol.toStringTag, { value: "AbortSignal", configurable: true });
    _defineProperty(AbortController.prototype, _Symbol.toStringTag, { value: "AbortController", configurable: true });
    function structuredClone(value, options) {
      if (arguments.length === 0) throw new _TypeError("structuredClone: 1 argument required, but only 0 present.");
      try {
        return lib.deserialize(lib.serialize(value, { lossy: false, json: false }));
      } catch (e) {
        throw new DOMException(e && e.message ? e.message : _String(e), "DataCloneError");
      }
    }
    function atob(data) {
      if (arguments.length === 0) throw new _TypeError("atob: 1 argument required, but only 0 present.");
      try { return lib.atob(_String(data)); } catch (e) { throw new DOMException("The string to be decoded is not correctly encoded.", "InvalidCharacterError"); }
    }
    function btoa(data) {
      if (arguments.length === 0) throw new _TypeError("btoa: 1 argument required, but only 0 present.");
      try { return lib.btoa(_String(data)); } catch (e) { throw new DOMException("Invalid character", "InvalidCharacterError"); }
    }
    webapi = {
      URL: lib.URL, URLSearchParams: lib.URLSearchParams, TextEncoder: lib.TextEncoder,
      TextDecoder: lib.TextDecoder, EventTarget, Event, AbortController, AbortSignal,
      DOMException, structuredClone, atob, btoa,
    };
    for (const name of _keys(webapi)) defineGlobal(name, webapi[name]);
    return webapi;
  }
  function makeDOMException() {
    const CODES = { IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4, InvalidCharacterError: 5,
      NoModificationAllowedError: 7, NotFoundError: 8, NotSupportedError: 9, InvalidStateError: 11, SyntaxError: 12,
      InvalidModificationError: 13, NamespaceError: 14, InvalidAccessError: 15, TypeMismatchError: 17,
      SecurityError: 18, NetworkError: 19, AbortError: 20, URLMismatchError: 21, QuotaExceededError: 22,
      TimeoutError: 23, InvalidNodeTypeError: 24, DataCloneError: 25 };
    class DOMException extends _Error {
      #name;
      constructor(message = "", name = "Error") {
        super(_String(message));
        this.#name = _String(name);
      }
      get name() { return this.#name; }
      get code() { return _hasOwn(CODES, this.#name) ? CODES[this.#name] : 0; }
    }
    return DOMException;
  }
  for (const name of ["URL", "URLSearchParams", "TextEncoder", "TextDecoder", "EventTarget", "Event",
                      "AbortController", "AbortSignal", "DOMException", "structuredClone", "atob", "btoa"]) {
    if (typeof G[name] !== "undefined") continue;   // V8 has it already
    _defineProperty(G, name, {
      get() { const api = installWebApi(); return api === null ? undefined : api[name]; },
      set(v) { defineGlobal(name, v); },
      configurable: true, enumerable: false,
    });
  }

  // Node's `global` and `Buffer` (npm's `buffer` package, js/bundle-buffer.js, loaded on first
  // use), which many npm packages expect.
  if (typeof G.global === "undefined") defineGlobal("global", G);
  if (typeof G.Buffer === "undefined") {
    _defineProperty(G, "Buffer", {
      get() { const B = loadBundle("buffer").Buffer; defineGlobal("Buffer", B); return B; },
      set(v) { defineGlobal("Buffer", v); },
      configurable: true, enumerable: false,
    });
  }

  // ---------------------------------------------------------------- deterministic mode
  // With config.deterministic_seed (settings.deterministic.seed), every source of entropy user
  // code can read is a pure function of the seed and of the calls made so far: Math.random and
  // crypto draw from one sfc32 generator seeded here, and Date.now(), new Date(), Date() and
  // performance.now() read a virtual clock that starts at DET_EPOCH and advances DET_STEP_MS
  // per read. The prelude's own timing (timers, console flushing) keeps the real clock
  // (_dateNow), so timers still fire after their real delay.
  const DET_SEED = config.deterministic_seed;
  const DETERMINISTIC = typeof DET_SEED === "number";
  const DET_EPOCH = 946684800000;   // 2000-01-01T00:00:00.000Z
  const DET_STEP_MS = 1;
  let detNow = DET_EPOCH;
  function detClock() { const t = detNow; detNow += DET_STEP_MS; return t; }
  // sfc32 (Chris Doty-Humphrey's Small Fast Chaotic PRNG, 32-bit), state from the seed's low
  // and high 32 bits, warmed up as its reference implementation does.
  let sa = 0x9e3779b9, sb = 0, sc = 0, sd = 1;
  function sfc32() {
    const t = (((sa + sb) | 0) + sd) | 0;
    sd = (sd + 1) | 0;
    sa = sb ^ (sb >>> 9);
    sb = (sc + (sc << 3)) | 0;
    sc = (sc << 21) | (sc >>> 11);
    sc = (sc + t) | 0;
    return t >>> 0;
  }
  if (DETERMINISTIC) {
    sb = DET_SEED % 4294967296 | 0;
    sc = _Math.floor(DET_SEED / 4294967296) | 0;
    for (let i = 0; i < 12; i++) sfc32();
    _defineProperty(_Math, "random", {
      value: function random() { return sfc32() / 4294967296; },
      writable: true, configurable: true, enumerable: false,
    });
    // Date: the same constructor except where it reads the current time. Its prototype is the
    // real Date.prototype, so instanceof, subclasses and every method keep working.
    const DetDate = function Date(...args) {
      if (new.target === undefined) return _dateToString(new _Date(detClock()));
      return _Reflect.construct(_Date, args.length === 0 ? [detClock()] : args, new.target);
    };
    _defineProperty(DetDate, "length", { value: 7, configurable: true });
    _defineProperty(DetDate, "prototype", { value: _Date.prototype, writable: false, enumerable: false, configurable: false });
    _defineProperty(_Date.prototype, "constructor", { value: DetDate, writable: true, configurable: true, enumerable: false });
    for (const [name, value] of [["now", function now() { return detClock(); }], ["parse", _dateParse], ["UTC", _dateUTC]]) {
      _defineProperty(DetDate, name, { value, writable: true, configurable: true, enumerable: false });
    }
    _defineProperty(G, "Date", { value: DetDate, writable: true, configurable: true, enumerable: false });
  }

  function domException() { return (webapi !== null ? webapi : installWebApi()).DOMException; }
  // crypto: random bytes come from the host (os.urandom), never from Math.random (in
  // deterministic mode, from the seeded generator above).
  const MAX_RANDOM_BYTES = 65536;
  const _hexPairs = newList();
  for (let i = 0; i < 256; i++) _push(_hexPairs, (i < 16 ? "0" : "") + _numToString(i, 16));
  function randomBytes(n) {
    if (DETERMINISTIC) {
      const out = new _Uint8Array(n);
      for (let i = 0; i < n; i += 4) {
        let word = sfc32();
        for (let j = i; j < i + 4 && j < n; j++) { out[j] = word & 0xff; word >>>= 8; }
      }
      return out;
    }
    const hex = hostCall("random", n);
    const out = new _Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = _parseInt(hex[2 * i] + hex[2 * i + 1], 16);
    return out;
  }
  const INTEGER_ARRAYS = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
                          "Int32Array", "Uint32Array", "BigInt64Array", "BigUint64Array"];
  const cryptoObj = {
    getRandomValues(array) {
      let tag;
      try { tag = _taTag(array); } catch (e) { tag = undefined; }
      if (tag === undefined || !_apply(_arrIncludes, INTEGER_ARRAYS, [tag])) {
        throw new (domException())("Failed to execute 'getRandomValues' on 'Crypto': The provided ArrayBufferView is of type '" +
          (tag || typeof array) + "', which is not an integer array type.", "TypeMismatchError");
      }
      const n = _apply(_taByteLength, array, []);
      if (n > MAX_RANDOM_BYTES) {
        throw new (domException())("Failed to execute 'getRandomValues' on 'Crypto': The ArrayBufferView's byte length (" + n + ") exceeds the number of bytes of entropy available via this API (65536).", "QuotaExceededError");
      }
      if (n > 0) {
        const bytes = randomBytes(n);
        const view = new _Uint8Array(_apply(_taBuffer, array, []), _apply(_taByteOffset, array, []), n);
        for (let i = 0; i < n; i++) view[i] = bytes[i];
      }
      return array;
    },
    randomUUID() {
      const b = randomBytes(16);
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      let s = "";
      for (let i = 0; i < 16; i++) s += (i === 4 || i === 6 || i === 8 || i === 10 ? "-" : "") + _hexPairs[b[i]];
      return s;
    },
  };
  // crypto.subtle: digest (SHA-1/256/384/512), HMAC (importKey raw, generateKey, sign, verify)
  // and AES-GCM (importKey raw, generateKey, encrypt, decrypt; 128-bit tags), computed by the
  // host (hashlib, hmac, the cryptography package; runtime/subtle.py). Keys are CryptoKey
  // objects whose bytes stay in the prelude.
  const keyBytes = new _WeakMap();
  const HASHES = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"];
  const HMAC_BLOCK = { "SHA-1": 64, "SHA-256": 64, "SHA-384": 128, "SHA-512": 128 };
  class CryptoKey {
    constructor(key) { if (key !== keyBytes) throw new _TypeError("Illegal constructor"); }
  }
  _defineProperty(CryptoKey.prototype, _Symbol.toStringTag, { value: "CryptoKey", configurable: true });
  function newKey(bytes, algorithm, extractable, usages) {
    const k = new CryptoKey(keyBytes);
    _defineProperty(k, "type", { value: "secret", enumerable: true });
    _defineProperty(k, "extractable", { value: !!extractable, enumerable: true });
    _defineProperty(k, "algorithm", { value: _freeze(algorithm), enumerable: true });
    _defineProperty(k, "usages", { value: _freeze(_arrayFrom(usages || [])), enumerable: true });
    _apply(_weakSet, keyBytes, [k, bytes]);
    return k;
  }
  function bytesOf(data) {
    let view;
    if (isBuffer(data)) view = new _Uint8Array(data);
    else if (_ArrayBufferIsView(data)) {
      view = new _Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    } else throw new _TypeError("Failed to execute on 'SubtleCrypto': the data is not a BufferSource");
    let hex = "";
    for (let i = 0; i < view.length; i++) hex += _hexPairs[view[i]];
    return hex;
  }
  function bufferOf(hex) {
    const out = new _Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = _parseInt(hex[2 * i] + hex[2 * i + 1], 16);
    return out.buffer;
  }
  function algorithmOf(a) {
    const alg = typeof a === "string" ? { name: a } : a;
    if (alg === null || typeof alg !== "object") throw new _TypeError("Algorithm: not an object or a name");
    const name = _String(alg.name).toUpperCase();
    return { alg, name };
  }
  function hashOf(h) {
    const name = _String(typeof h === "string" ? h : h && h.name).toUpperCase();
    if (!_apply(_arrIncludes, HASHES, [name])) throw new (domException())("Unrecognized hash: " + name, "NotSupportedError");
    return name;
  }
  function secretOf(key, name, usage) {
    const bytes = key !== null && typeof key === "object" ? _apply(_weakGet, keyBytes, [key]) : undefined;
    if (bytes === undefined) throw new _TypeError("parameter is not of type 'CryptoKey'");
    if (key.algorithm.name !== name) throw new (domException())("The key is not a " + name + " key", "InvalidAccessError");
    if (!_apply(_arrIncludes, key.usages, [usage])) throw new (domException())("The key does not allow " + usage, "InvalidAccessError");
    return bytes;
  }
  function subtleCall(args) {
    try { return hostCall("subtle", args); } catch (e) {
      const m = _String(e && e.message);
      if (_strStartsWith(m, "OperationError: ")) throw new (domException())(_strSlice(m, 16), "OperationError");
      throw e;
    }
  }
  function asPromise(fn) {
    return function (...args) {
      try { return _apply(_promiseResolve, _Promise, [fn(...args)]); }
      catch (e) { return new _Promise((resolve, reject) => reject(e)); }
    };
  }
  const notSupported = (name) => new (domException())("Algorithm not supported: " + name, "NotSupportedError");
  const subtleObj = {
    digest: asPromise((algorithm, data) => {
      const name = hashOf(algorithm);
      return bufferOf(subtleCall(["digest", name, bytesOf(data)]));
    }),
    importKey: asPromise((format, keyData, algorithm, extractable, usages) => {
      if (format !== "raw") throw new (domException())("Only the 'raw' key format is supported", "NotSupportedError");
      const { alg, name } = algorithmOf(algorithm);
      const hex = bytesOf(keyData);
      if (name === "HMAC") return newKey(hex, { name, hash: { name: hashOf(alg.hash) }, length: hex.length * 4 }, extractable, usages);
      if (name === "AES-GCM") {
        if (hex.length !== 32 && hex.length !== 48 && hex.length !== 64) throw new (domException())("AES key data must be 128, 192 or 256 bits", "DataError");
        return newKey(hex, { name, length: hex.length * 4 }, extractable, usages);
      }
      throw notSupported(name);
    }),
    exportKey: asPromise((format, key) => {
      if (format !== "raw") throw new (domException())("Only the 'raw' key format is supported", "NotSupportedError");
      const bytes = key !== null && typeof key === "object" ? _apply(_weakGet, keyBytes, [key]) : undefined;
      if (bytes === undefined) throw new _TypeError("parameter 2 is not of type 'CryptoKey'");
      if (!key.extractable) throw new (domException())("key is not extractable", "InvalidAccessError");
      return bufferOf(bytes);
    }),
    generateKey: asPromise((algorithm, extractable, usages) => {
      const { alg, name } = algorithmOf(algorithm);
      let bits;
      if (name === "AES-GCM") {
        bits = _Number(alg.length);
        if (bits !== 128 && bits !== 192 && bits !== 256) throw new (domException())("AES key length must be 128, 192 or 256 bits", "OperationError");
      } else if (name === "HMAC") {
        const hash = hashOf(alg.hash);
        bits = alg.length !== undefined ? _Number(alg.length) : HMAC_BLOCK[hash] * 8;
        const r = randomBytes(bits / 8);
        let hex = "";
        for (let i = 0; i < r.length; i++) hex += _hexPairs[r[i]];
        return newKey(hex, { name, hash: { name: hash }, length: bits }, extractable, usages);
      } else throw notSupported(name);
      const r = randomBytes(bits / 8);
      let hex = "";
      for (let i = 0; i < r.length; i++) hex += _hexPairs[r[i]];
      return newKey(hex, { name, length: bits }, extractable, usages);
    }),
    sign: asPromise((algorithm, key, data) => {
      const { name } = algorithmOf(algorithm);
      if (name !== "HMAC") throw notSupported(name);
      return bufferOf(subtleCall(["hmac", key.algorithm.hash.name, secretOf(key, name, "sign"), bytesOf(data)]));
    }),
    verify: asPromise((algorithm, key, signature, data) => {
      const { name } = algorithmOf(algorithm);
      if (name !== "HMAC") throw notSupported(name);
      return subtleCall(["hmac_verify", key.algorithm.hash.name, secretOf(key, name, "verify"), bytesOf(signature), bytesOf(data)]) === true;
    }),
    encrypt: asPromise((algorithm, key, data) => aesGcm("encrypt", algorithm, key, data)),
    decrypt: asPromise((algorithm, key, data) => aesGcm("decrypt", algorithm, key, data)),
  };
  function aesGcm(op, algorithm, key, data) {
    const { alg, name } = algorithmOf(algorithm);
    if (name !== "AES-GCM") throw notSupported(name);
    const tagLength = alg.tagLength === undefined ? 128 : _Number(alg.tagLength);
    if (tagLength !== 128) throw new (domException())("Only 128-bit tags are supported", "NotSupportedError");
    const aad = alg.additionalData === undefined ? null : bytesOf(alg.additionalData);
    return bufferOf(subtleCall(["aes_gcm_" + op, secretOf(key, name, op), bytesOf(alg.iv), bytesOf(data), aad, 16]));
  }
  for (const name of _keys(subtleObj)) _defineProperty(subtleObj[name], "name", { value: name });
  cryptoObj.subtle = _freeze(subtleObj);
  _defineProperty(G, "CryptoKey", { value: CryptoKey, writable: true, configurable: true, enumerable: false });
  _defineProperty(G, "crypto", { value: _freeze(cryptoObj), writable: true, configurable: true, enumerable: false });
  // performance.now(): milliseconds since the context was created (Date.now() resolution);
  // in deterministic mode, the virtual clock's reading minus its epoch (timeOrigin).
  const timeOrigin = DETERMINISTIC ? DET_EPOCH : _dateNow();
  const performanceObj = {
    timeOrigin,
    now() { return (DETERMINISTIC ? detClock() : _dateNow()) - timeOrigin; },
  };
  _defineProperty(G, "performance", { value: _freeze(performanceObj), writable: true, configurable: true, enumerable: false });
