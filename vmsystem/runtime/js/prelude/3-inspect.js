// Part of the session prelude, concatenated in file-name order inside the closure that
// 1-primordials.js opens (see runtime/isolate.py): names defined in earlier parts are in scope.
  // ---------------------------------------------------------------- inspect (Node's util.inspect)
  // One formatter for results (the `inspect` field), console.log/dir and thrown values: Node's
  // own util.inspect and util.format (js/bundle-inspect.js, node-inspect-extracted), loaded on
  // first use. What JavaScript cannot read from outside (a promise's state, a proxy's target and
  // handler) comes from the hooks below. Primitives and short printable strings are formatted
  // here, so a run such as `1 + 1` never loads the bundle.
  const MAX_STRING = 10000;
  const _mathRandom = Math.random;   // before deterministic mode replaces it
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

  // Node's quoting for a printable ASCII string (the fast path; others go to the bundle).
  function quote(s) {
    let q = "'";
    if (_strIncludes(s, "'")) {
      if (!_strIncludes(s, '"')) q = '"';
      else if (!_strIncludes(s, "`") && !_strIncludes(s, "${")) q = "`";
    }
    let out = "";
    for (let i = 0; i < s.length; i++) {
      const ch = s[i];
      out += ch === q || ch === "\\" ? "\\" + ch : ch;
    }
    return q + out + q;
  }
  const PRINTABLE = /^[\x20-\x7e]*$/;
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
  // Whether formatPrimitive shows `v` exactly as Node does.
  function simple(v) {
    if (v === null || (typeof v !== "object" && typeof v !== "function" && typeof v !== "string" && typeof v !== "symbol")) return true;
    return typeof v === "string" && v.length <= MAX_STRING && _regexpTest(PRINTABLE, v);
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

  // The formatter used when Node's (loaded on first use, after user code may have replaced the
  // builtins it relies on) fails: a smaller util.inspect of the prelude's own, built from the
  // builtins taken before user code ran.
  const fallbackInspect = (function () {
    const INSPECT_DEPTH = 2, MAX_ITEMS = 100, BREAK_LENGTH = 80;
    const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
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
  return function (v) { return inspect(v, newCtx(), 0); };
  })();

  // Proxies: the global Proxy records each proxy's target and handler (a proxy of the real
  // constructor, so it is still Proxy in every way user code can observe), which Node's
  // inspect shows (showProxy) or formats instead of running the proxy's traps.
  const proxies = new _WeakMap();
  const _proxyRevocable = _Proxy.revocable;
  function proxyRevocable(target, handler) {
    const r = _apply(_proxyRevocable, _Proxy, [target, handler]);
    const proxy = r.proxy, revoke = r.revoke;
    _apply(_weakSet, proxies, [proxy, [target, handler]]);
    r.revoke = { revoke() { _apply(_weakSet, proxies, [proxy, null]); return revoke(); } }.revoke;
    return r;
  }
  _defineProperty(proxyRevocable, "name", { value: "revocable" });
  const ProxyConstructor = new _Proxy(_Proxy, _assign(_create(null), {
    construct(target, args, newTarget) {
      const p = _Reflect.construct(target, args, newTarget === ProxyConstructor ? target : newTarget);
      _apply(_weakSet, proxies, [p, [args[0], args[1]]]);
      return p;
    },
    get(target, key, receiver) {
      if (key === "revocable") return proxyRevocable;
      return _Reflect.get(target, key, receiver === ProxyConstructor ? target : receiver);
    },
  }));
  _defineProperty(G, "Proxy", { value: ProxyConstructor, writable: true, configurable: true, enumerable: false });

  const INSPECT_CUSTOM = _Symbol.for("nodejs.util.inspect.custom");
  const UNKNOWN_STATE = _freeze({ [INSPECT_CUSTOM]() { return "<state unknown>"; } });
  const INSPECT_HOOKS = _freeze({
    // [state, value]: 0 pending, 1 fulfilled, 2 rejected (from the promises the prelude watches).
    promise(p) {
      const st = _apply(_weakGet, promiseStates, [p]);
      if (st === undefined) return [1, UNKNOWN_STATE];
      return [st.s, st.v];
    },
    proxy(p, withHandler) {
      const d = _apply(_weakGet, proxies, [p]);
      if (d === undefined) return undefined;
      if (d === null) return withHandler ? [null, null] : null;
      return withHandler ? [d[0], d[1]] : d[0];
    },
    // An iterator's or weak collection's entries cannot be read without consuming them.
    preview(obj, isIterator) { return [[], false]; },
  });
  let inspectLib = null;
  function lib() {
    if (inspectLib === null) inspectLib = loadBundle("inspect", { __vmsystem_inspect_hooks: INSPECT_HOOKS });
    return inspectLib;
  }
  // util.inspect(v, options); never throws (a value that breaks the formatter is [object]).
  function inspectValue(v, options) {
    if (options === undefined && simple(v)) return formatPrimitive(v);
    try {
      return escapeLoneSurrogates(lib().inspect(v, options));
    } catch (e) {
      try { return fallbackInspect(v); } catch (x) { return "[object]"; }
    }
  }
  // Node's inspect escapes a lone surrogate ('\ud800'); the extracted one leaves it raw, and raw
  // it would not survive the way to the host (it is not valid Unicode).
  const LONE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
  function escapeLoneSurrogates(text) {
    return _strReplace(text, LONE, (c) => "\\u" + _numToString(_charCodeAt(c, 0), 16));
  }
  function inspectTop(v) { return inspectValue(v, undefined); }
  // util.format(...args) (console.log); plain strings are joined here.
  function formatArgs(args) {
    let plain = true;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (typeof a !== "string" && !(simple(a) && typeof a !== "string")) { plain = false; break; }
      if (i === 0 && typeof a === "string" && _strIncludes(a, "%")) { plain = false; break; }
    }
    if (plain) {
      let out = "";
      for (let i = 0; i < args.length; i++) out += (i ? " " : "") + (typeof args[i] === "string" ? args[i] : formatPrimitive(args[i]));
      return out;
    }
    const argv = newList();
    _push(argv, _create(null));
    for (let i = 0; i < args.length; i++) _push(argv, args[i]);
    try {
      return _apply(lib().formatWithOptions, null, argv);
    } catch (e) {
      let out = "";
      for (let i = 0; i < args.length; i++) {
        let t;
        try { t = typeof args[i] === "string" ? args[i] : fallbackInspect(args[i]); } catch (x) { t = "[object]"; }
        out += (i ? " " : "") + t;
      }
      return out;
    }
  }

  // How the REPL shows a thrown value after "Uncaught ", as Node's REPL does: an error with its
  // stack cut below the user's code (the frames of the input's own top level, the REPL wrapper
  // and the prelude are removed) and its own properties, [cause] and [errors]; one-line error
  // braces dropped ("Error: x", not "[Error: x]"); any other value as inspect shows it.
  function userStack(stack) {
    const lines = _strSplit(stack, "\n");
    let first = 0;
    while (first < lines.length && !_regexpTest(FRAME, lines[first])) first++;
    let end = lines.length;
    for (let i = lines.length - 1; i >= first; i--) {
      if (_regexpTest(ANONYMOUS_FRAME, lines[i])) { end = i; break; }
    }
    const out = newList();
    for (let i = 0; i < end; i++) if (i < first || !_regexpTest(PRELUDE_FRAME, lines[i])) _push(out, lines[i]);
    return _arrJoin(out, "\n");
  }
  // The stack kept in an exception event: the prelude's frames removed, and the REPL wrapper's
  // (the call of the async function an input using top-level await runs in: a frame on the
  // wrapper's own last line, `wrapped`, 0 when the input is not wrapped).
  function cleanStack(stack, wrapped) {
    const lines = _strSplit(stack, "\n");
    const out = newList();
    let last = -1;
    for (let i = 0; i < lines.length; i++) {
      if (_regexpTest(FRAME, lines[i]) && _regexpTest(PRELUDE_FRAME, lines[i])) continue;
      _push(out, lines[i]);
      if (_regexpTest(FRAME, lines[i])) last = out.length - 1;
    }
    if (wrapped && last >= 0 && _regexpTest(ANONYMOUS_FRAME, out[last]) &&
        _regexpTest(new _RegExp(":" + wrapped + ":\\d+$"), out[last])) out.length = last;
    return _arrJoin(out, "\n");
  }
  const FRAME = /^\s+at /;
  const ANONYMOUS_FRAME = /^\s+at (async )?[^ ()]*:\d+:\d+$/;
  const PRELUDE_FRAME = /\bvm-system:/;
  const _strSplit = uncurry(String.prototype.split);
  function thrownText(e) {
    if (!isError(e)) return inspectTop(e);
    const d = _getOwnPropertyDescriptor(e, "stack");
    let text;
    const stack = d !== undefined && d.configurable ? _errorStackOf(e) : null;
    if (stack !== null) {
      // V8's stack is an own accessor (or data property): replaced for the call, then restored.
      _defineProperty(e, "stack", { value: userStack(cleanStack(stack, state.wrapped)), writable: true, configurable: true, enumerable: d.enumerable });
      try { text = inspectTop(e); } finally { _defineProperty(e, "stack", d); }
    } else {
      text = inspectTop(e);
    }
    if (text[0] === "[" && text[text.length - 1] === "]") text = _strSlice(text, 1, text.length - 1);
    return text;
  }
