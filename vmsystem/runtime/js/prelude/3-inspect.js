// Part of the session prelude, concatenated in file-name order inside the closure that
// 1-primordials.js opens (see runtime/isolate.py): names defined in earlier parts are in scope.
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
  // The state of promises the prelude watches (a run's result): {s: 0 pending, 1 fulfilled,
  // 2 rejected, v}. Others show as <state unknown>: JS cannot read a promise's state.
  const promiseStates = new _WeakMap();
  const _weakGet = _WeakMap.prototype.get, _weakSet = _WeakMap.prototype.set;
  function watchPromise(p) {
    if (_apply(_weakGet, promiseStates, [p]) !== undefined) return;
    const st = { s: 0, v: undefined };
    _apply(_weakSet, promiseStates, [p, st]);
    try {
      _apply(_promiseThen, p, [(x) => { st.s = 1; st.v = x; }, (e) => { st.s = 2; st.v = e; }]);
    } catch (e) { /* a broken subclass: stays pending */ }
  }
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
    if (isPromiseBrand(v)) {
      const st = _apply(_weakGet, promiseStates, [v]);
      if (st === undefined) return "Promise { <state unknown> }";
      if (st.s === 0) return "Promise { <pending> }";
      _push(ctx.seen, v);
      try {
        const inner = (st.s === 2 ? "<rejected> " : "") + inspect(st.v, ctx, depth + 1);
        return _strIncludes(inner, "\n") ? "Promise {\n  " + _strReplace(inner, /\n/g, "\n  ") + "\n}"
          : "Promise { " + inner + " }";
      } finally { ctx.seen.length = ctx.seen.length - 1; }
    }
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
