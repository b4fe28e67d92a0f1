// npm run serve (after the build): serves www/ on 127.0.0.1 with http-server, which sends .wasm
// as application/wasm. Caching is off so a rebuild shows on reload. Port: $PORT, or 8080; when
// that one is taken, the next free one. The page loads www/bundle/ (www/js/ bundled): while this
// runs, esbuild bundles it again on every change of www/js/, so an edit shows on reload.

import { createServer } from "node:net";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, ROOT } from "./config.mjs";
import { PAGE_ENTRIES, watchJs } from "./bundle.mjs";

const HOST = "127.0.0.1";
const first = Number(process.env.PORT ?? 8080);

function isFree(port) {
  return new Promise((resolvePort) => {
    const probe = createServer();
    probe.once("error", () => resolvePort(false));
    probe.listen(port, HOST, () => probe.close(() => resolvePort(true)));
  });
}

let port = first;
while (!(await isFree(port))) {
  if (port - first >= 50) {
    console.error(`serve: no free port between ${first} and ${port}`);
    process.exit(1);
  }
  port++;
}
if (port !== first) console.log(`port ${first} is busy, using ${port}`);

const { outDir, outName } = loadConfig();
if (!existsSync(join(outDir, `${outName}_bg.wasm`))) {
  console.log("note: the wasm package is not built yet; run npm run build (npm run serve does)");
}

const watcher = existsSync(join(outDir, `${outName}.js`))
  ? await watchJs(join(ROOT, "www", "bundle"), PAGE_ENTRIES)
  : null;

const httpServer = join(ROOT, "node_modules", "http-server", "bin", "http-server");
const child = spawn(
  process.execPath,
  [httpServer, join(ROOT, "www"), "-a", HOST, "-p", String(port), "-c-1", "--silent"],
  { stdio: "inherit" },
);
console.log(`serving www/ at http://${HOST}:${port}/  (Ctrl+C stops)`);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    watcher?.dispose();
    child.kill(signal);
  });
}
child.on("exit", (code, signal) => process.exit(signal ? 0 : (code ?? 0)));
