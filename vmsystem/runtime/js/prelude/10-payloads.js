// Part of the session prelude, concatenated in file-name order inside the closure that
// 1-primordials.js opens (see runtime/isolate.py): names defined in earlier parts are in scope.
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
  function describe(v) {
    const type = kindOf(v);
    let preview;
    try { preview = typeof v === "symbol" ? _symToString(v) : _String(v); } catch (e) {
      try { preview = inspectTop(v); } catch (x) { preview = "[object]"; }
    }
    // A lone surrogate stays: JSON.stringify escapes it (\ud800), which the host decodes,
    // stores and serves as that escape, so nothing is lost.
    preview = _String(preview);
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
      }
    }
    let out = "{\"type\":" + _stringify(type) + ",\"preview\":" + _stringify(preview) + ",\"inspect\":" + _stringify(shown);
    if (json !== undefined) out += ",\"json\":" + json;
    const bundle = resultBundle(v);
    if (bundle !== undefined) out += ",\"display\":" + bundle;
    return out + "}";
  }
  // An uncaught exception: name, message and stack (the user's frames only) for an Error;
  // `inspect`, what Node's REPL prints after "Uncaught "; an Error's own enumerable properties
  // (`props`, with `cause` and `errors`, each formatted by inspect) for structured use.
  function describeError(e, unhandled, result) {
    let name = "Uncaught", message, stack = null;
    let props = null;
    if (isError(e)) {
      try { name = _String(e.name); } catch (x) { name = "Error"; }
      try { message = _String(e.message); } catch (x) { message = ""; }
      stack = _errorStackOf(e);
      if (stack !== null) stack = cleanStack(stack, state.wrapped);
      props = errorProps(e);
    } else {
      try { message = typeof e === "symbol" ? _symToString(e) : _String(e); } catch (x) { message = inspectTop(e); }
    }
    let shown;
    try { shown = thrownText(e); } catch (x) { shown = message; }
    const wf = (t) => _stringify(_apply(_toWellFormed, _String(t), []));
    let out = "{\"name\":" + wf(name) + ",\"message\":" + wf(message) + ",\"inspect\":" + wf(shown);
    if (stack !== null) out += ",\"stack\":" + wf(stack);
    if (props !== null) out += ",\"props\":" + props;
    if (unhandled) out += ",\"unhandled\":true";
    if (result !== undefined) out += ",\"result\":" + result;
    return out + "}";
  }
  function errorProps(e) {
    const keys = newList();
    try {
      const own = _keys(e);
      for (let i = 0; i < own.length; i++) _push(keys, own[i]);
      for (const k of ["cause", "errors"]) if (_hasOwn(e, k) && !_apply(_arrIncludes, keys, [k])) _push(keys, k);
    } catch (x) { return null; }
    if (keys.length === 0) return null;
    let out = "{";
    for (let i = 0; i < keys.length; i++) {
      let v;
      try { const d = _getOwnPropertyDescriptor(e, keys[i]); v = d === undefined ? undefined : _hasOwn(d, "value") ? d.value : "[Getter]"; } catch (x) { v = undefined; }
      out += (i ? "," : "") + _stringify(_apply(_toWellFormed, keys[i], [])) + ":" + _stringify(_apply(_toWellFormed, inspectTop(v), []));
    }
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
    state.wrapped = 0;
    state.settled = 0;
    state.value = undefined;
    state.captured = undefined;
    state.thrown = undefined;
    state.hasThrown = false;
    replToken = null;
    state.failed = false;
    state.failure = undefined;
    state.idleTicks = 0;
    state.unhandled = false;
    state.result = NO_RESULT;
    clearRejections();
    clearAllTimers();
    currentEnv = baseEnv;
    modulesReset();
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
    if (isPromiseBrand(v)) {
      // A promise result is not awaited, but shown with its state once the callbacks queued
      // so far have run, as Node's REPL does (Promise { 1 }); watching it does not handle it.
      unobserved(() => watchPromise(v));
      return pending(0);
    }
    if (checkRejections()) return report();
    return step(false);
  }
  function tick() {
    hdr[3] = 1;
    if (checkRejections()) return report();
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
    if (state.settled === 2 || state.failed) return report();
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
    if (state.failed) {
      state.settled = 2;
      state.value = state.failure;
    }
    if (state.settled === 2) {
      let shown;
      if (state.unhandled && state.result !== NO_RESULT) {
        // What the input evaluated to before the rejection surfaced (Node's REPL prints it).
        try { shown = describe(state.result); } catch (e) { shown = undefined; }
      }
      result = "\"error\":" + describeError(state.value, state.unhandled, shown);
      setLastError(state.value);
    } else {
      setLastResult(state.value);
      let value;
      try { value = describe(state.value); } catch (e) { value = "{\"type\":\"object\",\"preview\":\"[object]\",\"inspect\":\"[object]\"}"; }
      result = "\"value\":" + value;
    }
    const out = "{" + result + ",\"lines\":" + serializeLines(state.lines) + ",\"stats\":" + stats() + "}";
    reset();
    return out;
  }
  // After a script that threw: the value of its top-level `throw`, if there was one, for the
  // host to use when it is what escaped (same name and message), and as `_error` then.
  function finishErr() {
    hdr[3] = 1;
    let thrown = "";
    if (state.hasThrown) {
      try { thrown = ",\"thrown\":" + describeError(state.thrown); } catch (e) { thrown = ""; }
    }
    pendingError = true;
    thrownCandidate = state.hasThrown ? state.thrown : NO_VALUE;
    const out = "{\"lines\":" + serializeLines(state.lines) + ",\"stats\":" + stats() + thrown + "}";
    reset();
    return out;
  }
  const NO_VALUE = _freeze(_create(null));
  // `_error` after a script that threw is settled when read: the host says what escaped.
  let pendingError = false, thrownCandidate = NO_VALUE;
  function settleLastError() {
    if (!pendingError) return;
    pendingError = false;
    let r = null;
    try { r = hostCall("last_error"); } catch (e) { r = null; }
    if (r === null || typeof r !== "object") return;
    if (r.captured === true && thrownCandidate !== NO_VALUE) { lastError = thrownCandidate; return; }
    const seen = r.error;
    if (seen !== null && typeof seen === "object") lastError = rebuildError(seen);
  }
  function rebuildError(seen) {
    const name = _String(seen.name);
    if (name === "Uncaught") return seen.message;
    const Ctor = _hasOwn(ERRORS, name) ? ERRORS[name] : _Error;
    const e = new Ctor(_String(seen.message));
    if (typeof seen.stack === "string") _defineProperty(e, "stack", { value: seen.stack, writable: true, configurable: true, enumerable: false });
    return e;
  }
  // Node's REPL conveniences: `_` is the last result and `_error` the last thrown value, until
  // user code assigns them (then they are plain variables, and Node's notice is printed).
  let lastResult, lastError;
  function setLastResult(v) { lastResult = v; }
  function setLastError(v) { lastError = v; pendingError = false; }
  function replVariable(name, read) {
    _defineProperty(G, name, {
      get: { [name]() { return read(); } }[name],
      set: { [name](v) {
        _defineProperty(G, name, { value: v, writable: true, configurable: true, enumerable: false });
        write("log", "Expression assignment to " + name + " now disabled.");
      } }[name],
      configurable: true, enumerable: false,
    });
  }
  replVariable("_", () => lastResult);
  replVariable("_error", () => { settleLastError(); return lastError; });
  // begin: per-execution parameters (run-file args and env), as one JSON string in `this`.
  // `this`, not an argument: building an argument array needs synchronous calls into the
  // isolate, which block forever when a stray timer loop occupies it.
  function begin() {
    const p = _parse(this);
    if (_hasOwn(p, "env")) currentEnv = _freeze(_assign(_create(null), config.env, p.env));
    if (_hasOwn(p, "args")) G.__ARGS__ = p.args;
    if (_hasOwn(p, "filename") && typeof p.filename === "string") modFile = p.filename;
    return true;
  }
  reset();
  hideGlobals();
  installRejections();
  return [finishOk, finishErr, begin, sab, tick, transform, complete];
})
