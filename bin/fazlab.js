#!/usr/bin/env node
// The fazlab command. The TypeScript sources are compiled to dist/ by `npm run build`.
import { main } from "../dist/cli/main.js"

process.exitCode = await main(process.argv.slice(2))
