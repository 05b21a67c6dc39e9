// The REPL transform's parser (see vmsystem/runtime/js/prelude/8-repl.js).
export { Parser } from "acorn";
