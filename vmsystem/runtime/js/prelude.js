// vm-system session prelude. Evaluated once per V8 context before any user code.
//
// It installs console, require, process, the timers, the web APIs and the ArrayBuffer
// accounting, keeps every internal in this closure (user code cannot reach the host bridge),
// and evaluates to an array of internal functions that the Python side keeps handles to:
//   [finishOk, finishErr, begin, sab, tick, transform]
// The host bridge: one SharedArrayBuffer mailbox plus a synchronous "bell" callback into
// Python (the Python handler runs on the isolate thread while JS waits inside the call).
//
// Primordials: every builtin the prelude uses is taken here, before user code runs, and called
// through `uncurry`/Reflect.apply, never through a live lookup such as `s.charCodeAt(i)` or
// `arr.push(x)`: user code may replace any prototype method, and a replaced one must not be able
// to forge what the host receives (console levels, requests) or reach the host-call function.
// Lists the prelude builds have a null prototype, so writing them consults no user setter.
(function (bell, configJson) {
  "use strict";
  const G = globalThis;
  const config = JSON.parse(configJson);
  const _eval = eval;
  const _Object = Object, _JSON = JSON, _String = String, _Array = Array, _Error = Error;
  const _apply = Reflect.apply, _bind = Function.prototype.bind, _call = Function.prototype.call;
  // uncurry(String.prototype.charCodeAt)(s, i) === s.charCodeAt(i), with no lookup at call time.
  const uncurry = (f) => _apply(_bind, _call, [f]);
  const _isArray = Array.isArray, _keys = Object.keys, _getProto = Object.getPrototypeOf;
  const _setProto = Object.setPrototypeOf, _hasOwn = Object.hasOwn, _create = Object.create;
  const _dateNow = Date.now, _fromCharCode = String.fromCharCode;
  const _defineProperty = Object.defineProperty, _freeze = Object.freeze, _assign = Object.assign;
  const _Uint16Array = Uint16Array, _Int32Array = Int32Array, _Uint8Array = Uint8Array;
  const _fnToString = uncurry(Function.prototype.toString);
  const _RangeError = RangeError, _TypeError = TypeError, _SyntaxError = SyntaxError, _Reflect = Reflect, _Proxy = Proxy;
  const _Map = Map, _Set = Set, _Date = Date, _RegExp = RegExp, _Promise = Promise;
  const _WeakMap = WeakMap, _WeakSet = WeakSet, _Symbol = Symbol;
  const _mapEntries = Map.prototype.entries, _setValues = Set.prototype.values;
  const _mapGet = Map.prototype.get, _mapSet = Map.prototype.set, _mapDelete = Map.prototype.delete;
  const _mapHas = Map.prototype.has;
  const _weakMapHas = uncurry(WeakMap.prototype.has), _weakSetHas = uncurry(WeakSet.prototype.has);
  const _dateToISO = uncurry(Date.prototype.toISOString), _regexpToString = uncurry(RegExp.prototype.toString);
  const _errorToString = uncurry(Error.prototype.toString);
  const _symToString = uncurry(Symbol.prototype.toString);
  const _numToString = uncurry(Number.prototype.toString);
  const _charCodeAt = uncurry(String.prototype.charCodeAt);
  const _arrJoin = uncurry(Array.prototype.join), _arrPush = uncurry(Array.prototype.push);
  const _promiseThen = Promise.prototype.then, _promiseResolve = Promise.resolve;
  const _mapClear = Map.prototype.clear, _arrIncludes = Array.prototype.includes;
  const _FinalizationRegistry = typeof FinalizationRegistry === "function" ? FinalizationRegistry : null;
  const _registryRegister = _FinalizationRegistry ? uncurry(FinalizationRegistry.prototype.register) : null;
  const _ArrayBufferIsView = ArrayBuffer.isView;
  // Globals a template may hide (capability global:<Name>): keep the originals used here.
  const _ArrayBuffer = ArrayBuffer, _SharedArrayBuffer = SharedArrayBuffer;
  const _isNaN = isNaN, _isFinite = isFinite, _parseInt = parseInt, _parseFloat = parseFloat;
  const _Number = Number;
  const _abByteLength = _Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength").get;
  const _sabByteLength = _Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, "byteLength").get;
  // JSON, Function.prototype.apply and subarray are taken here too: a logging library wrapping
  // JSON.stringify, or `JSON.stringify = () => "null"`, must not break the host protocol.
  const _stringify = JSON.stringify, _parse = JSON.parse;
  const _u16Subarray = Uint16Array.prototype.subarray;
  const _toWellFormed = String.prototype.toWellFormed;
  const _TypedArrayProto = _getProto(Uint8Array.prototype);
  const _taByteLength = _Object.getOwnPropertyDescriptor(_TypedArrayProto, "byteLength").get;
  const _taBuffer = _Object.getOwnPropertyDescriptor(_TypedArrayProto, "buffer").get;
  const _taLength = _Object.getOwnPropertyDescriptor(_TypedArrayProto, "length").get;
  const _taByteOffset = _Object.getOwnPropertyDescriptor(_TypedArrayProto, "byteOffset").get;
  const _arrayFrom = Array.from, _iterator = Symbol.iterator;
  // Error classes a host function may throw into JS, by name (fixed here: a user-defined global
  // named like an error must not be constructed by the bridge).
  const ERRORS = _freeze(_assign(_create(null), {
    Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError,
  }));
  function newList() { const l = []; _setProto(l, null); return l; }
  function _push(list, x) { list[list.length] = x; }

  // ---------------------------------------------------------------- host bridge
  const sab = new SharedArrayBuffer(config.mailbox_bytes);
  const hdr = new _Int32Array(sab, 0, 4);          // [request units, reply units, flags, started]
  const data = new _Uint16Array(sab, 16);          // UTF-16 code units
  const CAP = data.length;
  const MORE_REQUEST = 1, MORE_REPLY = 2;

  function writeUnits(str, from, count) {
    for (let i = 0; i < count; i++) data[i] = _charCodeAt(str, from + i);
  }
  function readUnits(count) {
    let out = "";
    for (let i = 0; i < count; i += 8192) {
      const end = i + 8192 < count ? i + 8192 : count;
      out += _apply(_fromCharCode, null, _apply(_u16Subarray, data, [i, end]));
    }
    return out;
  }
  // rawPayload: the payload already serialized by the harness (see serializeLines). Requests
  // are concatenated, not stringified as an array, so Array.prototype.toJSON cannot rewrite them.
  function hostCall(op, payload, rawPayload) {
    const body = rawPayload !== undefined ? rawPayload : payload === undefined ? "null" : _stringify(payload);
    const req = "[" + _stringify(_String(op)) + "," + (body === undefined ? "null" : body) + "]";
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
    if (_hasOwn(r, "e")) {
      const name = _hasOwn(r, "n") ? _String(r.n) : "Error";
      const Ctor = _hasOwn(ERRORS, name) ? ERRORS[name] : _Error;
      throw new Ctor(r.e);
    }
    return _hasOwn(r, "v") ? r.v : undefined;
  }

  // ---------------------------------------------------------------- inspect (Node's util.inspect)
  // One formatter for results (the `inspect` field) and console.log, after Node's util.inspect
  // defaults: depth 2, 100 items per collection, breakLength 80, compact 3 (number columns for
  // long arrays), circular references as <ref *1> / [Circular *1]. Accessors are shown as
  // [Getter] / [Setter] without being called; Proxies are formatted through their traps.
  const INSPECT_DEPTH = 2, MAX_ITEMS = 100, BREAK_LENGTH = 80, MAX_STRING = 10000;
  const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
  const _regexpTest = uncurry(RegExp.prototype.test);
  const _strReplace = uncurry(String.prototype.replace), _strSlice = uncurry(String.prototype.slice);
  const _strIncludes = uncurry(String.prototype.includes), _strRepeat = uncurry(String.prototype.repeat);
  const _strPadStart = uncurry(String.prototype.padStart), _strPadEnd = uncurry(String.prototype.padEnd);
  const _strStartsWith = uncurry(String.prototype.startsWith);
  const _getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const _getOwnPropertySymbols = Object.getOwnPropertySymbols, _propertyIsEnumerable = uncurry(Object.prototype.propertyIsEnumerable);
  const _mapSize = uncurry(_Object.getOwnPropertyDescriptor(Map.prototype, "size").get);
  const _setSize = uncurry(_Object.getOwnPropertyDescriptor(Set.prototype, "size").get);
  const _mapIterNext = uncurry(_getProto(new Map().entries()).next);
  const _setIterNext = uncurry(_getProto(new Set().values()).next);
  const _dateGetTime = uncurry(Date.prototype.getTime);
  const _errorStackOf = (e) => { try { const s = e.stack; return typeof s === "string" ? s : null; } catch (x) { return null; } };
  const _mathSqrt = Math.sqrt, _mathRound = Math.round, _mathMin = Math.min, _mathMax = Math.max, _mathFloor = Math.floor;
  const _isProtoOf = uncurry(Object.prototype.isPrototypeOf);
  const _WeakRef = typeof WeakRef === "function" ? WeakRef : null;
  const _taTag = uncurry(_Object.getOwnPropertyDescriptor(_getProto(Uint8Array.prototype), Symbol.toStringTag).get);
  const AsyncFunctionProto = _getProto(async function () {});
  const GeneratorFunctionProto = _getProto(function* () {});
  const AsyncGeneratorFunctionProto = _getProto(async function* () {});

  // Brand checks that run no user code (instanceof consults Symbol.hasInstance and prototypes).
  function brand(getter, v) { try { getter(v); return true; } catch (e) { return false; } }
  const isMap = (v) => brand(_mapSize, v), isSet = (v) => brand(_setSize, v);
  const isDate = (v) => brand(_dateGetTime, v);
  const isRegExp = (v) => { try { _apply(_regexpSourceGet, v, []); return true; } catch (e) { return false; } };
  const _regexpSourceGet = _Object.getOwnPropertyDescriptor(RegExp.prototype, "source").get;
  const isPromiseBrand = (v) => _isProtoOf(_Promise.prototype, v);
  const isError = (v) => _isProtoOf(_Error.prototype, v);

  function quote(s) {
    if (s.length > MAX_STRING) s = _strSlice(s, 0, MAX_STRING) + "... " + (s.length - MAX_STRING) + " more characters";
    let q = "'";
    if (_strIncludes(s, "'")) {
      if (!_strIncludes(s, '"')) q = '"';
      else if (!_strIncludes(s, "`") && !_strIncludes(s, "${")) q = "`";
    }
    let out = "";
    for (let i = 0; i < s.length; i++) {
      const c = _charCodeAt(s, i);
      const ch = s[i];
      if (ch === q || ch === "\\") out += "\\" + ch;
      else if (c === 10) out += "\\n";
      else if (c === 9) out += "\\t";
      else if (c === 13) out += "\\r";
      else if (c < 32 || c === 127) out += "\\x" + _strPadStart(_numToString(c, 16), 2, "0");
      else out += ch;
    }
    return q + out + q;
  }
  function fnName(f) {
    let src = "";
    try { src = _fnToString(f); } catch (e) { /* revoked proxy */ }
    let name = "";
    try { const n = f.name; name = typeof n === "string" ? n : ""; } catch (e) { /* getter threw */ }
    if (_strStartsWith(src, "class") && (src.length === 5 || !_regexpTest(/[\w$]/, src[5]))) {
      let out = "[class " + (name || "(anonymous)");
      try {
        const base = _getProto(f);
        if (base !== null && base !== Function.prototype && typeof base === "function" && base.name) out += " extends " + base.name;
      } catch (e) { /* exotic */ }
      return out + "]";
    }
    let kind = "Function";
    const proto = _getProto(f);
    if (proto === AsyncFunctionProto) kind = "AsyncFunction";
    else if (proto === GeneratorFunctionProto) kind = "GeneratorFunction";
    else if (proto === AsyncGeneratorFunctionProto) kind = "AsyncGeneratorFunction";
    return name ? "[" + kind + ": " + name + "]" : "[" + kind + " (anonymous)]";
  }
  function formatKey(k) {
    if (typeof k === "symbol") return "[" + _symToString(k) + "]";
    return _regexpTest(IDENT, k) ? k : quote(k);
  }
  function formatPrimitive(v) {
    switch (typeof v) {
      case "string": return quote(v);
      case "number": return (v === 0 && 1 / v < 0) ? "-0" : _String(v);
      case "bigint": return _String(v) + "n";
      case "boolean": return _String(v);
      case "undefined": return "undefined";
      case "symbol": return _symToString(v);
    }
    return "null";
  }
  function constructorName(v) {
    let proto;
    try { proto = _getProto(v); } catch (e) { return ""; }
    if (proto === null) return null;
    for (let p = proto, i = 0; p !== null && i < 100; p = _getProto(p), i++) {
      const d = _getOwnPropertyDescriptor(p, "constructor");
      if (d !== undefined && typeof d.value === "function" && typeof d.value.name === "string" && d.value.name !== "") return d.value.name;
    }
    return "";
  }
  function newCtx() { return { seen: newList(), circular: new _Map(), indent: 0 }; }
  function inspect(v, ctx, depth) {
    if (v === null || (typeof v !== "object" && typeof v !== "function")) return formatPrimitive(v);
    if (typeof v === "function") return fnName(v);
    const seen = ctx.seen;
    for (let i = 0; i < seen.length; i++) {
      if (seen[i] === v) {
        let n = _apply(_mapGet, ctx.circular, [v]);
        if (n === undefined) { n = _mapSize(ctx.circular) + 1; _apply(_mapSet, ctx.circular, [v, n]); }
        return "[Circular *" + n + "]";
      }
    }
    let out;
    try {
      out = formatObject(v, ctx, depth);
    } catch (e) {
      out = "[object]";
    }
    const n = _apply(_mapGet, ctx.circular, [v]);
    if (n !== undefined) out = "<ref *" + n + "> " + out;
    return out;
  }
  function formatObject(v, ctx, depth) {
    if (isDate(v)) { const t = _dateGetTime(v); return t !== t ? "Invalid Date" : _dateToISO(v); }
    if (isRegExp(v)) return _regexpToString(v);
    if (isError(v)) {
      const stack = _errorStackOf(v);
      return stack !== null ? stack : "[" + _errorToString(v) + "]";
    }
    if (brand(_weakMapHas, v)) return "WeakMap { <items unknown> }";
    if (brand(_weakSetHas, v)) return "WeakSet { <items unknown> }";
    if (isPromiseBrand(v)) return "Promise { <state unknown> }";
    const ctor = constructorName(v);
    const prefixOf = (fallback, size) => {
      const name = ctor === null ? "[" + fallback + ": null prototype]" : (ctor || fallback);
      return size === undefined ? name : name + "(" + size + ")";
    };
    let open = "{", close = "}", prefix = "", kind = "object";
    const isArr = _isArray(v);
    let entries;   // formatted entries (null-prototype list)
    if (depth > INSPECT_DEPTH) {
      if (isArr) return "[Array]";
      return "[" + (ctor === null ? "Object: null prototype" : (ctor || "Object")) + "]";
    }
    _push(ctx.seen, v);
    try {
      entries = newList();
      if (isArr) {
        open = "["; close = "]"; kind = "array";
        if (ctor !== "Array") prefix = prefixOf("Array", v.length) + " ";
        formatList(v, v.length, ctx, depth, entries, true);
      } else if (isTypedArray(v)) {
        open = "["; close = "]"; kind = "array";
        const len = _apply(_taLength, v, []);
        prefix = (_taTag(v) || ctor) + "(" + len + ") ";
        formatList(v, len, ctx, depth, entries, false);
      } else if (isMap(v)) {
        prefix = prefixOf("Map", _mapSize(v)) + " ";
        const it = _apply(_mapEntries, v, []);
        let i = 0;
        for (let r = _mapIterNext(it); !r.done; r = _mapIterNext(it), i++) {
          if (i >= MAX_ITEMS) { _push(entries, "... " + (_mapSize(v) - MAX_ITEMS) + " more items"); break; }
          _push(entries, inspect(r.value[0], ctx, depth + 1) + " => " + inspect(r.value[1], ctx, depth + 1));
        }
      } else if (isSet(v)) {
        prefix = prefixOf("Set", _setSize(v)) + " ";
        const it = _apply(_setValues, v, []);
        let i = 0;
        for (let r = _setIterNext(it); !r.done; r = _setIterNext(it), i++) {
          if (i >= MAX_ITEMS) { _push(entries, "... " + (_setSize(v) - MAX_ITEMS) + " more items"); break; }
          _push(entries, inspect(r.value, ctx, depth + 1));
        }
      } else {
        if (ctor === null) prefix = "[Object: null prototype] ";
        else if (ctor !== "Object") prefix = (ctor || "Object") + " ";
      }
      if (!isArr && !isTypedArray(v)) formatProps(v, ctx, depth, entries, _keys(v));
      else formatProps(v, ctx, depth, entries, nonIndexKeys(v));
    } finally {
      ctx.seen.length = ctx.seen.length - 1;
    }
    if (entries.length === 0) {
      if (kind === "array") return prefix + "[]";
      return prefix + "{}";
    }
    return prefix + reduceToSingleString(entries, open, close, prefix.length, ctx, kind === "array");
  }
  function nonIndexKeys(v) {
    const out = newList();
    const keys = _keys(v);
    for (let i = 0; i < keys.length; i++) if (!_regexpTest(/^(0|[1-9][0-9]*)$/, keys[i])) _push(out, keys[i]);
    return out;
  }
  // The first own index of a (sparse) array at or after `from` (len when none): a long run of
  // holes is skipped through the keys, not walked.
  function nextIndex(v, from, len) {
    const keys = _keys(v);
    let best = len;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k];
      if (!_regexpTest(/^(0|[1-9][0-9]*)$/, key)) continue;
      const n = _Number(key);
      if (n >= from && n < best) best = n;
    }
    return best;
  }
  function formatList(v, len, ctx, depth, entries, holes) {
    const n = len < MAX_ITEMS ? len : MAX_ITEMS;
    let i = 0;
    while (i < n) {
      if (holes && !_hasOwn(v, i)) {
        let j = i;
        while (j < len && j < i + 1000 && !_hasOwn(v, j)) j++;
        if (j === i + 1000) j = nextIndex(v, j, len);
        const empty = j - i;
        _push(entries, "<" + empty + " empty item" + (empty > 1 ? "s" : "") + ">");
        i = j;
        continue;
      }
      _push(entries, inspect(v[i], ctx, depth + 1));
      i++;
    }
    if (len > i) _push(entries, "... " + (len - i) + " more item" + (len - i > 1 ? "s" : ""));
  }
  function formatProps(v, ctx, depth, entries, keys) {
    for (let i = 0; i < keys.length; i++) _push(entries, formatProp(v, keys[i], ctx, depth));
    const syms = _getOwnPropertySymbols(v);
    for (let i = 0; i < syms.length; i++) {
      if (_propertyIsEnumerable(v, syms[i])) _push(entries, formatProp(v, syms[i], ctx, depth));
    }
  }
  function formatProp(v, key, ctx, depth) {
    const d = _getOwnPropertyDescriptor(v, key);
    let text;
    if (d === undefined) text = "undefined";
    else if (d.get !== undefined || d.set !== undefined) {
      text = d.get !== undefined ? (d.set !== undefined ? "[Getter/Setter]" : "[Getter]") : "[Setter]";
    } else text = inspect(d.value, ctx, depth + 1);
    return formatKey(key) + ": " + text;
  }
  function isNumberLike(s) { return _regexpTest(/^-?[0-9][0-9_.e+]*n?$|^NaN$|^-?Infinity$/, s); }
  // Node's groupArrayElements: more than 6 short entries are laid out in aligned columns.
  function groupArrayElements(output, indentation) {
    let totalLength = 0, maxLength = 0, i = 0;
    let outputLength = output.length;
    if (outputLength > 0 && _strStartsWith(output[outputLength - 1], "... ")) outputLength--;
    const separatorSpace = 2;
    const dataLen = newList();
    for (; i < outputLength; i++) {
      const len = output[i].length;
      _push(dataLen, len);
      totalLength += len + separatorSpace;
      if (maxLength < len) maxLength = len;
    }
    const actualMax = maxLength + separatorSpace;
    if (actualMax * 3 + indentation < BREAK_LENGTH && (totalLength / actualMax > 5 || maxLength <= 6)) {
      const averageBias = _mathSqrt(actualMax - totalLength / output.length);
      const biasedMax = _mathMax(actualMax - 3 - averageBias, 1);
      const columns = _mathMin(
        _mathRound(_mathSqrt(2.5 * biasedMax * outputLength) / biasedMax),
        _mathFloor((BREAK_LENGTH - indentation) / actualMax),
        12, 15);
      if (columns <= 1) return output;
      const tmp = newList();
      const maxLineLength = newList();
      for (let c = 0; c < columns; c++) {
        let lineLength = 0;
        for (let j = c; j < outputLength; j += columns) if (dataLen[j] > lineLength) lineLength = dataLen[j];
        _push(maxLineLength, lineLength + separatorSpace);
      }
      const numeric = (() => { for (let j = 0; j < outputLength; j++) if (!isNumberLike(output[j])) return false; return true; })();
      for (let j = 0; j < outputLength; j += columns) {
        const max = _mathMin(j + columns, outputLength);
        let str = "";
        let k = j;
        for (; k < max - 1; k++) {
          const padding = maxLineLength[k - j] + output[k].length - dataLen[k];
          str += numeric ? _strPadStart(output[k] + ", ", padding, " ") : _strPadEnd(output[k] + ", ", padding, " ");
        }
        str += numeric ? _strPadStart(output[k], maxLineLength[k - j] - separatorSpace, " ") : output[k];
        _push(tmp, str);
      }
      if (outputLength < output.length) _push(tmp, output[outputLength]);
      return tmp;
    }
    return output;
  }
  function reduceToSingleString(entries, open, close, startLength, ctx, isArray) {
    let output = entries;
    if (isArray && entries.length > 6) output = groupArrayElements(entries, ctx.indent);
    if (output === entries) {
      let total = output.length + startLength;
      let multiline = false;
      for (let i = 0; i < output.length; i++) {
        total += output[i].length;
        if (_strIncludes(output[i], "\n")) multiline = true;
      }
      if (!multiline && total + output.length <= BREAK_LENGTH) {
        return open + " " + _arrJoin(output, ", ") + " " + close;
      }
    }
    const indentation = "\n  ";
    let body = "";
    for (let i = 0; i < output.length; i++) {
      body += (i ? "," : "") + indentation + _strReplace(output[i], /\n/g, indentation);
    }
    return open + body + "\n" + close;
  }
  function inspectTop(v) { return inspect(v, newCtx(), 0); }
  function formatArgs(args) {
    let out = newList();
    let i = 0;
    const first = args[0];
    if (typeof first === "string" && args.length > 1 && _strIncludes(first, "%")) {
      i = 1;
      const f = _strReplace(first, /%[sdifjoOc%]/g, (m) => {
        if (m === "%%") return "%";
        if (i >= args.length) return m;
        const a = args[i++];
        switch (m) {
          case "%s": return typeof a === "string" ? a : typeof a === "bigint" ? _String(a) + "n" : inspect(a, newCtx(), 1);
          case "%d": case "%i": return typeof a === "bigint" ? _String(a) + "n" : typeof a === "symbol" ? "NaN" : _String(m === "%i" ? _parseInt(a) : _Number(a));
          case "%f": return typeof a === "symbol" ? "NaN" : _String(_parseFloat(a));
          case "%j": try { return _stringify(a); } catch (e) { return "[Circular]"; }
          case "%c": return "";
          default: return inspectTop(a);
        }
      });
      _push(out, f);
    }
    for (; i < args.length; i++) {
      const a = args[i];
      _push(out, typeof a === "string" ? a : inspectTop(a));
    }
    return _arrJoin(out, " ");
  }

  // ---------------------------------------------------------------- per-execution state
  const state = {
    lines: newList(),     // buffered console lines not yet flushed: [level, text, ts]
    events: 0,            // console events emitted by this execution
    bytes: 0,             // UTF-16 length of console text (approximates output bytes)
    maxEvents: config.max_console_events,
    maxBytes: config.max_output_bytes,
    lastFlush: 0,
    windowStart: 0,       // start of the current 10 ms streaming window
    windowLines: 0,       // lines emitted in that window
    stopped: false,
    // The event loop (see "timers" and finishOk/tick below).
    tla: false,           // the script is a transformed input using top-level await
    settled: 0,           // 0: the result is not known yet, 1: value, 2: error
    value: undefined,     // the run's result (or what it threw, when settled === 2)
    captured: undefined,  // the last expression's value, reported by the REPL transform
    idleTicks: 0,         // ticks in a row with nothing to do (see step())
  };
  function flush() {
    if (state.lines.length === 0) return;
    const batch = state.lines;
    state.lines = newList();
    hostCall("console", null, serializeLines(batch));
    state.lastFlush = _dateNow();
  }
  function stop(reason, message) {
    state.stopped = true;
    state.lines = newList();
    // The host terminates the run from inside this call: spin until termination lands, so
    // that no user code (a catch block) runs after the limit.
    if (hostCall("stop", null, "[" + _stringify(reason) + "," + _stringify(message) + "]")) for (;;) {}
    throw new _RangeError(message);
  }
  function emit(level, args) {
    if (state.stopped) throw new _RangeError("execution stopped: output limit exceeded");
    if (!config.console) return;
    // A lone surrogate (console.log("\ud800")) is not valid Unicode: console text is made
    // well-formed (U+FFFD), as Node's stdout does.
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
    const line = newList();
    line[0] = level; line[1] = text; line[2] = now;
    _push(state.lines, line);
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
  const baseEnv = _freeze(_assign(_create(null), config.env));
  let currentEnv = baseEnv;
  const processObj = {};
  _defineProperty(processObj, "env", { get() { return currentEnv; }, enumerable: true });
  _defineProperty(G, "process", { value: _freeze(processObj), writable: true, configurable: true, enumerable: false });

  // name -> source of `function (hostCall, name) { ... }`; null prototype and Object.hasOwn, so
  // neither Object.prototype properties nor a replaced hasOwnProperty can pose as a module.
  const moduleFactories = _assign(_create(null), config.modules);
  const moduleCache = _create(null);
  function require(name) {
    const key = _String(name);
    if (_hasOwn(moduleCache, key)) return moduleCache[key];
    if (!_hasOwn(moduleFactories, key)) {
      throw new _Error("Invalid module \"" + key + "\": not configured for this session's template");
    }
    const factory = (0, _eval)("(" + moduleFactories[key] + ")");
    const mod = _freeze(factory((op, args) => hostCall(key + "." + _String(op), args), key));
    moduleCache[key] = mod;
    return mod;
  }
  _defineProperty(G, "require", { value: require, writable: true, configurable: true, enumerable: false });

  // ---------------------------------------------------------------- ArrayBuffer accounting
  // V8's heap limit does not see ArrayBuffer backing stores, so count them here and give the
  // bytes back when the buffer is collected.
  //
  // What the accounting has to get right (each gap let a session allocate off-heap memory
  // without limit; tests/runtime/test_resources.py covers them):
  // - the size is read once: sizes known without running user code are charged before
  //   allocating, and every charge is settled against the real byteLength afterwards
  //   (`new ArrayBuffer({valueOf})` could answer 0, then gigabytes);
  // - array-likes are copied in JS (V8 fills them without termination checks), iterables are
  //   iterated here first, so the size is known before allocating;
  // - `x.constructor` and the species of slice/map/filter/subarray are the guarded constructor;
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
    if (registry) _registryRegister(registry, buf, cell);
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
    const guarded = new _Proxy(Ctor, _assign(_create(null), {
      construct(target, args, newTarget) {
        const expected = primitiveBytes(args[0], 1);
        const obj = allocate(target, args, newTarget, expected);
        settle(obj, expected, _apply(lengthGetter, obj, []));
        return obj;
      },
    }));
    _defineProperty(Ctor.prototype, "constructor", { value: guarded, writable: true, configurable: true, enumerable: false });
    return guarded;
  }
  function guardTyped(Ctor) {
    const bpe = Ctor.BYTES_PER_ELEMENT;
    const guarded = new _Proxy(Ctor, _assign(_create(null), {
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
    }));
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
  // Sparse arrays: `a.length = 2 ** 30` makes an array of holes that costs nothing, but many
  // builtins walk every index in C++, where termination never lands (toSorted ran for six
  // minutes past a 2 s limit; reverse and slice for a minute). They refuse (RangeError) any
  // array longer than the memory budget could hold, which can therefore only be holes.
  function refuseHuge(receiver, what) {
    if (receiver === null || receiver === undefined) return;   // the builtin throws its TypeError
    const n = toLength(receiver.length);
    if (n * ELEMENT_BYTES > budget) {
      throw new _RangeError(what + ": an array of " + n + " elements is over this session's memory limit (" +
        config.mem_mb + " MB), so it holds mostly holes; refused");
    }
  }
  for (const name of ["concat", "copyWithin", "every", "filter", "find", "findIndex", "findLast",
                      "findLastIndex", "flat", "flatMap", "forEach", "includes", "indexOf", "join",
                      "lastIndexOf", "map", "reduce", "reduceRight", "reverse", "shift", "slice", "some",
                      "sort", "splice", "toLocaleString", "toReversed", "toSorted", "toSpliced",
                      "unshift", "with"]) {
    const original = Array.prototype[name];
    if (typeof original !== "function") continue;
    const what = "Array.prototype." + name;
    const guarded = name === "concat"
      ? { [name](...args) {
          refuseHuge(this, what);
          for (let i = 0; i < args.length; i++) if (_isArray(args[i])) refuseHuge(args[i], what);
          return _apply(original, this, args);
        } }[name]
      : { [name](...args) { refuseHuge(this, what); return _apply(original, this, args); } }[name];
    _defineProperty(guarded, "length", { value: original.length, configurable: true });
    _defineProperty(Array.prototype, name, { value: guarded, writable: true, configurable: true, enumerable: false });
  }
  G.ArrayBuffer = guardBuffer(ArrayBuffer, _abByteLength);
  G.SharedArrayBuffer = guardBuffer(SharedArrayBuffer, _sabByteLength);
  for (const name of ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
                      "Int32Array", "Uint32Array", "Float32Array", "Float64Array",
                      "BigInt64Array", "BigUint64Array", "Float16Array"]) {
    if (typeof G[name] === "function") G[name] = guardTyped(G[name]);
  }
  // WebAssembly memory is outside the heap limit too, and the spec gives sessions no need for it.
  delete G.WebAssembly;
  // The bundles may use what a template hides from user code (webidl-conversions reads
  // SharedArrayBuffer.prototype): they get the originals as parameters (see loadBundle).
  const hiddenNames = newList(), hiddenValues = newList();
  for (const name of config.hidden_globals) {
    if (_regexpTest(/^[A-Za-z_$][A-Za-z0-9_$]*$/, name) && name !== "eval" && name !== "arguments" && name in G) {
      _push(hiddenNames, name);
      _push(hiddenValues, G[name]);
    }
    delete G[name];
  }

  // ---------------------------------------------------------------- timers (the event loop)
  // Timers live here; the host drives them. When a run's script (and its microtasks) is done,
  // the finish call reports whether work is pending and when the next timer is due; the host
  // sleeps until then (or until a limit or cancel) and posts tick(), which fires one due timer.
  // Its microtasks run after that task, before the next tick, as in Node and browsers. A run
  // ends when no timer is pending and its result (for top-level await) has settled; a limit
  // ends it earlier and reset() drops whatever is still pending, so nothing leaks into the next
  // run.
  const timers = new _Map();    // id -> timer {id, due, seq, fn, args, repeat}
  const heap = newList();       // pending timers ordered by (due, seq); cleared ones are skipped
  let timerSeq = 0, nextTimerId = 1;
  const TIMEOUT_MAX = 2147483647;
  function heapLess(a, b) { return a.due < b.due || (a.due === b.due && a.seq < b.seq); }
  function heapPush(t) {
    let i = heap.length;
    heap[i] = t;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!heapLess(heap[i], heap[p])) break;
      const x = heap[i]; heap[i] = heap[p]; heap[p] = x;
      i = p;
    }
  }
  function heapPop() {
    const top = heap[0];
    const last = heap[heap.length - 1];
    heap.length = heap.length - 1;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < heap.length && heapLess(heap[l], heap[m])) m = l;
        if (r < heap.length && heapLess(heap[r], heap[m])) m = r;
        if (m === i) break;
        const x = heap[i]; heap[i] = heap[m]; heap[m] = x;
        i = m;
      }
    }
    return top;
  }
  function nextTimer() {   // the earliest live timer, dropping cleared ones
    while (heap.length > 0) {
      const t = heap[0];
      if (_apply(_mapGet, timers, [t.id]) === t) return t;
      heapPop();
    }
    return null;
  }
  function delayOf(ms) {
    const n = _Number(ms);
    return n >= 1 && n <= TIMEOUT_MAX ? n : 1;   // Node: NaN, <1 and >2^31-1 become 1 ms
  }
  function addTimer(fn, ms, args, repeat) {
    if (typeof fn !== "function") {
      throw new _TypeError("The \"callback\" argument must be of type function. Received " + formatPrimitiveOrType(fn));
    }
    const t = { id: nextTimerId++, due: 0, seq: 0, fn, args, repeat: repeat ? delayOf(ms) : 0 };
    t.due = _dateNow() + delayOf(ms);
    t.seq = timerSeq++;
    _apply(_mapSet, timers, [t.id, t]);
    heapPush(t);
    return t.id;
  }
  function formatPrimitiveOrType(v) {
    return typeof v === "object" && v !== null ? "an instance of " + (constructorName(v) || "Object") : formatPrimitive(v);
  }
  function clearTimer(id) {
    if (typeof id === "number") _apply(_mapDelete, timers, [id]);
  }
  function clearAllTimers() {
    _apply(_mapClear, timers, []);
    heap.length = 0;
  }
  // Fires the earliest due timer; false when none is due.
  function fireDue() {
    const t = nextTimer();
    if (t === null || t.due > _dateNow()) return false;
    heapPop();
    if (t.repeat) {
      t.due = _dateNow() + t.repeat;
      t.seq = timerSeq++;
      heapPush(t);
    } else {
      _apply(_mapDelete, timers, [t.id]);
    }
    _apply(t.fn, G, t.args);
    return true;
  }
  const timerFns = {
    setTimeout(fn, ms, ...args) { return addTimer(fn, ms, args, false); },
    setInterval(fn, ms, ...args) { return addTimer(fn, ms, args, true); },
    clearTimeout(id) { clearTimer(id); },
    clearInterval(id) { clearTimer(id); },
    queueMicrotask(fn) {
      if (typeof fn !== "function") throw new _TypeError("The \"callback\" argument must be of type function. Received " + formatPrimitiveOrType(fn));
      _apply(_promiseThen, _apply(_promiseResolve, _Promise, []), [() => fn()]);
    },
  };
  for (const name of _keys(timerFns)) {
    _defineProperty(G, name, { value: timerFns[name], writable: true, configurable: true, enumerable: false });
  }

  // ---------------------------------------------------------------- web APIs
  // The WinterTC minimum common API where V8 lacks it. The npm libraries (js/bundle-webapi.js,
  // built from runtime-js/) cost ~25 ms to evaluate, so their globals are accessors that load
  // the bundle on first use and then replace themselves with plain data properties.
  // crypto and performance are small glue, installed directly.
  const bundles = _create(null);
  function loadBundle(name) {
    if (!_hasOwn(bundles, name)) {
      const src = hostCall("bundle", name);
      const module = { exports: {} };
      const params = hiddenNames.length ? ", " + _arrJoin(hiddenNames, ", ") : "";
      const fn = (0, _eval)("(function (module, exports" + params + ") {" + src + "\n})");
      const argv = newList();
      _push(argv, module);
      _push(argv, module.exports);
      for (let i = 0; i < hiddenValues.length; i++) _push(argv, hiddenValues[i]);
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

  function domException() { return (webapi !== null ? webapi : installWebApi()).DOMException; }
  // crypto: random bytes come from the host (os.urandom), never from Math.random.
  const MAX_RANDOM_BYTES = 65536;
  const _hexPairs = newList();
  for (let i = 0; i < 256; i++) _push(_hexPairs, (i < 16 ? "0" : "") + _numToString(i, 16));
  function randomBytes(n) {
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
  _defineProperty(G, "crypto", { value: _freeze(cryptoObj), writable: true, configurable: true, enumerable: false });
  // performance.now(): milliseconds since the context was created (Date.now() resolution).
  const timeOrigin = _dateNow();
  const performanceObj = { timeOrigin, now() { return _dateNow() - timeOrigin; } };
  _defineProperty(G, "performance", { value: _freeze(performanceObj), writable: true, configurable: true, enumerable: false });

  // ---------------------------------------------------------------- REPL input
  // transform(source) rewrites one input, REPL-style (Chrome DevTools, Deno), with acorn
  // (js/bundle-repl.js). The host calls it only when the text may need it (it mentions let,
  // const, class, await or a BigInt); it answers the source to evaluate, or null to run the
  // input as it is (acorn rejected it: V8 then reports its own SyntaxError).
  // - Top-level let/const/class become configurable properties of the global object, so a later
  //   input may declare them again (the new binding replaces the old). A const one becomes an
  //   accessor whose setter throws "Assignment to constant variable.". Inside one input the language's rules stand: acorn rejects
  //   `const a = 1; const a = 2`.
  // - An input using top-level await runs as an async function whose result is the value of its
  //   last expression statement; its var and function declarations are hoisted out of it, so
  //   every declaration stays visible to later inputs. The run then waits for that promise.
  // - The last expression statement's value is handed to the prelude (mini-racer cannot return
  //   a BigInt completion value).
  const REPL_KEY = _Symbol.for("vm-system.repl");
  const CAPTURED = _freeze(_create(null));
  const replHelper = _freeze({
    declare(names) {
      for (let i = 0; i < names.length; i++) {
        const d = _getOwnPropertyDescriptor(G, names[i]);
        if (d !== undefined && !d.configurable) {
          if (d.writable) continue;   // a var or function: assigning to it is enough
          throw new _SyntaxError("Identifier '" + names[i] + "' has already been declared");
        }
        _defineProperty(G, names[i], { value: undefined, writable: true, enumerable: false, configurable: true });
      }
    },
    seal(names) {
      // An accessor, so that assigning to a const throws in sloppy code too, as it does in JS.
      for (let i = 0; i < names.length; i++) {
        const name = names[i];
        const d = _getOwnPropertyDescriptor(G, name);
        if (d === undefined || !d.configurable || !_hasOwn(d, "value")) continue;
        const value = d.value;
        _defineProperty(G, name, {
          get: { [name]() { return value; } }[name],
          set: { [name]() { throw new _TypeError("Assignment to constant variable."); } }[name],
          enumerable: false, configurable: true,
        });
      }
    },
    result(v) { state.captured = v; return CAPTURED; },
  });
  _defineProperty(G, REPL_KEY, { value: replHelper, writable: false, configurable: false, enumerable: false });
  const HELPER = "globalThis[Symbol.for(\"vm-system.repl\")]";
  const PARSE_OPTIONS = _freeze({ ecmaVersion: "latest", sourceType: "script", allowAwaitOutsideFunction: true, allowHashBang: true });
  function bindingNames(node, out) {
    if (node === null) return;
    switch (node.type) {
      case "Identifier": _push(out, node.name); break;
      case "ObjectPattern":
        for (const p of node.properties) bindingNames(p.type === "RestElement" ? p.argument : p.value, out);
        break;
      case "ArrayPattern": for (const e of node.elements) bindingNames(e, out); break;
      case "RestElement": bindingNames(node.argument, out); break;
      case "AssignmentPattern": bindingNames(node.left, out); break;
    }
  }
  function isFunctionNode(n) {
    return n.type === "FunctionDeclaration" || n.type === "FunctionExpression" || n.type === "ArrowFunctionExpression";
  }
  // Whether `node` awaits outside any nested function (class bodies and methods are functions).
  function hasTopLevelAwait(node) {
    if (node === null || typeof node !== "object") return false;
    if (node.type === "AwaitExpression") return true;
    if (node.type === "ForOfStatement" && node.await) return true;
    if (isFunctionNode(node) || node.type === "MethodDefinition" || node.type === "PropertyDefinition" || node.type === "StaticBlock") {
      // Computed keys are evaluated at top level.
      return node.computed === true && hasTopLevelAwait(node.key);
    }
    for (const key of _keys(node)) {
      if (key === "type" || key === "start" || key === "end") continue;
      const v = node[key];
      if (_isArray(v)) { for (const x of v) if (x !== null && typeof x === "object" && hasTopLevelAwait(x)) return true; }
      else if (v !== null && typeof v === "object" && typeof v.type === "string" && hasTopLevelAwait(v)) return true;
    }
    return false;
  }
  function transform() {
    hdr[3] = 1;
    const source = _String(this);
    let ast;
    try {
      ast = loadBundle("repl").Parser.parse(source, PARSE_OPTIONS);
    } catch (e) {
      return null;
    }
    const body = ast.body;
    const tla = hasTopLevelAwait(ast);
    const out = newList();     // pieces of the rewritten source
    const hoisted = newList(); // var / function declarations moved out of the async wrapper
    let pos = 0;
    let changed = tla;
    const lastIndex = body.length - 1;
    for (let i = 0; i < body.length; i++) {
      const node = body[i];
      let replacement = null;
      if (node.type === "VariableDeclaration" && (node.kind !== "var" || tla)) {
        const names = newList();
        for (const d of node.declarations) bindingNames(d.id, names);
        let text = ";";
        if (node.kind === "var") _push(hoisted, "var " + _arrJoin(names, ", ") + ";");
        else text += HELPER + ".declare(" + _stringify(names) + ");";
        for (const d of node.declarations) {
          if (d.init === null) continue;
          const target = _strSlice(source, d.id.start, d.id.end);
          text += "(" + target + " = " + _strSlice(source, d.init.start, d.init.end) + ");";
        }
        if (node.kind === "const") text += HELPER + ".seal(" + _stringify(names) + ");";
        if (i === lastIndex) text += "void 0;";
        replacement = text;
      } else if (node.type === "ClassDeclaration") {
        const name = node.id.name;
        replacement = ";" + HELPER + ".declare([" + _stringify(name) + "]);(" + name + " = " +
          _strSlice(source, node.start, node.end) + ");" + (i === lastIndex ? "void 0;" : "");
      } else if (node.type === "FunctionDeclaration" && tla) {
        _push(hoisted, _strSlice(source, node.start, node.end));
        replacement = "";
      } else if (i === lastIndex && node.type === "ExpressionStatement" && !node.directive) {
        const expr = _strSlice(source, node.expression.start, node.expression.end);
        replacement = tla ? ";return (" + expr + ");" : ";" + HELPER + ".result((" + expr + "));";
      }
      if (replacement !== null) {
        changed = true;
        _push(out, _strSlice(source, pos, node.start));
        // Keep the line count, so that line numbers in errors stay right.
        _push(out, replacement + newlines(source, node.start, node.end));
        pos = node.end;
      }
    }
    if (!changed) return null;
    _push(out, _strSlice(source, pos));
    let code = _arrJoin(out, "");
    if (tla) {
      code = _arrJoin(hoisted, " ") + "(async () => {" + code + "\n})()";
      state.tla = true;
    }
    return code;
  }
  function newlines(source, start, end) {
    let n = "";
    for (let i = start; i < end; i++) if (_charCodeAt(source, i) === 10) n += "\n";
    return n;
  }

  // ---------------------------------------------------------------- value payloads
  function kindOf(v) {
    if (v === null) return "null";
    const t = typeof v;
    if (t !== "object") return t;
    if (_isArray(v)) return "array";
    if (isMap(v)) return "map";
    if (isSet(v)) return "set";
    if (isDate(v)) return "date";
    if (isError(v)) return "error";
    return "object";
  }
  const LONE_SURROGATE = /\\ud[89a-f][0-9a-f]{2}/i;
  function describe(v) {
    const type = kindOf(v);
    let preview;
    try { preview = typeof v === "symbol" ? _symToString(v) : _String(v); } catch (e) {
      try { preview = inspectTop(v); } catch (x) { preview = "[object]"; }
    }
    preview = _apply(_toWellFormed, _String(preview), []);
    let shown;
    try { shown = inspectTop(v); } catch (e) { shown = preview; }
    shown = _apply(_toWellFormed, _String(shown), []);
    if (shown.length > state.maxBytes) shown = _strSlice(shown, 0, state.maxBytes) + "...";
    let json;
    // JSON.stringify walks every index of a huge sparse array in C++, beyond termination.
    const hugeArray = type === "array" && toLength(v.length) * ELEMENT_BYTES > budget;
    if (!hugeArray && type !== "undefined" && type !== "function" && type !== "symbol" && type !== "bigint") {
      if (type === "number" && !_isFinite(v)) json = undefined;
      else {
        try { json = _stringify(v); } catch (e) { json = undefined; }
        if (typeof json !== "string") json = undefined;
        if (json !== undefined && json.length > state.maxBytes) json = undefined;
        // JSON.stringify escapes a lone surrogate as \udXXX, which the host cannot decode into
        // valid text: such strings are made well-formed (U+FFFD).
        if (json !== undefined && _regexpTest(LONE_SURROGATE, json)) {
          try { json = _stringify(v, (k, x) => typeof x === "string" ? _apply(_toWellFormed, x, []) : x); } catch (e) { json = undefined; }
        }
      }
    }
    let out = "{\"type\":" + _stringify(type) + ",\"preview\":" + _stringify(preview) + ",\"inspect\":" + _stringify(shown);
    if (json !== undefined) out += ",\"json\":" + json;
    return out + "}";
  }
  function describeError(e) {
    let name = "Uncaught", message, stack = null;
    if (isError(e)) {
      try { name = _String(e.name); } catch (x) { name = "Error"; }
      try { message = _String(e.message); } catch (x) { message = ""; }
      stack = _errorStackOf(e);
    } else {
      try { message = inspectTop(e); } catch (x) { message = "[object]"; }
    }
    let out = "{\"name\":" + _stringify(_apply(_toWellFormed, name, [])) + ",\"message\":" + _stringify(_apply(_toWellFormed, message, []));
    if (stack !== null) out += ",\"stack\":" + _stringify(_apply(_toWellFormed, stack, []));
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
    state.lines = newList();
    state.events = 0;
    state.bytes = 0;
    state.stopped = false;
    // 0, not the current time: a run starting within 5 ms of the previous one must stream its
    // first console line at once.
    state.lastFlush = 0;
    state.windowStart = 0;
    state.windowLines = 0;
    state.tla = false;
    state.settled = 0;
    state.value = undefined;
    state.captured = undefined;
    state.idleTicks = 0;
    clearAllTimers();
    currentEnv = baseEnv;
  }

  // The end of a run's script: finishOk is called with the script's completion value as
  // `this` (finishErr when the script threw or was stopped). Either answer is a report:
  //   {"pending": ms, "lines": [...]}   work is pending: call tick() in `ms` milliseconds
  //   {"value": {...}, "lines": [...], "stats": {...}}   the run is over (or "error": {...})
  function finishOk() {
    hdr[3] = 1;   // started: the host now knows this call is not stuck behind stray JS
    const v = this === CAPTURED ? state.captured : this;
    if (state.tla) {
      state.tla = false;
      state.settled = 0;
      // The wrapper's promise is ours (an async function's): then() on it runs no user code.
      _apply(_promiseThen, v, [(x) => { state.settled = 1; state.value = x; },
                               (e) => { state.settled = 2; state.value = e; }]);
      return pending(0);
    }
    state.settled = 1;
    state.value = v;
    return step(false);
  }
  function tick() {
    hdr[3] = 1;
    let fired;
    try {
      fired = fireDue();
    } catch (e) {
      // An uncaught exception in a timer ends the run, as it ends a Node script.
      state.settled = 2;
      state.value = e;
      return report();
    }
    return step(fired);
  }
  function step(fired) {
    // Work a timer or the script queued as microtasks runs after this task: look once more
    // before calling the run over.
    if (fired) { state.idleTicks = 0; return pending(0); }
    if (state.settled === 2) return report();
    const t = nextTimer();
    if (t !== null) {
      state.idleTicks = 0;
      const wait = t.due - _dateNow();
      return pending(wait > 0 ? wait : 0);
    }
    if (state.settled === 0) {
      // Awaiting a promise that no timer can settle any more (after one more look).
      if (state.idleTicks++ < 1) return pending(0);
      state.settled = 2;
      state.value = new _Error("top-level await never settled: the awaited promise is still pending and nothing is left to settle it");
    }
    return report();
  }
  function pending(ms) {
    const lines = serializeLines(state.lines);
    state.lines = newList();
    return "{\"pending\":" + ms + ",\"lines\":" + lines + "}";
  }
  function report() {
    let result;
    if (state.settled === 2) {
      result = "\"error\":" + describeError(state.value);
    } else {
      let value;
      try { value = describe(state.value); } catch (e) { value = "{\"type\":\"object\",\"preview\":\"[object]\",\"inspect\":\"[object]\"}"; }
      result = "\"value\":" + value;
    }
    const out = "{" + result + ",\"lines\":" + serializeLines(state.lines) + ",\"stats\":" + stats() + "}";
    reset();
    return out;
  }
  function finishErr() {
    hdr[3] = 1;
    const out = "{\"lines\":" + serializeLines(state.lines) + ",\"stats\":" + stats() + "}";
    reset();
    return out;
  }
  // begin: per-execution parameters (run-file args and env), as one JSON string in `this`.
  // `this`, not an argument: building an argument array needs synchronous calls into the
  // isolate, which block forever when a stray timer loop occupies it.
  function begin() {
    const p = _parse(this);
    if (_hasOwn(p, "env")) currentEnv = _freeze(_assign(_create(null), config.env, p.env));
    if (_hasOwn(p, "args")) G.__ARGS__ = p.args;
    return true;
  }
  reset();
  return [finishOk, finishErr, begin, sab, tick, transform];
})
