// Part of the session prelude, concatenated in file-name order inside the closure that
// 1-primordials.js opens (see runtime/isolate.py): names defined in earlier parts are in scope.
  // ---------------------------------------------------------------- modules
  // The module loader (docs/runtime.md, "Modules"). The host resolves a specifier and reads the
  // file, confined to the worktree (vmsystem/modules/loader.py); here each module is compiled
  // by sucrase (js/bundle-modules.js, loaded on first use: TypeScript stripped, ES module
  // syntax turned into require/exports, line numbers kept) and run in a function wrapper
  // taking (exports, require, module, __filename, __dirname, import.meta), CommonJS-style.
  // A module is evaluated once and kept between runs; at the first module use of a run the
  // cache is checked against the files' versions (mtime, size, inode), and a changed module
  // and every module that imported it, directly or not, are evaluated again when next used.
  const MODULES_KEY = _Symbol.for("vm-system.modules");
  const nativeRequire = require;
  let modRecords = _create(null);   // worktree-relative path -> record
  let modChecked = false;           // the cache was checked against the files in this run
  let modBase = ".";                // where REPL input and run-file scripts resolve from
  let modFile = null;               // the run-file script's own path (its require's base)
  const libraryGlobals = _create(null);   // template library name -> its value
  const ESM_SYNTAX = /(^|[\n;}])[ \t]*(import[ \t]*[\w{*"'$]|import[ \t]*\.[ \t]*meta\b|export[ \t]*[\w{*$])/;
  const DYNAMIC_IMPORT = /\bimport[ \t]*\(/;
  const NAMESPACE = /(^|[\n;}])[ \t]*(export[ \t]+)?(namespace|module)[ \t]+[\w.$]+[ \t]*\{/;
  const IMPORT_META = /\bimport[ \t]*\.[ \t]*meta\b/g;
  const NAMED_EXPORT_FROM = "get: () => obj[importedName]}";
  const NAMED_EXPORT_FROM_CJS =
    "get: () => importedName === \"default\" && !(obj && obj.__esModule) ? obj : obj[importedName]}";
  const _regexpReplace = uncurry(_RegExp.prototype[_Symbol.replace]);
  const _strLastIndexOf = uncurry(_String.prototype.lastIndexOf);
  const _regexpExecM = uncurry(_RegExp.prototype.exec);

  function modulesReset() {
    modChecked = false;
    modBase = ".";
    modFile = null;
  }
  function dirOf(path) {
    const i = _strLastIndexOf(path, "/");
    return i < 0 ? "." : _strSlice(path, 0, i);
  }
  function isBare(spec) {
    return !(_strStartsWith(spec, "./") || _strStartsWith(spec, "../") || spec === "." ||
             spec === ".." || _strStartsWith(spec, "/"));
  }
  // Drop every cached module whose file changed (or went away) since it was evaluated, and
  // every module that depends on one of those.
  function checkCache() {
    if (modChecked) return;
    modChecked = true;
    const paths = _keys(modRecords);
    if (paths.length === 0) return;
    const versions = hostCall("loader.versions", [paths]);
    const stale = _create(null);
    let any = false;
    for (let i = 0; i < paths.length; i++) {
      if (versions[i] !== modRecords[paths[i]].version) { stale[paths[i]] = true; any = true; }
    }
    while (any) {
      any = false;
      for (let i = 0; i < paths.length; i++) {
        const rec = modRecords[paths[i]];
        if (_hasOwn(stale, rec.path)) continue;
        for (let j = 0; j < rec.deps.length; j++) {
          if (_hasOwn(stale, rec.deps[j])) { stale[rec.path] = true; any = true; break; }
        }
      }
    }
    for (const path of _keys(stale)) delete modRecords[path];
  }
  // Load `spec` as `from` (a record, or null for REPL input and scripts) asks for it; its
  // exports. `mode` is "import" or "require" (the package.json exports condition).
  function loadModule(spec, from, mode) {
    spec = _String(spec);
    if (isBare(spec)) {
      const name = _strStartsWith(spec, "node:") ? _strSlice(spec, 5) : spec;
      if (_hasOwn(moduleFactories, name)) return nativeRequire(name);
      if (!config.loader || spec === "") return nativeRequire(name);   // throws Invalid module
    } else if (!config.loader) {
      throw new _Error("Invalid module \"" + spec + "\": this runtime has no worktree to load files from");
    }
    checkCache();
    const base = from !== null ? dirOf(from.path) : modFile !== null ? dirOf(modFile) : modBase;
    let desc;
    try {
      desc = hostCall("loader.resolve", [spec, base, mode]);
    } catch (e) {
      throw new (e instanceof _TypeError ? _TypeError : _Error)(_String(e.message) + importedFrom(from));
    }
    if (desc === null) {
      if (_hasOwn(libraryGlobals, spec)) return libraryGlobals[spec];
      throw new _Error("Invalid module \"" + spec + "\"" + importedFrom(from) +
        ": not configured for this session's template, and not found in node_modules");
    }
    if (from !== null) _push(from.deps, desc.path);
    const cached = _hasOwn(modRecords, desc.path) ? modRecords[desc.path] : undefined;
    if (cached !== undefined && cached.version === desc.version) return cached.module.exports;
    return evaluate(desc, false).module.exports;
  }
  function importedFrom(from) {
    return from !== null ? " (imported from " + from.path + ")" : "";
  }
  function compile(desc, source) {
    let format = desc.format;
    if (format === "auto") format = _regexpTest(ESM_SYNTAX, source) ? "esm" : "cjs";
    const transforms = [];   // a plain array: sucrase calls its methods
    if (desc.ts) {
      const ns = _regexpExecM(NAMESPACE, source);
      if (ns !== null && !_regexpTest(/declare[ \t]+$/, _strSlice(source, 0, ns.index + ns[1].length))) {
        const line = lineAt(source, ns.index + ns[1].length);
        throw new _SyntaxError("TypeScript namespaces are not supported (" + desc.path + ":" + line +
          "): use an ES module or an object instead");
      }
      _push(transforms, "typescript");
    }
    if (desc.jsx) _push(transforms, "jsx");
    const esm = format === "esm";
    if (esm || _regexpTest(DYNAMIC_IMPORT, source)) _push(transforms, "imports");
    let code = source;
    if (transforms.length > 0) code = sucrase(source, desc.path, transforms, false);
    if (!esm && transforms.length > 0 && !_regexpTest(/^\s*["']use strict["']/, source) &&
        _strStartsWith(code, "\"use strict\";")) {
      code = _strSlice(code, 13);   // sucrase makes CommonJS strict; Node does not
    }
    if (_strIncludes(code, "import")) code = _regexpReplace(IMPORT_META, code, "__vmImportMeta");
    // `export { default as x } from './c.cjs'`: the default of a CommonJS module is its
    // module.exports (Node's interop), which sucrase's helper does not know.
    if (_strIncludes(code, NAMED_EXPORT_FROM)) code = _strReplace(code, NAMED_EXPORT_FROM, NAMED_EXPORT_FROM_CJS);
    return { code, esm };
  }
  function sucrase(source, path, transforms, keepImports) {
    const options = { transforms, filePath: path, disableESTransforms: true, production: true,
                      jsxRuntime: "classic", keepUnusedImports: keepImports };
    try {
      return loadBundle("modules").transform(source, options).code;
    } catch (e) {
      const loc = e !== null && typeof e === "object" ? e.loc : undefined;
      let message = _String(e && e.message);
      message = _regexpReplace(/^Error transforming [^:]*: /, message, "");
      message = _regexpReplace(/ \(\d+:\d+\)$/, message, "");
      const where = loc !== undefined ? ":" + loc.line + ":" + (loc.column + 1) : "";
      throw new _SyntaxError(message + " (" + path + where + ")");
    }
  }
  function lineAt(source, index) {
    let line = 1;
    for (let i = 0; i < index; i++) if (_charCodeAt(source, i) === 10) line++;
    return line;
  }
  const WRAPPER = "(exports, require, module, __filename, __dirname, __vmImportMeta) {";
  // Evaluate the module `desc` names (entry: the run-file's own module, which may await at
  // top level); its record.
  function evaluate(desc, entry) {
    // The resolve answer carries the source unless the host sent this version before.
    const read = _hasOwn(desc, "source") ? desc : hostCall("loader.read", [desc.path]);
    const module = { exports: {}, id: desc.file, filename: desc.file, loaded: false };
    const rec = { path: desc.path, version: read.version, module, deps: newList(), promise: null };
    modRecords[desc.path] = rec;
    try {
      if (desc.format === "json") {
        try {
          module.exports = _parse(read.source);
        } catch (e) {
          throw new _SyntaxError(desc.path + ": " + _String(e.message));
        }
      } else {
        runModule(rec, desc, read.source, entry);
      }
    } catch (e) {
      delete modRecords[desc.path];
      throw e;
    }
    module.loaded = true;
    return rec;
  }
  function runModule(rec, desc, source, entry) {
    if (_strStartsWith(source, "#!")) source = "//" + _strSlice(source, 2);
    const compiled = compile(desc, source);
    const suffix = "\n})\n//# sourceURL=" + desc.path;
    let fn;
    try {
      fn = (0, _eval)("(function " + WRAPPER + compiled.code + suffix);
    } catch (e) {
      if (!(e instanceof _SyntaxError)) throw e;
      if (entry && _strIncludes(compiled.code, "await")) {
        try { fn = (0, _eval)("(async function " + WRAPPER + compiled.code + suffix); } catch (x) { fn = null; }
      }
      if (!fn) {
        // V8 does not say where a syntax error is: sucrase's parser does.
        sucrase(source, desc.path, [], false);
        if (_strIncludes(compiled.code, "await")) {
          throw new _SyntaxError(_String(e.message) + " (" + desc.path + "): top-level await is " +
            "supported in the run-file entry module only, not in modules it imports");
        }
        throw new _SyntaxError(_String(e.message) + " (" + desc.path + ")");
      }
    }
    const mode = compiled.esm ? "import" : "require";
    const require = function require(spec) { return loadModule(spec, rec, mode); };
    const meta = _freeze({ url: "file://" + desc.file, filename: desc.file, dirname: dirOf(desc.file),
                           resolve: undefined });
    rec.promise = _apply(fn, rec.module.exports,
      [rec.module.exports, require, rec.module, desc.file, dirOf(desc.file), meta]);
  }
  // The run-file of a module (an .mjs/.cjs/TypeScript file, or a .js file with ES module
  // syntax): evaluated afresh; awaited when it awaits at top level.
  function runMain(path) {
    checkCache();
    const desc = hostCall("loader.resolve", ["./" + _String(path), ".", "import"]);
    const rec = evaluate(desc, true);
    if (isPromiseBrand(rec.promise)) {
      state.tla = true;
      return rec.promise;
    }
    return undefined;
  }
  // import() in REPL input and scripts: relative to the worktree root (or the script's
  // directory), with the import condition.
  function dynamicImport(spec) {
    try {
      return _apply(_promiseResolve, _Promise, [namespaceOf(loadModule(spec, null, "import"))]);
    } catch (e) {
      return new _Promise((resolve, reject) => reject(e));
    }
  }
  function namespaceOf(exports) {
    if (exports !== null && (typeof exports === "object" || typeof exports === "function") && exports.__esModule) {
      return exports;
    }
    const ns = _create(null);
    if (exports !== null && (typeof exports === "object" || typeof exports === "function")) {
      for (const key of _keys(exports)) ns[key] = exports[key];
    }
    ns.default = exports;
    return ns;
  }
  // TypeScript REPL input: types stripped (imports kept: they may bind names for later
  // inputs), then the REPL transform, then evaluated as a global script.
  function runTypeScript(input) {
    const js = sucrase(_String(input), "<repl>", ["typescript"], true);
    const rewritten = _apply(transform, js, []);
    return (0, _eval)(rewritten !== null ? rewritten : js);
  }
  function globalRequire(spec) {
    return loadModule(spec, null, "require");
  }
  _defineProperty(globalRequire, "name", { value: "require", configurable: true });   // Node's name
  _defineProperty(G, "require", { value: globalRequire, writable: true, configurable: true, enumerable: false });
  _defineProperty(G, MODULES_KEY, {
    value: _freeze({
      main: runMain,
      import: dynamicImport,
      typescript: runTypeScript,
      binding(spec, name) {
        const exports = loadModule(spec, null, "import");
        if (name === "*") return namespaceOf(exports);
        return namespaceOf(exports)[name];
      },
      library(name, value) { libraryGlobals[_String(name)] = value; },
    }),
    writable: false, configurable: false, enumerable: false,
  });
