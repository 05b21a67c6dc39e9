// What Node shows for the fidelity corpus (tests/runtime/test_node_fidelity.py).
// stdin: {"values": [[code, options or null], ...], "sequences": [[input, ...], ...]}
// stdout: {"values": [text, ...], "sequences": [[text per input, ...], ...]}
// A value is `util.inspect` of the completion value of `code` (with `options` when given);
// a sequence runs its inputs one by one in a real Node REPL (`repl.start`, as `node -i` does)
// and collects what each input printed: console output, the result or `Uncaught ...`, and any
// unhandled rejection it caused.
"use strict";
const util = require("util");
const vm = require("vm");
const { spawn } = require("child_process");

const PROMPT = "\u0001\n";
// The REPL command .help is the marker: it prints a fixed text and leaves `_` alone.
const MARK = ".help";
const HELP_START = ".break ", HELP_END = "Ctrl+D to exit the REPL\n" + PROMPT;
// console.warn/error write to stdout too: vm-system reports every level as one stream.
const REPL = `globalThis.console = new (require("console").Console)(process.stdout, process.stdout);` +
  `require("repl").start({ prompt: ${JSON.stringify(PROMPT)}, useGlobal: true, terminal: false });`;

function value(code, options) {
  let v;
  try {
    v = vm.runInThisContext("(0, eval)(" + JSON.stringify(code) + ")");
  } catch (e) {
    return "THREW " + util.inspect(e);
  }
  return options ? util.inspect(v, options) : util.inspect(v);
}

// Each input is written once the previous one is done (its prompt came back), then a marker
// command: everything printed before the marker's output belongs to the input (an unhandled
// rejection is printed before Node reads the next line).
function sequence(inputs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", REPL], { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    const texts = [];
    let step = -1, marked = false;
    function next() {
      step++;
      marked = false;
      if (step === inputs.length) { child.stdin.end(); return; }
      child.stdin.write(inputs[step] + "\n");
    }
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d) => {
      out += d;
      if (step === -1) {
        if (out.startsWith(PROMPT)) { out = out.slice(PROMPT.length); next(); }
        return;
      }
      if (!marked) {
        if (!out.endsWith(PROMPT)) return;
        marked = true;
        child.stdin.write(MARK + "\n");
        return;
      }
      const end = out.indexOf(HELP_END);
      if (end < 0) return;
      const at = out.lastIndexOf(HELP_START, end);
      texts.push(out.slice(0, at).split(PROMPT).join("").replace(/\n$/, ""));
      out = out.slice(end + HELP_END.length);
      next();
    });
    child.on("exit", () => resolve(texts));
    child.on("error", reject);
  });
}

async function main() {
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  const corpus = JSON.parse(input);
  const values = corpus.values.map(([code, options]) => value(code, options));
  const sequences = new Array(corpus.sequences.length);
  let nextIndex = 0;
  async function worker() {
    while (nextIndex < corpus.sequences.length) {
      const i = nextIndex++;
      sequences[i] = await sequence(corpus.sequences[i]);
    }
  }
  await Promise.all([worker(), worker(), worker(), worker()]);
  process.stdout.write(JSON.stringify({ values, sequences }));
}
main();
