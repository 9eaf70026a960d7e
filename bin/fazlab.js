#!/usr/bin/env node
// The fazlab command. `npm run build` compiles the TypeScript sources to dist/ and bundles the
// command into dist/bundle/ (one file per command and per worker thread, shared chunks): Node
// then loads a few dozen files instead of several hundred modules, which halves start time.
//
// fazlab needs Node 22.19 or newer (node:sqlite, and its dependencies' engines). When an
// older Node starts this file (Debian 12 ships Node 20) and the project's pinned Node is
// installed (the `node` devDependency), the command re-runs itself on that Node.
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import module from "node:module"
import { fileURLToPath } from "node:url"

const [major, minor] = process.versions.node.split(".").map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  const pinned = fileURLToPath(new URL("../node_modules/node/bin/node", import.meta.url))
  if (!existsSync(pinned)) {
    process.stderr.write(`fazlab needs Node 22.19 or newer, this is Node ${process.versions.node}; install a newer Node, or run npm ci in the fazlab folder to get the pinned one\n`)
    process.exit(2)
  }
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit" })
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal))
  child.on("exit", (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)))
} else if (!existsSync(fileURLToPath(new URL("../dist/bundle/main.js", import.meta.url)))) {
  process.stderr.write("fazlab is not built yet: run npm run build (npm start and npm test build it for you)\n")
  process.exit(2)
} else {
  // V8's code cache on disk: later starts skip compiling fazlab and its dependencies again.
  module.enableCompileCache?.()
  // An internal error's stack trace (FAZLAB_DEBUG=1) names the TypeScript sources, through the
  // bundle's source maps; without it Node never reads them.
  if (process.env.FAZLAB_DEBUG !== undefined) process.setSourceMapsEnabled(true)
  // React (under ink) in its production build: the development build's render logging costs
  // about a tenth of a core while the UI is drawn.
  process.env.NODE_ENV ??= "production"
  const { main } = await import("../dist/bundle/main.js")
  process.exitCode = await main(process.argv.slice(2))
}
