// Node's util.inspect and util.format (node-inspect-extracted: Node's own lib/internal/util/inspect.js
// with its internal bindings emulated); see vmsystem/runtime/js/prelude/3-inspect.js. build.mjs
// points the bindings JavaScript cannot emulate (a promise's state, a proxy's target and
// handler) at hooks the prelude passes in.
export { inspect, formatWithOptions } from "node-inspect-extracted";
