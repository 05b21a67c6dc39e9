// Part of the session prelude, concatenated in file-name order inside the closure that
// 1-primordials.js opens (see runtime/isolate.py): names defined in earlier parts are in scope.
  // ---------------------------------------------------------------- host bridge
  const sab = new SharedArrayBuffer(config.mailbox_bytes);
  const hdr = new _Int32Array(sab, 0, 4);          // [request units, reply units, flags, started]
  const data = new _Uint16Array(sab, 16);          // UTF-16 code units
  const CAP = data.length;
  const MORE_REQUEST = 1, MORE_REPLY = 2;

  function writeUnits(str, from, count) {
    for (let i = 0; i < count; i++) data[i] = _charCodeAt(str, from + i);
  }
  function readUnits(count) {
    let out = "";
    for (let i = 0; i < count; i += 8192) {
      const end = i + 8192 < count ? i + 8192 : count;
      out += _apply(_fromCharCode, null, _apply(_u16Subarray, data, [i, end]));
    }
    return out;
  }
  // rawPayload: the payload already serialized by the harness (see serializeLines). Requests
  // are concatenated, not stringified as an array, so Array.prototype.toJSON cannot rewrite them.
  function hostCall(op, payload, rawPayload) {
    const body = rawPayload !== undefined ? rawPayload : payload === undefined ? "null" : _stringify(payload);
    const req = "[" + _stringify(_String(op)) + "," + (body === undefined ? "null" : body) + "]";
    let off = 0;
    do {
      const n = req.length - off < CAP ? req.length - off : CAP;
      writeUnits(req, off, n);
      off += n;
      hdr[0] = n;
      hdr[2] = off < req.length ? MORE_REQUEST : 0;
      bell();
    } while (off < req.length);
    let reply = readUnits(hdr[1]);
    while (hdr[2] & MORE_REPLY) {
      hdr[0] = -1;
      bell();
      reply += readUnits(hdr[1]);
    }
    const r = _parse(reply);
    if (_hasOwn(r, "e")) {
      const name = _hasOwn(r, "n") ? _String(r.n) : "Error";
      const Ctor = _hasOwn(ERRORS, name) ? ERRORS[name] : _Error;
      throw new Ctor(r.e);
    }
    return _hasOwn(r, "v") ? r.v : undefined;
  }
