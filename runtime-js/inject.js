// whatwg-url expects TextEncoder/TextDecoder as globals, which V8 alone lacks: esbuild
// replaces its free references with these.
export { TextEncoder, TextDecoder } from "@exodus/bytes/encoding-lite.js";
