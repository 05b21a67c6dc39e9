// Part of the session prelude, concatenated in file-name order inside the closure that
// 1-primordials.js opens (see runtime/isolate.py): names defined in earlier parts are in scope.
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
    failed: false,        // a queueMicrotask callback threw `failure`: the run ends with it
    failure: undefined,
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
