// Node's Buffer for npm packages that expect it (the `buffer` package, Node's API on Uint8Array).
export { Buffer, SlowBuffer, kMaxLength, constants } from "buffer";
