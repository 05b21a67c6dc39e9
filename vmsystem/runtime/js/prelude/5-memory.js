// Part of the session prelude, concatenated in file-name order inside the closure that
// 1-primordials.js opens (see runtime/isolate.py): names defined in earlier parts are in scope.
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
  const _isConcatSpreadable = _Symbol.isConcatSpreadable;
  function guardLength(length, what) {
    const n = toLength(length);
    if (n * ELEMENT_BYTES > budget) {
      stop("memory", "memory limit exceeded: " + what + " of " + n + " elements needs more than " + config.mem_mb + " MB");
    }
  }
  const _arrayFill = Array.prototype.fill;
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
          for (let i = 0; i < args.length; i++) {
            const a = args[i];
            if (_isArray(a) || (isObject(a) && a[_isConcatSpreadable])) refuseHuge(a, what);
          }
          return _apply(original, this, args);
        } }[name]
      : { [name](...args) { refuseHuge(this, what); return _apply(original, this, args); } }[name];
    _defineProperty(guarded, "length", { value: original.length, configurable: true });
    _defineProperty(Array.prototype, name, { value: guarded, writable: true, configurable: true, enumerable: false });
  }
  // Builtins that build one string or array by a length in C++, where V8 neither checks for
  // termination nor, for a string, the heap limit before the allocation (`"x".repeat(2**28)`
  // at 128 MB, split/replaceAll of a huge string, concat of a spreadable {length: 2**31}):
  // the run could neither be cancelled nor stopped at its wall limit, and an allocation past
  // the heap limit aborts the whole host process. Their result size is worked out first, in
  // JS (where termination lands), and a result over the session's memory budget ends the run
  // with MEMORY_LIMIT_EXCEEDED before anything is allocated. A string result is counted at two
  // bytes a character (V8 needs room for the parts it builds it from, and for a two-byte
  // string), an array element at eight bytes.
  const CHAR_BYTES = 2;
  function guardSize(n, bytesEach, what) {
    if (n * bytesEach > budget) {
      stop("memory", "memory limit exceeded: " + what + " would make " + n +
        (bytesEach === CHAR_BYTES ? " characters" : " elements") + ", more than " + config.mem_mb + " MB");
    }
  }
  const _stringIndexOf = String.prototype.indexOf, _regexpExec = RegExp.prototype.exec;
  const _slice = String.prototype.slice;
  const _regexpFlags = _Object.getOwnPropertyDescriptor(RegExp.prototype, "flags").get;
  const _regexpSource = _Object.getOwnPropertyDescriptor(RegExp.prototype, "source").get;
  const _symbolReplace = _Symbol.replace, _symbolSplit = _Symbol.split;
  const _originalReplace = RegExp.prototype[_symbolReplace], _originalSplit = RegExp.prototype[_symbolSplit];
  // Walks the matches of `pattern` in `s` (one pass, in JS: a long walk can be cancelled),
  // adding `each(matchLength)` per match to `start`; stops early once the sum is over `limit`.
  // -1 when the matches cannot be known without running user code (a custom matcher).
  function sumMatches(s, pattern, global, start, each, limit) {
    let total = start;
    if (typeof pattern !== "object" || pattern === null) {
      const p = _String(pattern);
      if (p.length === 0) return start + (global ? s.length + 1 : 1) * each(0);
      for (let i = _apply(_stringIndexOf, s, [p, 0]); i >= 0; i = _apply(_stringIndexOf, s, [p, i + p.length])) {
        total += each(p.length);
        if (!global || total > limit) break;
      }
      return total;
    }
    let flags;
    try { flags = _apply(_regexpFlags, pattern, []); } catch (e) { return -1; }
    if (pattern[_symbolReplace] !== _originalReplace || pattern[_symbolSplit] !== _originalSplit) return -1;
    const sticky = _apply(_stringIndexOf, flags, ["g"]) >= 0;
    const all = global || sticky;
    const probe = new _RegExp(_apply(_regexpSource, pattern, []), sticky ? flags : flags + "g");
    for (let m = _apply(_regexpExec, probe, [s]); m !== null; m = _apply(_regexpExec, probe, [s])) {
      total += each(m[0].length);
      if (!all || total > limit) break;
      if (m[0].length === 0) probe.lastIndex++;
    }
    return total;
  }
  function replacementBound(s, pattern, replacement, global) {
    // Replacements made by a function run JS for every match: termination lands there.
    if (typeof replacement === "function") return 0;
    const r = _String(replacement);
    // A "$&"-style pattern inserts at most the whole string per "$".
    let dollars = 0;
    for (let i = _apply(_stringIndexOf, r, ["$", 0]); i >= 0; i = _apply(_stringIndexOf, r, ["$", i + 1])) dollars++;
    const inserted = r.length + dollars * s.length;
    const limit = budget / CHAR_BYTES;
    if (s.length + (s.length + 1) * inserted <= limit) return 0;   // cannot be too big: no walk
    // A string pattern replaced by nothing longer cannot grow the string.
    if ((typeof pattern !== "object" || pattern === null) && inserted <= _String(pattern).length) return 0;
    const n = sumMatches(s, pattern, global, s.length, (matched) => inserted - matched, limit);
    return n < 0 ? 0 : n;
  }
  function wrapString(name, check) {
    const original = String.prototype[name];
    if (typeof original !== "function") return;
    const guarded = { [name](...args) {
      if (this !== null && this !== undefined) check(_String(this), args);
      return _apply(original, this, args);
    } }[name];
    _defineProperty(guarded, "length", { value: original.length, configurable: true });
    _defineProperty(String.prototype, name, { value: guarded, writable: true, configurable: true, enumerable: false });
  }
  wrapString("repeat", (s, args) => {
    const count = _Number(args[0]);
    if (count > 0 && count !== Infinity) guardSize(s.length * (count - (count % 1)), CHAR_BYTES, "String.prototype.repeat");
  });
  for (const name of ["padStart", "padEnd"]) {
    wrapString(name, (s, args) => {
      const n = toLength(args[0]);
      if (n > s.length && (args[1] === undefined || _String(args[1]).length > 0)) guardSize(n, CHAR_BYTES, "String.prototype." + name);
    });
  }
  for (const name of ["replace", "replaceAll"]) {
    wrapString(name, (s, args) => {
      const n = replacementBound(s, args[0], args[1], name === "replaceAll");
      if (n > 0) guardSize(n, CHAR_BYTES, "String.prototype." + name);
    });
  }
  // replaceAll of a plain string by a plain string runs in one C++ call that ignores
  // termination for seconds on a long string: such a string is replaced slice by slice, each
  // cut where no occurrence of the pattern spans it (so the slices find exactly the matches
  // the whole string has), with termination landing between slices. With "$" patterns (which
  // can quote the whole string) or a function (given offsets) it goes in one piece.
  const REPLACE_SLICE = 1 << 20;
  const _replaceAllGuarded = String.prototype.replaceAll;
  function safeCut(s, p, at) {
    for (let c = at, tries = 0; c < s.length && tries < 4096; tries++) {
      const i = _apply(_stringIndexOf, s, [p, c - p.length + 1]);
      if (i < 0 || i >= c) return c;
      c = i + 1;
    }
    return s.length;
  }
  _defineProperty(String.prototype, "replaceAll", {
    value: { replaceAll(pattern, replacement) {
      if (this === null || this === undefined || typeof pattern !== "string" || pattern.length === 0 ||
          typeof replacement !== "string" || _apply(_stringIndexOf, replacement, ["$"]) >= 0 ||
          _String(this).length <= REPLACE_SLICE) {
        return _apply(_replaceAllGuarded, this, [pattern, replacement]);
      }
      const s = _String(this), parts = newList();
      for (let start = 0; start < s.length;) {
        const end = safeCut(s, pattern, _Math.min(start + REPLACE_SLICE, s.length));
        _push(parts, _apply(_replaceAllGuarded, _apply(_slice, s, [start, end]), [pattern, replacement]));
        start = end;
      }
      return _arrJoin(parts, "");
    } }.replaceAll,
    writable: true, configurable: true, enumerable: false,
  });
  wrapString("split", (s, args) => {
    const limit = args[1] === undefined ? 4294967295 : _Number(args[1]) >>> 0;
    if (args[0] === undefined || _Math.min(s.length + 1, limit) * ELEMENT_BYTES <= budget) return;
    const n = sumMatches(s, args[0], true, 1, () => 1, _Math.floor(budget / ELEMENT_BYTES));
    if (n >= 0) guardSize(_Math.min(n, limit), ELEMENT_BYTES, "String.prototype.split");
  });
  // normalize() of a long string runs in one ICU call that termination cannot interrupt: long
  // strings are normalised in slices cut before an ASCII character (ASCII never composes with
  // what precedes it, so slices normalise exactly as the whole), with termination landing
  // between slices, and the joined size checked against the budget first.
  const NORMALIZE_SLICE = 1 << 18;
  const _normalize = String.prototype.normalize;
  _defineProperty(String.prototype, "normalize", {
    value: { normalize(...args) {
      if (this === null || this === undefined || _String(this).length <= NORMALIZE_SLICE) return _apply(_normalize, this, args);
      const s = _String(this), parts = newList();
      let total = 0;
      for (let start = 0; start < s.length;) {
        let end = _Math.min(start + NORMALIZE_SLICE, s.length);
        while (end < s.length && _charCodeAt(s, end) >= 0x80 && end - start < 2 * NORMALIZE_SLICE) end++;
        if (end < s.length && _charCodeAt(s, end) >= 0x80) end = s.length;   // no ASCII: no safe cut
        const part = _apply(_normalize, _apply(_slice, s, [start, end]), args);
        total += part.length;
        guardSize(total, CHAR_BYTES, "String.prototype.normalize");
        _push(parts, part);
        start = end;
      }
      return _arrJoin(parts, "");
    } }.normalize,
    writable: true, configurable: true, enumerable: false,
  });
  // Array.prototype.fill and Array.from over an array-like fill element by element in C++
  // without termination checks (`new Array(2**28).fill(0)` ran on seconds past a cancel at
  // mem_mb 4096): long ones go in slices, with termination landing between them.
  const FILL_SLICE = 1 << 16;
  _defineProperty(Array.prototype, "fill", {
    value: { fill(value, start, end) {
      const len = toLength(this.length);
      guardLength(len, "Array.prototype.fill");
      if (len <= FILL_SLICE) return _apply(_arrayFill, this, arguments);
      const rel = (x, d) => { const n = x === undefined ? d : _Math.trunc(_Number(x)) || 0; return n < 0 ? _Math.max(len + n, 0) : _Math.min(n, len); };
      const from = rel(start, 0), to = rel(end, len);
      for (let i = from; i < to; i += FILL_SLICE) _apply(_arrayFill, this, [value, i, _Math.min(i + FILL_SLICE, to)]);
      return this;
    } }.fill,
    writable: true, configurable: true, enumerable: false,
  });
  _defineProperty(Array.prototype.fill, "length", { value: 1, configurable: true });
  _defineProperty(Array, "from", {
    value: { from(items, mapFn, thisArg) {
      if (isObject(items) && typeof items[_iterator] !== "function") {
        const len = toLength(items.length);
        guardLength(len, "Array.from");
        if (len > FILL_SLICE && this === _Array && (mapFn === undefined || typeof mapFn === "function")) {
          const out = new _Array(len);
          for (let i = 0; i < len; i++) out[i] = mapFn === undefined ? items[i] : _apply(mapFn, thisArg, [items[i], i]);
          return out;
        }
      }
      return _apply(_arrayFrom, this, arguments);
    } }.from,
    writable: true, configurable: true, enumerable: false,
  });
  _defineProperty(Array.from, "length", { value: 1, configurable: true });
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
  // The globals themselves are removed at the end of the prelude (hideGlobals), so that every
  // part of it is installed with the standard globals at hand.
  const hiddenNames = newList(), hiddenValues = newList();
  for (const name of config.hidden_globals) {
    if (_regexpTest(/^[A-Za-z_$][A-Za-z0-9_$]*$/, name) && name !== "eval" && name !== "arguments" && name in G) {
      _push(hiddenNames, name);
      _push(hiddenValues, G[name]);
    }
  }
  function hideGlobals() {
    for (const name of config.hidden_globals) delete G[name];
  }
