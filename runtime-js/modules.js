// The module loader's transformer (see vmsystem/runtime/js/prelude/9-modules.js): sucrase strips
// TypeScript and turns ES module syntax into CommonJS-style code, keeping line numbers.
export { transform } from "sucrase";
