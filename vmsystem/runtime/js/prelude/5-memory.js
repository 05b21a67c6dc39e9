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
