// Part of the session prelude, concatenated in file-name order inside the closure that
// 1-primordials.js opens (see runtime/isolate.py): names defined in earlier parts are in scope.
  // ---------------------------------------------------------------- REPL input
  // transform(source) rewrites one input, REPL-style (Chrome DevTools, Deno), with acorn
  // (js/bundle-repl.js). The host calls it only when the text may need it (it mentions let,
  // const, class, await or a BigInt); it answers the source to evaluate, or null to run the
  // input as it is (acorn rejected it: V8 then reports its own SyntaxError).
  // - Top-level let/const/class become configurable properties of the global object, so a later
  //   input may declare them again (the new binding replaces the old). A const one becomes an
  //   accessor whose setter throws "Assignment to constant variable.". Inside one input the language's rules stand: acorn rejects
  //   `const a = 1; const a = 2`.
  // - An input using top-level await runs as an async function whose result is the value of its
  //   last expression statement; its var and function declarations are hoisted out of it, so
  //   every declaration stays visible to later inputs. The run then waits for that promise.
  // - The last expression statement's value is handed to the prelude (mini-racer cannot return
  //   a BigInt completion value).
  // The getters of sealed const bindings: reading one runs no user code (see complete()).
  const _weakSetAdd = _WeakSet.prototype.add;
  const SEALED = new _WeakSet();
  const CAPTURED = _freeze(_create(null));
  const replHelper = _freeze({
    declare(names) {
      for (let i = 0; i < names.length; i++) {
        const d = _getOwnPropertyDescriptor(G, names[i]);
        if (d !== undefined && !d.configurable) {
          if (d.writable) continue;   // a var or function: assigning to it is enough
          throw new _SyntaxError("Identifier '" + names[i] + "' has already been declared");
        }
        _defineProperty(G, names[i], { value: undefined, writable: true, enumerable: false, configurable: true });
      }
    },
    seal(names) {
      // An accessor, so that assigning to a const throws in sloppy code too, as it does in JS.
      for (let i = 0; i < names.length; i++) {
        const name = names[i];
        const d = _getOwnPropertyDescriptor(G, name);
        if (d === undefined || !d.configurable || !_hasOwn(d, "value")) continue;
        const value = d.value;
        const getter = { [name]() { return value; } }[name];
        _apply(_weakSetAdd, SEALED, [getter]);
        _defineProperty(G, name, {
          get: getter,
          set: { [name]() { throw new _TypeError("Assignment to constant variable."); } }[name],
          enumerable: false, configurable: true,
        });
      }
    },
    // A result already captured (TypeScript input, transformed twice) stays as it is.
    result(v) { if (v !== CAPTURED) state.captured = v; return CAPTURED; },
  });
  // A top-level `throw X` runs as `$vmT(X)`: the prelude keeps the value (the run's exception,
  // unless caught: see finishErr), which it formats as Node does. Calling it from user code is
  // the same as a throw statement; it can be neither replaced nor removed.
  _defineProperty(G, "$vmT", {
    value: { $vmT(v) { state.thrown = v; state.hasThrown = true; throw v; } }.$vmT,
    writable: false, configurable: false, enumerable: false,
  });
  // The rewritten input reaches the helper as `$vmR("<token>")`: the token is new for each
  // input and dropped when its run ends, so user code can neither find the helper in a global
  // nor call it (and `$vmR` itself can be neither replaced nor removed). Nothing in that path
  // looks up a builtin: a replaced `Symbol.for` or `Function.prototype.call` cannot break it.
  let replToken = null, HELPER = "";
  _defineProperty(G, "$vmR", {
    value: { $vmR(token) {
      if (replToken === null || token !== replToken) throw new _TypeError("$vmR is internal to vm-system's REPL");
      return replHelper;
    } }.$vmR,
    writable: false, configurable: false, enumerable: false,
  });
  function newReplToken() {
    let t = "";
    for (let i = 0; i < 4; i++) t += _numToString(_mathFloor(_mathRandom() * 4294967296), 36);
    replToken = t;
    HELPER = "$vmR(\"" + t + "\")";
  }

  // The transform runs acorn and this file's own code (for...of, array methods) with the
  // builtins as they were before user code ran: the standard prototypes and constructors are
  // put back for the call (user-added properties taken off), then the user's versions return.
  const PRISTINE = newList();   // entries {o, keys, descs, own (Map of the pristine keys), all}
  const _ownKeys = Reflect.ownKeys, _deleteProperty = Reflect.deleteProperty;
  function snapshot(o, names) {
    if (o === null || o === undefined) return;
    const keys = names === undefined ? _ownKeys(o) : names, descs = newList(), own = new _Map();
    for (let i = 0; i < keys.length; i++) {
      _push(descs, _getOwnPropertyDescriptor(o, keys[i]));
      _apply(_mapSet, own, [keys[i], true]);
    }
    _push(PRISTINE, { o, keys, descs, own, all: names === undefined });
  }
  const GLOBAL_NAMES = newList();
  for (const name of ["Object", "Function", "Array", "String", "Number", "Boolean", "Symbol", "BigInt",
                      "RegExp", "Map", "Set", "WeakMap", "WeakSet", "JSON", "Math", "Reflect", "Error",
                      "SyntaxError", "TypeError", "RangeError", "ReferenceError", "parseInt", "parseFloat",
                      "isNaN", "isFinite", "Promise", "Date", "Uint8Array", "Uint16Array", "Uint32Array",
                      "Int32Array", "Float64Array", "ArrayBuffer", "String"]) {
    if (_getOwnPropertyDescriptor(G, name) !== undefined) _push(GLOBAL_NAMES, name);
  }
  snapshot(G, GLOBAL_NAMES);
  for (const o of [Object, Object.prototype, Function.prototype, Array, Array.prototype, String, String.prototype,
                   Number, Number.prototype, Boolean.prototype, Symbol, Symbol.prototype, BigInt.prototype,
                   RegExp, RegExp.prototype, Map, Map.prototype, Set, Set.prototype, WeakMap.prototype,
                   JSON, Math, Reflect, Error, Error.prototype, SyntaxError.prototype, Promise, Promise.prototype,
                   _getProto([][Symbol.iterator]()), _getProto(_getProto([][Symbol.iterator]())),
                   _getProto(new Map().entries()), _getProto(new Set().values()), _getProto(""[Symbol.iterator]()),
                   _getProto(/x/[Symbol.matchAll]("x")), _TypedArrayProto, _getProto(Uint8Array)]) {
    snapshot(o);
  }
  function withPristine(fn) {
    const saved = newList();
    for (let i = 0; i < PRISTINE.length; i++) {
      const e = PRISTINE[i], o = e.o;
      const keys = e.all ? _ownKeys(o) : e.keys, descs = newList();
      for (let j = 0; j < keys.length; j++) _push(descs, _getOwnPropertyDescriptor(o, keys[j]));
      _push(saved, { o, keys, descs, e });
      try {
        if (e.all) for (let j = 0; j < keys.length; j++) if (!_apply(_mapHas, e.own, [keys[j]])) _deleteProperty(o, keys[j]);
        for (let j = 0; j < e.keys.length; j++) if (e.descs[j] !== undefined) _defineProperty(o, e.keys[j], e.descs[j]);
      } catch (x) { /* a frozen or non-configurable property stays as it is */ }
    }
    try {
      return fn();
    } finally {
      for (let i = saved.length - 1; i >= 0; i--) {
        const r = saved[i], o = r.o;
        try {
          if (r.e.all) {
            // keys the pristine set had but the user had removed go again
            const now = _ownKeys(o), had = new _Map();
            for (let j = 0; j < r.keys.length; j++) _apply(_mapSet, had, [r.keys[j], true]);
            for (let j = 0; j < now.length; j++) if (!_apply(_mapHas, had, [now[j]])) _deleteProperty(o, now[j]);
          }
          for (let j = 0; j < r.keys.length; j++) {
            if (r.descs[j] !== undefined) _defineProperty(o, r.keys[j], r.descs[j]);
            else _deleteProperty(o, r.keys[j]);
          }
        } catch (x) { /* as above */ }
      }
    }
  }
  const PARSE_OPTIONS = _freeze({ ecmaVersion: "latest", sourceType: "script", allowAwaitOutsideFunction: true, allowHashBang: true });
  // A static import line needs the module grammar (tried when the script grammar fails).
  const MODULE_OPTIONS = _freeze({ ecmaVersion: "latest", sourceType: "module", allowAwaitOutsideFunction: true, allowHashBang: true });
  const MODULES = "globalThis[Symbol.for(\"vm-system.modules\")]";
  // import(...) calls anywhere in `node` (the loader's dynamic import replaces them).
  function importCalls(node, out) {
    if (node === null || typeof node !== "object") return;
    if (node.type === "ImportExpression") _push(out, node.start);
    for (const key of _keys(node)) {
      if (key === "type" || key === "start" || key === "end") continue;
      const v = node[key];
      if (_isArray(v)) { for (const x of v) if (x !== null && typeof x === "object") importCalls(x, out); }
      else if (v !== null && typeof v === "object" && typeof v.type === "string") importCalls(v, out);
    }
  }
  // `import { a, b as c } from "x"` becomes constant globals bound to the module's exports.
  function importBinding(node, last) {
    const spec = _stringify(node.source.value);
    const names = newList();
    let text = "";
    for (const s of node.specifiers) {
      const local = s.local.name;
      _push(names, local);
      const imported = s.type === "ImportDefaultSpecifier" ? "default"
        : s.type === "ImportNamespaceSpecifier" ? "*"
        : s.imported.type === "Identifier" ? s.imported.name : _String(s.imported.value);
      text += "(" + local + " = " + MODULES + ".binding(" + spec + ", " + _stringify(imported) + "));";
    }
    if (names.length === 0) return ";" + MODULES + ".binding(" + spec + ", \"*\");" + (last ? "void 0;" : "");
    return ";" + HELPER + ".declare(" + _stringify(names) + ");" + text + HELPER + ".seal(" +
      _stringify(names) + ");" + (last ? "void 0;" : "");
  }
  function bindingNames(node, out) {
    if (node === null) return;
    switch (node.type) {
      case "Identifier": _push(out, node.name); break;
      case "ObjectPattern":
        for (const p of node.properties) bindingNames(p.type === "RestElement" ? p.argument : p.value, out);
        break;
      case "ArrayPattern": for (const e of node.elements) bindingNames(e, out); break;
      case "RestElement": bindingNames(node.argument, out); break;
      case "AssignmentPattern": bindingNames(node.left, out); break;
    }
  }
  function isFunctionNode(n) {
    return n.type === "FunctionDeclaration" || n.type === "FunctionExpression" || n.type === "ArrowFunctionExpression";
  }
  // Whether `node` awaits outside any nested function (class bodies and methods are functions).
  function hasTopLevelAwait(node) {
    if (node === null || typeof node !== "object") return false;
    if (node.type === "AwaitExpression") return true;
    if (node.type === "ForOfStatement" && node.await) return true;
    if (isFunctionNode(node) || node.type === "MethodDefinition" || node.type === "PropertyDefinition" || node.type === "StaticBlock") {
      // Computed keys are evaluated at top level.
      return node.computed === true && hasTopLevelAwait(node.key);
    }
    for (const key of _keys(node)) {
      if (key === "type" || key === "start" || key === "end") continue;
      const v = node[key];
      if (_isArray(v)) { for (const x of v) if (x !== null && typeof x === "object" && hasTopLevelAwait(x)) return true; }
      else if (v !== null && typeof v === "object" && typeof v.type === "string" && hasTopLevelAwait(v)) return true;
    }
    return false;
  }
  // The `throw` statements outside any function ([start, argument start, argument end], in
  // order): `throw X` becomes `   $vmT(X)` (padded to the keyword's width, so every column
  // of X stays where the user wrote it), which hands the value to the prelude and throws it.
  function throwArguments(node, out) {
    if (node === null || typeof node !== "object") return;
    if (node.type === "ThrowStatement") { _push(out, node.start); _push(out, node.argument.start); _push(out, node.argument.end); }
    if (isFunctionNode(node) || node.type === "ClassBody" || node.type === "StaticBlock") return;
    const keys = _keys(node);
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k];
      if (key === "type" || key === "start" || key === "end") continue;
      const v = node[key];
      if (_isArray(v)) { for (let i = 0; i < v.length; i++) if (v[i] !== null && typeof v[i] === "object") throwArguments(v[i], out); }
      else if (v !== null && typeof v === "object" && typeof v.type === "string") throwArguments(v, out);
    }
  }
  function transform() {
    hdr[3] = 1;
    const input = _String(this);
    newReplToken();
    return withPristine(() => transformSource(input));
  }
  function transformSource(source) {
    // A hashbang line (run-file) becomes a comment of the same length: it must not end up
    // inside the async wrapper, where it is a syntax error.
    if (_strStartsWith(source, "#!")) source = "//" + _strSlice(source, 2);
    let ast;
    const Parser = loadBundle("repl").Parser;
    try {
      ast = Parser.parse(source, PARSE_OPTIONS);
    } catch (e) {
      try { ast = Parser.parse(source, MODULE_OPTIONS); } catch (x) { return null; }
    }
    const calls = newList();
    if (_strIncludes(source, "import")) importCalls(ast, calls);
    if (calls.length > 0) {
      // import(x) becomes the loader's import(x) (V8 without a module loader refuses it); the
      // rewritten input is parsed again (same lines).
      let rewritten = "", from = 0;
      for (let i = 0; i < calls.length; i++) {
        rewritten += _strSlice(source, from, calls[i]) + MODULES + ".import";
        from = calls[i] + 6;
      }
      const again = transformSource(rewritten + _strSlice(source, from));
      return again !== null ? again : rewritten + _strSlice(source, from);
    }
    const body = ast.body;
    const tla = hasTopLevelAwait(ast);
    const throws = newList();
    if (!tla && _strIncludes(source, "throw")) throwArguments(ast, throws);
    let nextThrow = 0;
    // source[from, to) with the throw statements in it rewritten.
    const copy = (from, to) => {
      let text = "", at = from;
      while (nextThrow < throws.length && throws[nextThrow] < to) {
        const k = throws[nextThrow], a = throws[nextThrow + 1], b = throws[nextThrow + 2];
        nextThrow += 3;
        if (k < from) continue;
        text += _strSlice(source, at, k) + _strRepeat(" ", a - k - 5) + "$vmT(" + _strSlice(source, a, b) + ")";
        at = b;
      }
      return text + _strSlice(source, at, to);
    };
    const out = newList();     // pieces of the rewritten source
    const hoisted = newList(); // var / function declarations moved out of the async wrapper
    let pos = 0;
    let changed = tla || throws.length > 0;
    const lastIndex = body.length - 1;
    for (let i = 0; i < body.length; i++) {
      const node = body[i];
      let replacement = null;
      if (node.type === "VariableDeclaration" && (node.kind !== "var" || tla)) {
        const names = newList();
        for (const d of node.declarations) bindingNames(d.id, names);
        let text = ";";
        if (node.kind === "var") _push(hoisted, "var " + _arrJoin(names, ", ") + ";");
        else text += HELPER + ".declare(" + _stringify(names) + ");";
        for (const d of node.declarations) {
          if (d.init === null) continue;
          const target = _strSlice(source, d.id.start, d.id.end);
          text += "(" + target + " = " + _strSlice(source, d.init.start, d.init.end) + ");";
        }
        if (node.kind === "const") text += HELPER + ".seal(" + _stringify(names) + ");";
        if (i === lastIndex) text += "void 0;";
        replacement = text;
      } else if (node.type === "ImportDeclaration") {
        replacement = importBinding(node, i === lastIndex);
      } else if (node.type === "ClassDeclaration") {
        const name = node.id.name;
        replacement = ";" + HELPER + ".declare([" + _stringify(name) + "]);(" + name + " = " +
          _strSlice(source, node.start, node.end) + ");" + (i === lastIndex ? "void 0;" : "");
      } else if (node.type === "FunctionDeclaration" && tla) {
        _push(hoisted, _strSlice(source, node.start, node.end));
        replacement = "";
      } else if (i === lastIndex && node.type === "ExpressionStatement" && !(node.directive && _strStartsWith(node.directive, "use "))) {
        const expr = _strSlice(source, node.expression.start, node.expression.end);
        replacement = tla ? ";return (" + expr + ");" : ";" + HELPER + ".result((" + expr + "));";
      }
      if (replacement !== null) {
        changed = true;
        _push(out, copy(pos, node.start));
        // Keep the line count, so that line numbers in errors stay right.
        _push(out, replacement + newlines(source, node.start, node.end));
        pos = node.end;
      }
    }
    if (!changed) return null;
    _push(out, copy(pos, source.length));
    let code = _arrJoin(out, "");
    if (tla) {
      code = _arrJoin(hoisted, " ") + "(async () => {" + code + "\n})()";
      state.tla = true;
      state.wrapped = _strSplit(code, "\n").length;
    }
    return code;
  }
  function newlines(source, start, end) {
    let n = "";
    for (let i = start; i < end; i++) if (_charCodeAt(source, i) === 10) n += "\n";
    return n;
  }

  // ---------------------------------------------------------------- completion
  // complete() answers what may follow the text before the cursor (one JSON string in `this`,
  // the text itself): global names (REPL bindings are globals, see above) and keywords for a
  // plain word, the properties along the prototype chain for `a.b.wo`. It never runs user code:
  // the chain `a.b` is resolved through property descriptors (a getter stops it, except the
  // prelude's own for const bindings), and a Proxy (the global Proxy records every proxy, see
  // 3-inspect.js) stops it too, since listing its keys would call its traps.
  const _weakSetHasRaw = _WeakSet.prototype.has;
  const _getOwnNames = _Object.getOwnPropertyNames, _getOwnDescriptor = _Object.getOwnPropertyDescriptor;
  const _regexpExecC = uncurry(_RegExp.prototype.exec), _regexpTestC = uncurry(_RegExp.prototype.test);
  const _startsWithC = uncurry(String.prototype.startsWith), _sliceC = uncurry(String.prototype.slice);
  const _sortC = uncurry(Array.prototype.sort);
  const PRIMITIVE_PROTOS = _freeze([_String.prototype, _Number.prototype, Boolean.prototype,
                                    BigInt.prototype, _Symbol.prototype]);
  const CHAIN_NAME = /[A-Za-z_$][A-Za-z0-9_$]*/g;
  const COMPLETE_TAIL = /(?:^|[^A-Za-z0-9_$.\\'"`])((?:[A-Za-z_$][A-Za-z0-9_$]*\s*\??\.\s*)*)([A-Za-z_$][A-Za-z0-9_$]*)?$/;
  const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
  const KEYWORDS = ["async", "await", "break", "case", "catch", "class", "const", "continue",
    "debugger", "default", "delete", "do", "else", "export", "extends", "false", "finally", "for",
    "function", "if", "import", "in", "instanceof", "let", "new", "null", "of", "return", "static",
    "super", "switch", "this", "throw", "true", "try", "typeof", "var", "void", "while", "with",
    "yield"];
  const MAX_MATCHES = 1000, MAX_CHAIN = 64;
  const NOTHING = {};
  function isProxy(v) {
    return v !== null && (typeof v === "object" || typeof v === "function") && _weakMapHas(proxies, v);
  }
  // The object whose own and inherited properties `v` offers (a primitive's prototype).
  function holder(v) {
    switch (typeof v) {
      case "string": return PRIMITIVE_PROTOS[0];
      case "number": return PRIMITIVE_PROTOS[1];
      case "boolean": return PRIMITIVE_PROTOS[2];
      case "bigint": return PRIMITIVE_PROTOS[3];
      case "symbol": return PRIMITIVE_PROTOS[4];
      case "object": return v === null ? NOTHING : v;
      case "function": return v;
      default: return NOTHING;
    }
  }
  // `obj[name]` without calling anything, or NOTHING.
  function lookup(v, name) {
    let o = holder(v);
    for (let depth = 0; o !== null && o !== NOTHING && depth < MAX_CHAIN; depth++) {
      if (isProxy(o)) return NOTHING;
      const d = _getOwnDescriptor(o, name);
      if (d !== undefined) {
        if (_hasOwn(d, "value")) return d.value;
        if (typeof d.get === "function" && _apply(_weakSetHasRaw, SEALED, [d.get])) return _apply(d.get, v, []);
        return NOTHING;
      }
      o = _getProto(o);
    }
    return NOTHING;
  }
  function propertyNames(v, prefix, out, seen) {
    let o = holder(v);
    for (let depth = 0; o !== null && o !== NOTHING && depth < MAX_CHAIN; depth++) {
      if (isProxy(o)) return;
      const names = _getOwnNames(o);
      for (let i = 0; i < names.length && out.length < MAX_MATCHES; i++) {
        const n = names[i];
        if (seen[n] === true || !_startsWithC(n, prefix) || !_regexpTestC(IDENTIFIER, n)) continue;
        seen[n] = true;
        _push(out, n);
      }
      o = _getProto(o);
    }
  }
  function complete() {
    const before = _String(this);
    const m = _regexpExecC(COMPLETE_TAIL, before);
    const out = newList();
    const word = m === null || m[2] === undefined ? "" : m[2];
    if (m !== null) {
      const chain = m[1];
      const seen = _create(null);
      if (chain === "") {
        if (word !== "") {
          propertyNames(G, word, out, seen);
          for (let i = 0; i < KEYWORDS.length; i++) {
            const k = KEYWORDS[i];
            if (seen[k] !== true && _startsWithC(k, word)) { seen[k] = true; _push(out, k); }
          }
        }
      } else {
        let v = G;
        CHAIN_NAME.lastIndex = 0;
        for (let p = _regexpExecC(CHAIN_NAME, chain); p !== null && v !== NOTHING; p = _regexpExecC(CHAIN_NAME, chain)) {
          v = lookup(v, p[0]);
        }
        if (v !== NOTHING && v !== undefined) propertyNames(v, word, out, seen);
      }
    }
    _sortC(out);
    // Built by hand: stringifying an array or object would look up a user-defined toJSON.
    const quoted = newList();
    for (let i = 0; i < out.length; i++) _push(quoted, _stringify(out[i]));
    return "{\"matches\":[" + _arrJoin(quoted, ",") + "],\"word\":" + _stringify(word) + "}";
  }
