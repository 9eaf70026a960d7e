/**
 * Under a pipe (stdout not a terminal) `fazlab up` never draws the UI: with --headless it
 * prints JSON lines, without it plain text lines, and neither asks the terminal for raw mode.
 * `fazlab attach` under a pipe refuses in one sentence. Runs the built CLI (npm run build).
 */
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { jsonLine, removeTempDirs, runFazlab, type RunningFazlab, startFazlab, tempDir } from "../support/cli.ts"

const running: RunningFazlab[] = []
const start = (args: ReadonlyArray<string>): RunningFazlab => {
  const child = startFazlab(args, { cwd: tempDir() })
  running.push(child)
  return child
}

// Ink's escape sequences: alternate screen, cursor hiding, erase line.
const hasTerminalControl = (text: string): boolean => /\u001B\[\?(1049|25)[hl]|\u001B\[2K/u.test(text)

describe("fazlab up under a pipe", () => {
  afterEach(async () => {
    await Promise.all(running.splice(0).map((child) => child.kill()))
  })
  afterAll(removeTempDirs)

  it("--headless prints JSON lines only", async () => {
    const up = start(["up", "--headless", "--memory", "--port-base", "ephemeral"])
    await up.waitForLine((line) => jsonLine(line)?.["type"] === "listener-bound")
    const result = await up.interrupt()
    expect(result.code, result.stderr).toBe(0)
    expect(up.lines.length).toBeGreaterThan(0)
    expect(up.lines.every((line) => jsonLine(line) !== null)).toBe(true)
    expect(hasTerminalControl(result.stdout)).toBe(false)
    expect(result.stderr).toBe("")
  })

  it("without --headless prints text lines, not the UI", async () => {
    const up = start(["up", "--memory", "--port-base", "ephemeral"])
    await up.waitForLine((line) => line.includes("Ctrl-C stops the lab"))
    const result = await up.interrupt()
    expect(result.code, result.stderr).toBe(0)
    expect(up.lines.some((line) => /lab listens on tcp\/514 at /.test(line))).toBe(true)
    expect(up.lines.every((line) => jsonLine(line) === null)).toBe(true)
    expect(hasTerminalControl(result.stdout)).toBe(false)
    expect(result.stderr).not.toMatch(/raw mode/i)
  })

  it("fazlab attach refuses to draw on a pipe, in one sentence", async () => {
    const result = await runFazlab(["attach"], { cwd: tempDir() })
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(
      "fazlab attach: fazlab attach draws a terminal UI, and stdout is not a terminal; from a script use fazlab ctl or fazlab logs --follow\n"
    )
  })
})
