/**
 * `fazlab --version` and `fazlab --help`: exit 0, on stdout. The version is package.json's, read
 * by the built command wherever it runs from; the usage names every command. Every command
 * answers `--help` and `-h` with its usage, flags and an example, exit 0, and runs nothing.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import type { CliIo } from "../../src/cli/io.ts"
import { COMMANDS, runCli, USAGE } from "../../src/cli/main.ts"
import { REPO_ROOT, runFazlab } from "../support/cli.ts"

const inMemory = async (args: ReadonlyArray<string>) => {
  let stdout = ""
  let stderr = ""
  const io: CliIo = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    cwd: REPO_ROOT,
    env: {},
    isTTY: false,
    signal: new AbortController().signal
  }
  const code = await runCli(args, io)
  return { code, stdout, stderr }
}

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

  it("the top-level usage names every command", () => {
    for (const command of Object.keys(COMMANDS)) expect(USAGE).toContain(`fazlab ${command}`)
  })

  it.each(Object.keys(COMMANDS).flatMap((command) => [[command, "--help"], [command, "-h"]]))("fazlab %s %s prints its usage, flags and an example, exit 0", async (command, flag) => {
    const result = await inMemory([command, flag])
    expect(result).toMatchObject({ code: 0, stderr: "" })
    expect(result.stdout).toMatch(new RegExp(`^usage: fazlab ${command}`))
    expect(result.stdout).toMatch(/\nexamples?:\n  fazlab /)
    expect(result.stdout).toContain("docs: docs/cli.md")
  })

  it("help wins over anything else on the line, and fazlab help COMMAND is the same", async () => {
    const direct = await inMemory(["send", "syslog", "--to", "nowhere", "--help"])
    expect(direct.code).toBe(0)
    expect(direct.stdout).toMatch(/^usage: fazlab send syslog/)
    expect(await inMemory(["help", "send"])).toEqual(await inMemory(["send", "-h"]))
    // After "--", -h is an argument, not a request for help.
    expect((await inMemory(["logs", "--", "-h"])).code).toBe(2)
  })

  it("the built command answers fazlab ports --help with exit 0", async () => {
    const result = await runFazlab(["ports", "--help"], { cwd: REPO_ROOT })
    expect(result).toMatchObject({ code: 0, stderr: "" })
    expect(result.stdout).toContain("--direction in|out")
  })
})
