// Part of the session prelude, concatenated in file-name order inside the closure that
// 1-primordials.js opens (see runtime/isolate.py): names defined in earlier parts are in scope.
  // ---------------------------------------------------------------- rich display
  // display(value) records a MIME bundle as a `display` event, as Deno's Jupyter kernel does: a
  // value with a [Symbol.for("Jupyter.display")]() method supplies its own bundle, a plain
  // object whose keys are all MIME types is a bundle, anything else is shown as text/plain (its
  // inspect text). A bundle always carries text/plain. It travels as a console line of level
  // "display" whose text is the bundle's JSON, so it shares the console's ordering, streaming
  // and output limits.
  const DISPLAY_SYMBOL = _Symbol["for"]("Jupyter.display");
  const MIME_TYPE = /^[a-z]+\/[A-Za-z0-9.+_-]+$/;
  // The value's display method, read once (it may be a getter), or undefined.
  function displayMethod(v) {
    if (v === null || (typeof v !== "object" && typeof v !== "function")) return undefined;
    let method;
    try { method = v[DISPLAY_SYMBOL]; } catch (e) { return undefined; }
    return typeof method === "function" ? method : undefined;
  }
  function mimeBundleOf(v, method = displayMethod(v)) {
    let source = null;
    if (v !== null && (typeof v === "object" || typeof v === "function")) {
      if (method !== undefined) {
        source = _apply(method, v, []);
        if (source === null || typeof source !== "object") {
          throw new _TypeError("[Symbol.for(\"Jupyter.display\")]() must return an object of MIME types");
        }
      } else if (_getProto(v) === _Object.prototype || _getProto(v) === null) {
        const keys = _keys(v);
        let all = keys.length > 0;
        for (let i = 0; i < keys.length && all; i++) all = _regexpTest(MIME_TYPE, keys[i]);
        if (all) source = v;
      }
    }
    const bundle = _create(null);
    if (source !== null) {
      const keys = _keys(source);
      for (let i = 0; i < keys.length; i++) {
        const mime = keys[i];
        if (!_regexpTest(MIME_TYPE, mime)) throw new _TypeError("not a MIME type: " + _stringify(mime));
        const data = source[mime];
        if (mime === "application/json") bundle[mime] = data;
        else if (typeof data === "string") bundle[mime] = _apply(_toWellFormed, data, []);
        else throw new _TypeError("the data of " + mime + " must be a string");
      }
    }
    if (!_hasOwn(bundle, "text/plain")) bundle["text/plain"] = _apply(_toWellFormed, inspectTop(v), []);
    return bundle;
  }
  // The MIME bundle of a run's result, when the value supplies one through the display symbol
  // (as a Jupyter front end shows it): its JSON, or undefined.
  function resultBundle(v) {
    const method = displayMethod(v);
    if (method === undefined) return undefined;
    let text;
    try { text = _stringify(mimeBundleOf(v, method)); } catch (e) { return undefined; }
    return typeof text === "string" && text.length <= state.maxBytes ? text : undefined;
  }
  function recordDisplay(v) {
    if (state.stopped) throw new _RangeError("execution stopped: output limit exceeded");
    const text = _stringify(mimeBundleOf(v));
    if (text === undefined) throw new _TypeError("display(): the bundle cannot be serialised");
    reserve(text);
    const line = newList();
    line[0] = "display"; line[1] = text; line[2] = _dateNow();
    _push(state.lines, line);
    flush();
  }
  _defineProperty(G, "display", {
    value: function display(value) { recordDisplay(value); },
    writable: true, configurable: true, enumerable: false,
  });
