// The web-platform APIs V8 lacks (WinterTC minimum common API); the prelude installs them.
export { URL, URLSearchParams } from "whatwg-url";
export { TextEncoder, TextDecoder } from "@exodus/bytes/encoding-lite.js";
export { Event, EventTarget, defineEventAttribute } from "event-target-shim";
export { serialize, deserialize } from "@ungap/structured-clone";
export { encode as btoa, decode as atob } from "base-64";
