/**
 * `fazlab --version` and `fazlab --help`: exit 0, on stdout. The version is package.json's, read
 * by the built command wherever it runs from; the usage names every command.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { REPO_ROOT, runFazlab } from "../support/cli.ts"

describe("fazlab --version and --help", () => {
  it("--version prints package.json's version", async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string }
    const result = await runFazlab(["--version"], { cwd: REPO_ROOT })
    expect(result).toMatchObject({ code: 0, stdout: `fazlab ${version}\n`, stderr: "" })
  })

  it("--help lists every command and exits 0; no command at all prints the same and exits 2", async () => {
    const help = await runFazlab(["--help"], { cwd: REPO_ROOT })
    expect(help.code).toBe(0)
    for (const command of ["ports", "run", "up", "logs", "send", "ctl", "attach", "schema", "--version"]) {
      expect(help.stdout).toContain(`fazlab ${command}`)
    }
    const bare = await runFazlab([], { cwd: REPO_ROOT })
    expect(bare.code).toBe(2)
    expect(bare.stdout).toBe(help.stdout)
  })
})
