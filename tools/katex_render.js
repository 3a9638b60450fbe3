// Render TeX to HTML with KaTeX for the MkDocs build (tools/hooks/katex.py).
// Protocol: one JSON object per input line {"tex": "...", "display": bool};
// one JSON object per output line {"html": "..."} or {"error": "..."}.
const path = require("path");
const readline = require("readline");
const katex = require(path.resolve(process.argv[2]));
const macros = {};
const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on("line", (line) => {
  let out;
  try {
    const req = JSON.parse(line);
    out = { html: katex.renderToString(req.tex, {
      displayMode: !!req.display, throwOnError: true, strict: "ignore", output: "htmlAndMathml", macros,
    }) };
  } catch (e) {
    out = { error: String(e.message || e) };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
});
