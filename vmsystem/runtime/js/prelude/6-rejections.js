// Part of the session prelude, concatenated in file-name order inside the closure that
// 1-primordials.js opens (see runtime/isolate.py): names defined in earlier parts are in scope.
  // ---------------------------------------------------------------- unhandled rejections
  // V8's promise-rejection hook (installed by the host, runtime/rejections.py) appends to
  // `rejectionLog`: [promise, reason] when a promise is rejected with no handler, and
  // [promise, rejectionLog] when such a promise gets a handler later. The log is read once the
  // microtasks of a task have run (at the end of the script, before each timer), as Node
  // reads its own after each tick: what is still unhandled then is reported. With the
  // template's `unhandled_rejections: "throw"` (Node's default) the first one ends the run
  // as its exception, marked unhandled; with "warn" each is printed as a warning and the run
  // goes on. A rejection handled after it was reported is not reported again.
  const rejectionLog = newList();
  const unhandledReasons = new _Map();   // promise -> reason, rejected with no handler so far
  let unhandledOrder = newList();        // those promises, in rejection order
  function installRejections() {
    // The host finds the list at an index property of the global object, there only for the
    // length of this call (at the end of the prelude: no user code has run yet).
    const key = config.rejection_key;
    _defineProperty(G, key, { value: rejectionLog, configurable: true, writable: false, enumerable: false });
    try { rejectionHook(); } finally { delete G[key]; }
  }
  // Runs fn (the prelude's own then() on a user's promise) without the handler it adds
  // counting: a promise result is watched for its state, not handled.
  function unobserved(fn) {
    const n = rejectionLog.length;
    try { return fn(); } finally { rejectionLog.length = n; }
  }
  function readRejectionLog() {
    const log = rejectionLog;
    for (let i = 0; i + 1 < log.length; i += 2) {
      const p = log[i], reason = log[i + 1];
      if (reason === log) {
        _apply(_mapDelete, unhandledReasons, [p]);
      } else {
        if (!_apply(_mapHas, unhandledReasons, [p])) _push(unhandledOrder, p);
        _apply(_mapSet, unhandledReasons, [p, reason]);
      }
    }
    log.length = 0;
  }
  // After a task's microtasks: true when an unhandled rejection ends the run (state.value is
  // then its reason).
  function checkRejections() {
    if (rejectionLog.length === 0) return false;
    readRejectionLog();
    if (_mapSize(unhandledReasons) === 0) { unhandledOrder = newList(); return false; }
    const order = unhandledOrder;
    unhandledOrder = newList();
    for (let i = 0; i < order.length; i++) {
      const p = order[i];
      if (!_apply(_mapHas, unhandledReasons, [p])) continue;
      const reason = _apply(_mapGet, unhandledReasons, [p]);
      _apply(_mapDelete, unhandledReasons, [p]);
      if (config.unhandled_rejections === "warn") {
        let text;
        try { text = thrownText(reason); } catch (e) { text = "[unprintable reason]"; }
        emit("warn", "UnhandledPromiseRejectionWarning: " + text);
        continue;
      }
      _apply(_mapClear, unhandledReasons, []);
      state.unhandled = true;
      state.result = state.settled === 1 ? state.value : NO_RESULT;
      state.settled = 2;
      state.value = reason;
      return true;
    }
    return false;
  }
  function clearRejections() {
    rejectionLog.length = 0;
    _apply(_mapClear, unhandledReasons, []);
    unhandledOrder = newList();
  }
  const NO_RESULT = _freeze(_create(null));
