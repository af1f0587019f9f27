// Builds the console into ../internal/console/dist (or CONSOLE_OUT):
// index.html and assets/ whose names carry a hash of their content. The
// output depends only on the sources and the locked dependencies, so that
// a build from source reproduces the committed files byte for byte
// (internal/console's TestBuildReproducesAssets).
import * as esbuild from "esbuild";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { basename, dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.env.CONSOLE_OUT || join(here, "..", "internal", "console", "dist"));
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });

// esbuild writes nothing itself: its output is named here by a hash of
// the content alone (esbuild's own [hash] also covers the output folder's
// path, which differs between a checkout and a test's temporary folder).
const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: ["src/main.tsx"],
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2020"],
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir: "assets",
  legalComments: "eof",
  charset: "utf8",
  write: false,
  logLevel: "warning",
});

let script = "", style = "";
for (const f of result.outputFiles) {
  const ext = extname(f.path);
  const hash = createHash("sha256").update(f.contents).digest("hex").slice(0, 12);
  const name = `${basename(f.path, ext)}-${hash}${ext}`;
  writeFileSync(join(out, "assets", name), f.contents);
  if (ext === ".js") script = name;
  if (ext === ".css") style = name;
}
if (!script) throw new Error("esbuild wrote no script");

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tsprov console</title>
<link rel="icon" href="data:,">
${style ? `<link rel="stylesheet" href="/assets/${style}">\n` : ""}<script type="module" src="/assets/${script}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The tsprov console needs JavaScript.</noscript>
</body>
</html>
`;
writeFileSync(join(out, "index.html"), html);
console.log(`console built in ${out}: ${script}${style ? ", " + style : ""}`);
