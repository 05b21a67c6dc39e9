// The REPL transform's parser (see vmsystem/runtime/js/prelude.js, "REPL input").
export { Parser } from "acorn";
