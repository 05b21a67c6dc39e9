// vm-system session prelude. Evaluated once per V8 context before any user code.
//
// It installs console, require, process and the ArrayBuffer accounting, keeps every internal
// in this closure (user code cannot reach the host bridge), and evaluates to an array of
// internal functions that the Python side keeps handles to:
//   [finishOk, finishErr, begin, sab]
// The host bridge: one SharedArrayBuffer mailbox plus a synchronous "bell" callback into
// Python (the Python handler runs on the isolate thread while JS waits inside the call).
(function (bell, configJson) {
  "use strict";
  const G = globalThis;
  const config = JSON.parse(configJson);
  const _eval = eval;
  const _Object = Object, _JSON = JSON, _String = String, _Array = Array, _Error = Error;
  const _isArray = Array.isArray, _keys = Object.keys, _getProto = Object.getPrototypeOf;
  const _dateNow = Date.now, _fromCharCode = String.fromCharCode;
  const _defineProperty = Object.defineProperty, _freeze = Object.freeze;
  const _Uint16Array = Uint16Array, _Int32Array = Int32Array;
  const _fnToString = Function.prototype.toString, _objToString = Object.prototype.toString;
  const _RangeError = RangeError, _Reflect = Reflect, _Proxy = Proxy;
  const _Map = Map, _Set = Set, _Date = Date, _RegExp = RegExp, _Promise = Promise;
  const _WeakMap = WeakMap, _WeakSet = WeakSet;
  const _mapEntries = Map.prototype.entries, _setValues = Set.prototype.values;
  const _dateToISO = Date.prototype.toISOString, _regexpToString = RegExp.prototype.toString;
  const _errorToString = Error.prototype.toString;
  const _symToString = Symbol.prototype.toString;
  const _FinalizationRegistry = typeof FinalizationRegistry === "function" ? FinalizationRegistry : null;
  const _ArrayBufferIsView = ArrayBuffer.isView;
  // Globals a template may hide (capability global:<Name>): keep the originals used here.
  const _ArrayBuffer = ArrayBuffer, _SharedArrayBuffer = SharedArrayBuffer;
  const _isNaN = isNaN, _isFinite = isFinite, _parseInt = parseInt, _parseFloat = parseFloat;
  const _Number = Number;
  const _abByteLength = _Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength").get;
  const _sabByteLength = _Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, "byteLength").get;
  // Fix: the harness used JSON.stringify/parse, Function.prototype.apply and subarray through
  // live lookups, so user code replacing them (a logging library wrapping JSON.stringify, or
  // `JSON.stringify = () => "null"`) broke or forged the host protocol and the run report.
  const _stringify = JSON.stringify, _parse = JSON.parse, _apply = Reflect.apply;
  const _u16Subarray = Uint16Array.prototype.subarray;
  const _toWellFormed = String.prototype.toWellFormed;
  const _TypedArrayProto = _getProto(Uint8Array.prototype);
  const _taByteLength = _Object.getOwnPropertyDescriptor(_TypedArrayProto, "byteLength").get;
  const _taBuffer = _Object.getOwnPropertyDescriptor(_TypedArrayProto, "buffer").get;
  const _taLength = _Object.getOwnPropertyDescriptor(_TypedArrayProto, "length").get;
  const _arrayFrom = Array.from, _iterator = Symbol.iterator;

  // ---------------------------------------------------------------- host bridge
  const sab = new SharedArrayBuffer(config.mailbox_bytes);
  const hdr = new _Int32Array(sab, 0, 4);          // [request units, reply units, flags, started]
  const data = new _Uint16Array(sab, 16);          // UTF-16 code units
  const CAP = data.length;
  const MORE_REQUEST = 1, MORE_REPLY = 2;

  function writeUnits(str, from, count) {
    for (let i = 0; i < count; i++) data[i] = str.charCodeAt(from + i);
  }
  function readUnits(count) {
    let out = "";
    for (let i = 0; i < count; i += 8192) {
      const end = i + 8192 < count ? i + 8192 : count;
      out += _apply(_fromCharCode, null, _apply(_u16Subarray, data, [i, end]));
    }
    return out;
  }
  // rawPayload: the payload already serialized by the harness (see serializeLines).
  function hostCall(op, payload, rawPayload) {
    const req = rawPayload !== undefined ? "[" + _stringify(op) + "," + rawPayload + "]"
      : _stringify([op, payload === undefined ? null : payload]);
    let off = 0;
    do {
      const n = req.length - off < CAP ? req.length - off : CAP;
      writeUnits(req, off, n);
      off += n;
      hdr[0] = n;
      hdr[2] = off < req.length ? MORE_REQUEST : 0;
      bell();
    } while (off < req.length);
    let reply = readUnits(hdr[1]);
    while (hdr[2] & MORE_REPLY) {
      hdr[0] = -1;
      bell();
      reply += readUnits(hdr[1]);
    }
    const r = _parse(reply);
    if (r.e !== undefined) {
      const Ctor = typeof G[r.n] === "function" && r.n.endsWith("Error") ? G[r.n] : _Error;
      throw new Ctor(r.e);
    }
    return r.v;
  }

  // ---------------------------------------------------------------- inspect (util.inspect, short form)
  function fnName(f) {
    let src = "";
    try { src = _fnToString.call(f); } catch (e) { /* revoked proxy */ }
    if (src.startsWith("class")) return "[class " + (f.name || "(anonymous)") + "]";
    return f.name ? "[Function: " + f.name + "]" : "[Function (anonymous)]";
  }
  const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
  function quote(s) {
    return "'" + s.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n") + "'";
  }
  function inspect(v, depth, seen) {
    switch (typeof v) {
      case "string": return quote(v);
      case "number": return (v === 0 && 1 / v < 0) ? "-0" : _String(v);
      case "bigint": return _String(v) + "n";
      case "boolean": return _String(v);
      case "undefined": return "undefined";
      case "symbol": return _symToString.call(v);
      case "function": return fnName(v);
    }
    if (v === null) return "null";
    if (seen.indexOf(v) >= 0) return "[Circular]";
    try {
      if (v instanceof _Error) return v.stack ? _String(v.stack) : _errorToString.call(v);
      if (v instanceof _Date) return _isNaN(v.getTime()) ? "Invalid Date" : _dateToISO.call(v);
      if (v instanceof _RegExp) return _regexpToString.call(v);
      if (v instanceof _Promise) return "Promise { <pending> }";
      if (v instanceof _WeakMap) return "WeakMap { <items unknown> }";
      if (v instanceof _WeakSet) return "WeakSet { <items unknown> }";
    } catch (e) { /* exotic object */ }
    if (depth > 2) return _isArray(v) ? "[Array]" : "[Object]";
    seen.push(v);
    try {
      if (v instanceof _Map) {
        const parts = [];
        for (const [k, val] of _mapEntries.call(v)) parts.push(inspect(k, depth + 1, seen) + " => " + inspect(val, depth + 1, seen));
        return "Map(" + v.size + ") " + wrap(parts, "{", "}");
      }
      if (v instanceof _Set) {
        const parts = [];
        for (const val of _setValues.call(v)) parts.push(inspect(val, depth + 1, seen));
        return "Set(" + v.size + ") " + wrap(parts, "{", "}");
      }
      if (_ArrayBufferIsView(v) && typeof v.length === "number") {
        const parts = [];
        const n = v.length < 100 ? v.length : 100;
        for (let i = 0; i < n; i++) parts.push(inspect(v[i], depth + 1, seen));
        if (v.length > 100) parts.push("... " + (v.length - 100) + " more items");
        return v.constructor.name + "(" + v.length + ") " + wrap(parts, "[", "]");
      }
      if (_isArray(v)) {
        const parts = [];
        const n = v.length < 100 ? v.length : 100;
        for (let i = 0; i < n; i++) parts.push(i in v ? inspect(v[i], depth + 1, seen) : "<empty>");
        if (v.length > 100) parts.push("... " + (v.length - 100) + " more items");
        return wrap(parts, "[", "]");
      }
      const parts = [];
      for (const k of _keys(v)) {
        parts.push((IDENT.test(k) ? k : quote(k)) + ": " + inspect(v[k], depth + 1, seen));
      }
      const proto = _getProto(v);
      let prefix = "";
      if (proto === null) prefix = "[Object: null prototype] ";
      else if (proto !== _Object.prototype && proto.constructor && proto.constructor.name && proto.constructor.name !== "Object") {
        prefix = proto.constructor.name + " ";
      }
      return prefix + wrap(parts, "{", "}");
    } catch (e) {
      return "[object]";
    } finally {
      seen.pop();
    }
  }
  function wrap(parts, open, close) {
    if (parts.length === 0) return open + close;
    const one = open + " " + parts.join(", ") + " " + close;
    if (one.length <= 72) return one;
    return open + "\n  " + parts.join(",\n  ").replace(/\n/g, "\n") + "\n" + close;
  }
  function formatArgs(args) {
    let out = [];
    let i = 0;
    if (typeof args[0] === "string" && args.length > 1 && args[0].indexOf("%") >= 0) {
      let f = args[0];
      i = 1;
      f = f.replace(/%[sdifjoOc%]/g, (m) => {
        if (m === "%%") return "%";
        if (i >= args.length) return m;
        const a = args[i++];
        switch (m) {
          case "%s": return typeof a === "string" ? a : inspect(a, 1, []);
          case "%d": case "%i": return typeof a === "bigint" ? _String(a) + "n" : _String(m === "%i" ? _parseInt(a) : _Number(a));
          case "%f": return _String(_parseFloat(a));
          case "%j": try { return _stringify(a); } catch (e) { return "[Circular]"; }
          case "%c": return "";
          default: return inspect(a, 0, []);
        }
      });
      out.push(f);
    }
    for (; i < args.length; i++) {
      const a = args[i];
      out.push(typeof a === "string" ? a : inspect(a, 0, []));
    }
    return out.join(" ");
  }

  // ---------------------------------------------------------------- per-execution state
  const state = {
    lines: [],            // buffered console lines not yet flushed: [level, text, ts]
    events: 0,            // console events emitted by this execution
    bytes: 0,             // UTF-16 length of console text (approximates output bytes)
    maxEvents: config.max_console_events,
    maxBytes: config.max_output_bytes,
    lastFlush: 0,
    windowStart: 0,       // start of the current 10 ms streaming window
    windowLines: 0,       // lines emitted in that window
    stopped: false,
  };
  function flush() {
    if (state.lines.length === 0) return;
    const batch = state.lines;
    state.lines = [];
    hostCall("console", null, serializeLines(batch));
    state.lastFlush = _dateNow();
  }
  function stop(reason, message) {
    state.stopped = true;
    state.lines.length = 0;
    // The host terminates the run from inside this call: spin until termination lands, so
    // that no user code (a catch block) runs after the limit.
    if (hostCall("stop", null, "[" + _stringify(reason) + "," + _stringify(message) + "]")) for (;;) {}
    throw new _RangeError(message);
  }
  function emit(level, args) {
    if (state.stopped) throw new _RangeError("execution stopped: output limit exceeded");
    if (!config.console) return;
    // Fix: a lone surrogate (console.log("\ud800")) is not valid Unicode and broke the JSON
    // decoding on the host side; console text is made well-formed (U+FFFD), as Node's stdout does.
    const text = _apply(_toWellFormed, formatArgs(args), []);
    if (state.events + 1 > state.maxEvents) {
      flush();
      stop("output", "output limit exceeded: more than " + config.max_events + " events");
    }
    if (state.bytes + text.length > state.maxBytes) {
      flush();
      stop("output", "output limit exceeded: more than " + config.max_output_kb + " KB of console output");
    }
    state.events++;
    state.bytes += text.length;
    const now = _dateNow();
    state.lines.push([level, text, now]);
    // Stream: every line goes out at once, unless more than 32 arrive within 10 ms (a flood):
    // then they are sent in batches every 10 ms (or 512 lines), which keeps 10,000 lines cheap.
    if (now - state.windowStart >= 10) {
      state.windowStart = now;
      state.windowLines = 0;
    }
    state.windowLines++;
    if (state.windowLines <= 32 || now - state.lastFlush >= 10 || state.lines.length >= 512) flush();
  }
  const consoleObj = {};
  for (const level of ["log", "info", "warn", "error", "debug"]) {
    consoleObj[level] = function () { emit(level, arguments); };
  }
  consoleObj.trace = function () { emit("debug", arguments); };
  consoleObj.dir = function (v) { emit("log", [v]); };
  consoleObj.table = function () { emit("log", arguments); };
  _defineProperty(G, "console", { value: _freeze(consoleObj), writable: true, configurable: true, enumerable: false });

  // ---------------------------------------------------------------- process, require
  const baseEnv = _freeze(_Object.assign(_Object.create(null), config.env));
  let currentEnv = baseEnv;
  const processObj = {};
  _defineProperty(processObj, "env", { get() { return currentEnv; }, enumerable: true });
  _defineProperty(G, "process", { value: _freeze(processObj), writable: true, configurable: true, enumerable: false });

  const moduleFactories = config.modules;   // name -> source of `function (hostCall, name) { ... }`
  const moduleCache = _Object.create(null);
  function require(name) {
    const key = _String(name);
    if (moduleCache[key]) return moduleCache[key];
    if (!_Object.prototype.hasOwnProperty.call(moduleFactories, key)) {
      throw new _Error("Invalid module \"" + key + "\": not configured for this session's template");
    }
    const factory = (0, _eval)("(" + moduleFactories[key] + ")");
    const mod = _freeze(factory((op, args) => hostCall(key + "." + op, args), key));
    moduleCache[key] = mod;
    return mod;
  }
  _defineProperty(G, "require", { value: require, writable: true, configurable: true, enumerable: false });

  // ---------------------------------------------------------------- ArrayBuffer accounting
  // V8's heap limit does not see ArrayBuffer backing stores, so count them here and give the
  // bytes back when the buffer is collected.
  //
  // Fixes (each one let a session allocate off-heap memory without limit, or broke it for good):
  // - the size was read here and again by V8 (`new ArrayBuffer({valueOf})` could answer 0, then
  //   gigabytes): sizes known without running user code are charged before allocating, and
  //   every charge is settled against the real byteLength afterwards;
  // - array-likes are copied in JS (V8 fills them without termination checks), iterables are
  //   iterated here first, so the size is known before allocating;
  // - `x.constructor` and the species of slice/map/filter/subarray were the raw constructors
  //   (prototype.constructor still pointed at them): it now points at the guarded constructor;
  // - resize/grow/transfer and toReversed/toSorted/with allocate memory too: they are charged;
  // - a typed array's *buffer* is tracked (not the view, which can die while its buffer lives).
  // Known limit: bytes come back through FinalizationRegistry callbacks, which V8 runs as a task
  // after a GC collected the buffer: never within the run that freed it, and only once V8 has
  // collected (usually within ~100 ms). Transient buffers therefore count against the budget
  // for the whole run, and a run right after a heavy one may still see them charged.
  let externalBytes = 0;
  const budget = config.mem_bytes;
  const cells = new _WeakMap();   // buffer -> {n: bytes charged for it}
  const registry = _FinalizationRegistry ? new _FinalizationRegistry((cell) => { externalBytes -= cell.n; }) : null;
  const _weakMapGet = _WeakMap.prototype.get, _weakMapSet = _WeakMap.prototype.set;
  function charge(n) {
    if (!(n > 0)) return;
    if (externalBytes + n > budget) {
      stop("memory", "memory limit exceeded: ArrayBuffer allocations over " + config.mem_mb + " MB");
    }
    externalBytes += n;
  }
  function track(buf, n) {
    if (!(n > 0)) return;
    const cell = { n: n };
    _apply(_weakMapSet, cells, [buf, cell]);
    if (registry) registry.register(buf, cell);
  }
  function chargeBuffer(buf, n) {   // a new buffer of n bytes
    charge(n);
    track(buf, n);
  }
  function chargeGrowth(buf, n) {   // buf now holds n bytes (resize/grow): charge the high-water mark
    const cell = _apply(_weakMapGet, cells, [buf]);
    const before = cell ? cell.n : 0;
    if (n <= before) return;
    charge(n - before);
    if (cell) cell.n = n; else track(buf, n);
  }
  function isBuffer(a) {
    if (a === null || (typeof a !== "object" && typeof a !== "function")) return false;
    try { _apply(_abByteLength, a, []); return true; } catch (e) { /* not an ArrayBuffer */ }
    try { _apply(_sabByteLength, a, []); return true; } catch (e) { return false; }
  }
  // Typed arrays up to this size keep their elements on the V8 heap (the heap limit covers them).
  const ON_HEAP_MAX = 64;
  function chargeView(view) {
    const n = _apply(_taByteLength, view, []);
    if (n > ON_HEAP_MAX) chargeBuffer(_apply(_taBuffer, view, []), n);
    return view;
  }
  function isTypedArray(a) {
    try { _apply(_taLength, a, []); return true; } catch (e) { return false; }
  }
  function isObject(a) {
    return a !== null && (typeof a === "object" || typeof a === "function");
  }
  // Bytes a constructor call is about to allocate, when that is known without running user
  // code (charged up front, so a refused allocation never happens); reconciled afterwards.
  function primitiveBytes(a, bpe) {
    if (isObject(a) || typeof a === "symbol") return 0;
    const n = _Number(a) * bpe;
    return n > 0 ? n : 0;
  }
  function allocate(target, args, newTarget, expected) {
    charge(expected);
    try { return _Reflect.construct(target, args, newTarget); } catch (e) { externalBytes -= expected; throw e; }
  }
  function settle(buf, expected, actual) {   // replace the up-front charge by the real size
    if (actual > expected) charge(actual - expected);
    else externalBytes -= expected - actual;
    track(buf, actual);
  }
  function settleView(view, expected) {
    const actual = _apply(_taByteLength, view, []);
    if (actual > ON_HEAP_MAX) settle(_apply(_taBuffer, view, []), expected, actual);
    else externalBytes -= expected;
  }
  function toLength(x) {
    const n = _Number(x);
    return n > 0 ? (n < 9007199254740991 ? n - (n % 1) : 9007199254740991) : 0;
  }
  function guardBuffer(Ctor, lengthGetter) {
    const guarded = new _Proxy(Ctor, {
      construct(target, args, newTarget) {
        const expected = primitiveBytes(args[0], 1);
        const obj = allocate(target, args, newTarget, expected);
        settle(obj, expected, _apply(lengthGetter, obj, []));
        return obj;
      },
    });
    _defineProperty(Ctor.prototype, "constructor", { value: guarded, writable: true, configurable: true, enumerable: false });
    return guarded;
  }
  function guardTyped(Ctor) {
    const bpe = Ctor.BYTES_PER_ELEMENT;
    const guarded = new _Proxy(Ctor, {
      construct(target, args, newTarget) {
        let a = args[0];
        let expected = primitiveBytes(a, bpe);
        // Cheap checks first: the brand checks of isBuffer throw for other objects (slow).
        if (!isObject(a)) {
          // a length (or nothing)
        } else if (_isArray(a)) {
          expected = a.length * bpe;
        } else if (_ArrayBufferIsView(a) && isTypedArray(a)) {
          expected = _apply(_taLength, a, []) * bpe;
        } else if (isBuffer(a)) {
          return _Reflect.construct(target, args, newTarget);   // a view allocates nothing
        } else {
          if (typeof a[_iterator] === "function") {
            // Iterate here (calls into JS, so termination lands), then size is known.
            args = [a = _apply(_arrayFrom, _Array, [a])];
            expected = a.length * bpe;
          } else {
            // V8 reads an array-like's length, allocates, then fills element by element
            // without checking for termination ({length: 2 ** 28} ran 30 s and wrote every
            // page): read the length once, allocate, and copy in JS.
            const len = toLength(a.length);
            const obj = allocate(target, [len], newTarget, len * bpe);
            for (let i = 0; i < len; i++) obj[i] = a[i];
            settleView(obj, len * bpe);
            return obj;
          }
        }
        const obj = allocate(target, args, newTarget, expected);
        settleView(obj, expected);
        return obj;
      },
    });
    _defineProperty(Ctor.prototype, "constructor", { value: guarded, writable: true, configurable: true, enumerable: false });
    return guarded;
  }
  function wrapMethod(proto, name, after) {
    const original = proto[name];
    if (typeof original !== "function") return;
    const wrapped = {
      [name](...args) {
        const result = _apply(original, this, args);
        after(this, result);
        return result;
      },
    }[name];
    _defineProperty(proto, name, { value: wrapped, writable: true, configurable: true, enumerable: false });
  }
  wrapMethod(ArrayBuffer.prototype, "resize", (buf) => chargeGrowth(buf, _apply(_abByteLength, buf, [])));
  wrapMethod(SharedArrayBuffer.prototype, "grow", (buf) => chargeGrowth(buf, _apply(_sabByteLength, buf, [])));
  for (const name of ["transfer", "transferToFixedLength"]) {
    wrapMethod(ArrayBuffer.prototype, name, (_buf, out) => chargeBuffer(out, _apply(_abByteLength, out, [])));
  }
  for (const name of ["toReversed", "toSorted", "with"]) {
    wrapMethod(_TypedArrayProto, name, (_view, out) => chargeView(out));
  }
  // V8 aborts the whole process (no catchable error, no heap-limit check first) when a few
  // builtins fill one array past its internal table size, e.g. `new Array(2**28).fill(0)` or
  // `Array.from({length: 2**28})`. Refuse array sizes whose elements alone exceed the budget.
  const ELEMENT_BYTES = 8;
  function guardLength(length, what) {
    const n = toLength(length);
    if (n * ELEMENT_BYTES > budget) {
      stop("memory", "memory limit exceeded: " + what + " of " + n + " elements needs more than " + config.mem_mb + " MB");
    }
  }
  const _arrayFill = Array.prototype.fill;
  _defineProperty(Array.prototype, "fill", {
    value: { fill(value) { guardLength(this.length, "Array.prototype.fill"); return _apply(_arrayFill, this, arguments); } }.fill,
    writable: true, configurable: true, enumerable: false,
  });
  _defineProperty(Array, "from", {
    value: { from(items) {
      if (isObject(items) && typeof items[_iterator] !== "function") guardLength(items.length, "Array.from");
      return _apply(_arrayFrom, this, arguments);
    } }.from,
    writable: true, configurable: true, enumerable: false,
  });
  G.ArrayBuffer = guardBuffer(ArrayBuffer, _abByteLength);
  G.SharedArrayBuffer = guardBuffer(SharedArrayBuffer, _sabByteLength);
  for (const name of ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
                      "Int32Array", "Uint32Array", "Float32Array", "Float64Array",
                      "BigInt64Array", "BigUint64Array", "Float16Array"]) {
    if (typeof G[name] === "function") G[name] = guardTyped(G[name]);
  }
  // WebAssembly memory is outside the heap limit too, and the spec gives sessions no need for it.
  delete G.WebAssembly;
  for (const name of config.hidden_globals) delete G[name];

  // ---------------------------------------------------------------- value payloads
  function kindOf(v) {
    if (v === null) return "null";
    const t = typeof v;
    if (t !== "object") return t;
    if (_isArray(v)) return "array";
    if (v instanceof _Date) return "date";
    if (v instanceof _Error) return "error";
    return "object";
  }
  const LONE_SURROGATE = /\\ud[89a-f][0-9a-f]{2}/i;
  function describe(v) {
    const type = kindOf(v);
    let preview;
    try { preview = _String(v); } catch (e) { preview = inspect(v, 0, []); }
    preview = _apply(_toWellFormed, preview, []);   // Fix: lone surrogates broke the host's JSON
    let json;
    if (type !== "undefined" && type !== "function" && type !== "symbol" && type !== "bigint") {
      if (type === "number" && !_isFinite(v)) json = undefined;
      else {
        try { json = _stringify(v); } catch (e) { json = undefined; }
        if (json !== undefined && json.length > state.maxBytes) json = undefined;
        // Fix: JSON.stringify escapes a lone surrogate as \udXXX, which the host cannot decode
        // into valid text; such strings are made well-formed (U+FFFD).
        if (json !== undefined && LONE_SURROGATE.test(json)) {
          try { json = _stringify(v, (k, x) => typeof x === "string" ? _apply(_toWellFormed, x, []) : x); } catch (e) { json = undefined; }
        }
      }
    }
    let out = "{\"type\":" + _stringify(type) + ",\"preview\":" + _stringify(preview);
    if (json !== undefined) out += ",\"json\":" + json;
    return out + "}";
  }
  // Console lines are serialized by hand: JSON.stringify of an array consults a user-defined
  // Array.prototype.toJSON (which then forged or broke every report).
  function serializeLines(lines) {
    let out = "[";
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i];
      out += (i ? ",[" : "[") + _stringify(_String(l[0])) + "," + _stringify(_String(l[1])) + "," + (+l[2] || 0) + "]";
    }
    return out + "]";
  }
  function stats() {
    return "{\"events\":" + state.events + ",\"bytes\":" + state.bytes + ",\"stopped\":" + state.stopped + "}";
  }
  function reset() {
    state.lines = [];
    state.events = 0;
    state.bytes = 0;
    state.stopped = false;
    // Fix: this was _dateNow(), so a run starting within 5 ms of the previous one buffered its
    // first console line until the next line or the end of the run (no streaming).
    state.lastFlush = 0;
    state.windowStart = 0;
    state.windowLines = 0;
    currentEnv = baseEnv;
  }

  // finishOk: called with the script's completion value as `this`.
  function finishOk() {
    hdr[3] = 1;   // started: the host now knows this call is not stuck behind stray JS
    let value;
    try { value = describe(this); } catch (e) { value = "{\"type\":\"object\",\"preview\":\"[object]\"}"; }
    const lines = serializeLines(state.lines);
    const out = "{\"value\":" + value + ",\"lines\":" + lines + ",\"stats\":" + stats() + "}";
    reset();
    return out;
  }
  function finishErr() {
    hdr[3] = 1;
    const out = "{\"lines\":" + serializeLines(state.lines) + ",\"stats\":" + stats() + "}";
    reset();
    return out;
  }
  // begin: per-execution parameters (run-file args and env), as one JSON string in `this`
  // (Fix: it was an argument, which needed synchronous calls into the isolate to build the
  // argument array; those block forever when a stray timer loop occupies the isolate).
  function begin() {
    const p = _parse(this);
    if (p.env !== undefined) currentEnv = _freeze(_Object.assign(_Object.create(null), config.env, p.env));
    if (p.args !== undefined) G.__ARGS__ = p.args;
    return true;
  }
  reset();
  return [finishOk, finishErr, begin, sab];
})
