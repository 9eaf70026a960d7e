/** Where the benchmark's files are: this folder, the project's root, and the `fazlab` command (as run from `bin/`, and its compiled entry in `dist/`). */
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
export const ROOT = path.dirname(BENCH_DIR)
export const FAZLAB_BIN = path.join(ROOT, "bin", "fazlab.js")
/** Present only after `npm run build`. */
export const FAZLAB_MAIN = path.join(ROOT, "dist", "cli", "main.js")
