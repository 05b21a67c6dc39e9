// Part of the session prelude, concatenated in file-name order inside the closure that
// 1-primordials.js opens (see runtime/isolate.py): names defined in earlier parts are in scope.
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
      _apply(_promiseThen, _apply(_promiseResolve, _Promise, []), [() => {
        // An exception thrown by the callback ends the run, as an uncaught exception ends a
        // Node script (it would otherwise vanish in this internal promise).
        try { fn(); } catch (e) { if (!state.failed) { state.failed = true; state.failure = e; } }
      }]);
    },
  };
  for (const name of _keys(timerFns)) {
    _defineProperty(G, name, { value: timerFns[name], writable: true, configurable: true, enumerable: false });
  }
