// vm-system session prelude. Evaluated once per V8 context before any user code.
//
// It installs console, require, process, the timers, the web APIs and the ArrayBuffer
// accounting, keeps every internal in this closure (user code cannot reach the host bridge),
// and evaluates to an array of internal functions that the Python side keeps handles to:
//   [finishOk, finishErr, begin, sab, tick, transform, complete]
// The host bridge: one SharedArrayBuffer mailbox plus a synchronous "bell" callback into
// Python (the Python handler runs on the isolate thread while JS waits inside the call).
//
// Primordials: every builtin the prelude uses is taken here, before user code runs, and called
// through `uncurry`/Reflect.apply, never through a live lookup such as `s.charCodeAt(i)` or
// `arr.push(x)`: user code may replace any prototype method, and a replaced one must not be able
// to forge what the host receives (console levels, requests) or reach the host-call function.
// Lists the prelude builds have a null prototype, so writing them consults no user setter.
(function (bell, configJson, rejectionHook) {
  "use strict";
  const G = globalThis;
  const config = JSON.parse(configJson);
  const _eval = eval;
  const _Object = Object, _JSON = JSON, _String = String, _Array = Array, _Error = Error;
  const _apply = Reflect.apply, _bind = Function.prototype.bind, _call = Function.prototype.call;
  // uncurry(String.prototype.charCodeAt)(s, i) === s.charCodeAt(i), with no lookup at call time.
  const uncurry = (f) => _apply(_bind, _call, [f]);
  const _isArray = Array.isArray, _keys = Object.keys, _getProto = Object.getPrototypeOf;
  const _setProto = Object.setPrototypeOf, _hasOwn = Object.hasOwn, _create = Object.create;
  const _dateNow = Date.now, _fromCharCode = String.fromCharCode;
  const _defineProperty = Object.defineProperty, _freeze = Object.freeze, _assign = Object.assign;
  const _Uint16Array = Uint16Array, _Int32Array = Int32Array, _Uint8Array = Uint8Array;
  const _fnToString = uncurry(Function.prototype.toString);
  const _RangeError = RangeError, _TypeError = TypeError, _SyntaxError = SyntaxError, _Reflect = Reflect, _Proxy = Proxy;
  const _Map = Map, _Set = Set, _Date = Date, _RegExp = RegExp, _Promise = Promise;
  const _WeakMap = WeakMap, _WeakSet = WeakSet, _Symbol = Symbol;
  const _mapEntries = Map.prototype.entries, _setValues = Set.prototype.values;
  const _mapGet = Map.prototype.get, _mapSet = Map.prototype.set, _mapDelete = Map.prototype.delete;
  const _mapHas = Map.prototype.has;
  const _weakMapHas = uncurry(WeakMap.prototype.has), _weakSetHas = uncurry(WeakSet.prototype.has);
  const _dateToString = uncurry(Date.prototype.toString), _dateParse = Date.parse, _dateUTC = Date.UTC;
  const _Math = Math;
  const _dateToISO = uncurry(Date.prototype.toISOString), _regexpToString = uncurry(RegExp.prototype.toString);
  const _errorToString = uncurry(Error.prototype.toString);
  const _symToString = uncurry(Symbol.prototype.toString);
  const _numToString = uncurry(Number.prototype.toString);
  const _charCodeAt = uncurry(String.prototype.charCodeAt);
  const _arrJoin = uncurry(Array.prototype.join), _arrPush = uncurry(Array.prototype.push);
  const _promiseThen = Promise.prototype.then, _promiseResolve = Promise.resolve;
  const _mapClear = Map.prototype.clear, _arrIncludes = Array.prototype.includes;
  const _FinalizationRegistry = typeof FinalizationRegistry === "function" ? FinalizationRegistry : null;
  const _registryRegister = _FinalizationRegistry ? uncurry(FinalizationRegistry.prototype.register) : null;
  const _ArrayBufferIsView = ArrayBuffer.isView;
  // Globals a template may hide (capability global:<Name>): keep the originals used here.
  const _ArrayBuffer = ArrayBuffer, _SharedArrayBuffer = SharedArrayBuffer;
  const _isNaN = isNaN, _isFinite = isFinite, _parseInt = parseInt, _parseFloat = parseFloat;
  const _Number = Number;
  const _abByteLength = _Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength").get;
  const _sabByteLength = _Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, "byteLength").get;
  // JSON, Function.prototype.apply and subarray are taken here too: a logging library wrapping
  // JSON.stringify, or `JSON.stringify = () => "null"`, must not break the host protocol.
  const _stringify = JSON.stringify, _parse = JSON.parse;
  const _u16Subarray = Uint16Array.prototype.subarray;
  const _toWellFormed = String.prototype.toWellFormed;
  const _TypedArrayProto = _getProto(Uint8Array.prototype);
  const _taByteLength = _Object.getOwnPropertyDescriptor(_TypedArrayProto, "byteLength").get;
  const _taBuffer = _Object.getOwnPropertyDescriptor(_TypedArrayProto, "buffer").get;
  const _taLength = _Object.getOwnPropertyDescriptor(_TypedArrayProto, "length").get;
  const _taByteOffset = _Object.getOwnPropertyDescriptor(_TypedArrayProto, "byteOffset").get;
  const _arrayFrom = Array.from, _iterator = Symbol.iterator;
  // Error classes a host function may throw into JS, by name (fixed here: a user-defined global
  // named like an error must not be constructed by the bridge).
  const ERRORS = _freeze(_assign(_create(null), {
    Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError,
  }));
  function newList() { const l = []; _setProto(l, null); return l; }
  function _push(list, x) { list[list.length] = x; }
