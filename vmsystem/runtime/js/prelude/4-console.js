// Part of the session prelude, concatenated in file-name order inside the closure that
// 1-primordials.js opens (see runtime/isolate.py): names defined in earlier parts are in scope.
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
    wrapped: 0,           // ... the last line of its REPL wrapper (until the run ends)
    settled: 0,           // 0: the result is not known yet, 1: value, 2: error
    value: undefined,     // the run's result (or what it threw, when settled === 2)
    captured: undefined,  // the last expression's value, reported by the REPL transform
    thrown: undefined,    // the value of the last top-level `throw` (hasThrown: there was one)
    hasThrown: false,
    idleTicks: 0,         // ticks in a row with nothing to do (see step())
    failed: false,        // a queueMicrotask callback threw `failure`: the run ends with it
    failure: undefined,
    unhandled: false,     // state.value is an unhandled rejection's reason (6-rejections.js)
    result: undefined,    // ... and this the input's result when it had one (else NO_RESULT)
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
  // Counts one line of output (console or display) against the run's limits; at a limit the
  // run stops here.
  function reserve(text) {
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
  }
  function emit(level, formatted) {
    if (state.stopped) throw new _RangeError("execution stopped: output limit exceeded");
    if (!config.console) return;
    // A lone surrogate (console.log("\ud800")) is kept: the line crosses to the host as JSON
    // (the surrogate escaped) and is stored and served as that escape.
    const text = formatted;
    reserve(text);
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
  // ---------------------------------------------------------------- console (Node's)
  // Group indentation, counters and timers belong to the session, as they belong to Node's
  // process: they carry over from one input to the next.
  let groupIndent = "";
  const counts = new _Map(), timersByLabel = new _Map();
  function write(level, text) {
    if (groupIndent.length !== 0) {
      if (_strIncludes(text, "\n")) text = _strReplace(text, /\n/g, "\n" + groupIndent);
      text = groupIndent + text;
    }
    emit(level, text);
  }
  function label(v) { return v === undefined ? "default" : _String(v); }
  function formatTime(ms) {
    let hours = 0, minutes = 0, seconds = 0;
    if (ms >= 1000) {
      if (ms >= 60000) {
        if (ms >= 3600000) { hours = _mathFloor(ms / 3600000); ms = ms % 3600000; }
        minutes = _mathFloor(ms / 60000); ms = ms % 60000;
      }
      seconds = ms / 1000;
    }
    if (hours !== 0 || minutes !== 0) {
      const pad = (n) => _strPadStart(_String(n), 2, "0");
      const s = _strSplit(_numToFixed(seconds, 3), ".");
      return (hours !== 0 ? hours + ":" + pad(minutes) : minutes) + ":" + pad(s[0]) + "." + s[1] + " (" + (hours !== 0 ? "h:mm" : "") + "m:ss.mmm)";
    }
    if (seconds !== 0) return _numToFixed(seconds, 3) + "s";
    return _Number(_numToFixed(ms, 3)) + "ms";
  }
  const _numToFixed = uncurry(Number.prototype.toFixed);
  function timeSince(name) {
    const start = _apply(_mapGet, timersByLabel, [name]);
    if (start === undefined) return undefined;
    return formatTime(_dateNow() - start);
  }
  const consoleObj = {
    log(...args) { write("log", formatArgs(args)); },
    info(...args) { write("info", formatArgs(args)); },
    debug(...args) { write("debug", formatArgs(args)); },
    warn(...args) { write("warn", formatArgs(args)); },
    error(...args) { write("error", formatArgs(args)); },
    dirxml(...args) { write("log", formatArgs(args)); },
    trace(...args) {
      let stack = "";
      try { stack = _errorStackOf(new _Error("x")); } catch (e) { /* no stack */ }
      const frames = stack === null ? "" : userStack(_strSlice(stack, _strIndexOf(stack, "\n") + 1 || stack.length));
      write("error", "Trace" + (args.length ? ": " + formatArgs(args) : "") + (frames ? "\n" + frames : ""));
    },
    dir(object, options) {
      const opts = _assign(_create(null), { customInspect: false });
      if (options !== null && typeof options === "object") _assign(opts, options);
      write("log", inspectValue(object, opts));
    },
    table(data, properties) { tableOf(data, properties); },
    group(...args) {
      if (args.length > 0) write("log", formatArgs(args));
      groupIndent += "  ";
    },
    groupCollapsed(...args) { consoleObj.group(...args); },
    groupEnd() { groupIndent = _strSlice(groupIndent, 0, groupIndent.length >= 2 ? groupIndent.length - 2 : 0); },
    count(name) {
      const key = label(name);
      const n = (_apply(_mapGet, counts, [key]) || 0) + 1;
      _apply(_mapSet, counts, [key, n]);
      write("info", key + ": " + n);
    },
    countReset(name) {
      const key = label(name);
      if (!_apply(_mapHas, counts, [key])) { write("warn", "Count for '" + key + "' does not exist"); return; }
      _apply(_mapDelete, counts, [key]);
    },
    time(name) {
      const key = label(name);
      if (_apply(_mapHas, timersByLabel, [key])) { write("warn", "Warning: Label '" + key + "' already exists for console.time()"); return; }
      _apply(_mapSet, timersByLabel, [key, _dateNow()]);
    },
    timeEnd(name) {
      const key = label(name);
      const t = timeSince(key);
      if (t === undefined) { write("warn", "Warning: No such label '" + key + "' for console.timeEnd()"); return; }
      _apply(_mapDelete, timersByLabel, [key]);
      write("info", key + ": " + t);
    },
    timeLog(name, ...data) {
      const key = label(name);
      const t = timeSince(key);
      if (t === undefined) { write("warn", "Warning: No such label '" + key + "' for console.timeLog()"); return; }
      write("info", key + ": " + t + (data.length ? " " + formatArgs(data) : ""));
    },
    assert(expression, ...args) {
      if (!expression) {
        args[0] = "Assertion failed" + (args.length === 0 ? "" : ": " + args[0]);
        write("warn", formatArgs(args));
      }
    },
  };
  const _strIndexOf = uncurry(String.prototype.indexOf);
  // console.table, as Node draws it (lib/internal/console/constructor.js, internal/cli_table.js).
  function tableOf(data, properties) {
    if (properties !== undefined && !_isArray(properties)) {
      throw new _TypeError("The \"properties\" argument must be an instance of Array.");
    }
    if (data === null || typeof data !== "object") { write("log", formatArgs([data])); return; }
    const cell = (v) => {
      const depth = v !== null && typeof v === "object" && !_isArray(v) && _keys(v).length > 2 ? -1 : 0;
      return inspectValue(v, _assign(_create(null), { depth, maxArrayLength: 3, breakLength: 1 / 0 }));
    };
    const indexes = (n) => { const l = newList(); for (let i = 0; i < n; i++) _push(l, cell(i)); return l; };
    if (isMap(data)) {
      const ks = newList(), vs = newList();
      const it = _apply(_mapEntries, data, []);
      for (let r = _mapIterNext(it); !r.done; r = _mapIterNext(it)) { _push(ks, cell(r.value[0])); _push(vs, cell(r.value[1])); }
      write("log", drawTable(["(iteration index)", "Key", "Values"], [indexes(ks.length), ks, vs]));
      return;
    }
    if (isSet(data)) {
      const vs = newList();
      const it = _apply(_setValues, data, []);
      for (let r = _setIterNext(it); !r.done; r = _setIterNext(it)) _push(vs, cell(r.value));
      write("log", drawTable(["(iteration index)", "Values"], [indexes(vs.length), vs]));
      return;
    }
    const map = _create(null);
    const order = newList();
    let hasPrimitives = false;
    const valuesColumn = newList();
    const indexColumn = _keys(data);
    for (let i = 0; i < indexColumn.length; i++) {
      const item = data[indexColumn[i]];
      const primitive = item === null || (typeof item !== "function" && typeof item !== "object");
      if (properties === undefined && primitive) {
        hasPrimitives = true;
        valuesColumn[i] = cell(item);
      } else {
        const keys = properties || _keys(item);
        for (let k = 0; k < keys.length; k++) {
          const key = keys[k];
          if (!_hasOwn(map, key)) { map[key] = newList(); _push(order, key); }
          map[key][i] = (primitive && properties) || !_hasOwn(item, key) ? "" : cell(item[key]);
        }
      }
    }
    const head = newList(), columns = newList();
    _push(head, "(index)"); _push(columns, indexColumn);
    for (let k = 0; k < order.length; k++) { _push(head, _String(order[k])); _push(columns, map[order[k]]); }
    if (hasPrimitives) { _push(head, "Values"); _push(columns, valuesColumn); }
    write("log", drawTable(head, columns));
  }
  function drawTable(head, columns) {
    const rows = newList();
    const widths = newList();
    for (let i = 0; i < head.length; i++) _push(widths, head[i].length);
    let longest = 0;
    for (let i = 0; i < columns.length; i++) if (columns[i].length > longest) longest = columns[i].length;
    for (let i = 0; i < head.length; i++) {
      const column = columns[i];
      for (let j = 0; j < longest; j++) {
        if (rows[j] === undefined) rows[j] = newList();
        const v = _hasOwn(column, j) && column[j] !== undefined ? column[j] : "";
        rows[j][i] = v;
        if (v.length > widths[i]) widths[i] = v.length;
      }
    }
    const divider = newList();
    for (let i = 0; i < widths.length; i++) _push(divider, _strRepeat("─", widths[i] + 2));
    const renderRow = (row) => {
      let out = "│ ";
      for (let i = 0; i < row.length; i++) {
        out += row[i] + _strRepeat(" ", widths[i] - row[i].length);
        if (i !== row.length - 1) out += " │ ";
      }
      return out + " │";
    };
    let result = "┌" + _arrJoin(divider, "┬") + "┐\n" + renderRow(head) + "\n├" + _arrJoin(divider, "┼") + "┤\n";
    for (let j = 0; j < rows.length; j++) result += renderRow(rows[j]) + "\n";
    return result + "└" + _arrJoin(divider, "┴") + "┘";
  }
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
    const factory = (0, _eval)("(" + moduleFactories[key] + ")\n//# sourceURL=vm-system:module-" + key);
    const mod = _freeze(factory((op, args) => hostCall(key + "." + _String(op), args), key));
    moduleCache[key] = mod;
    return mod;
  }
  _defineProperty(G, "require", { value: require, writable: true, configurable: true, enumerable: false });
