/**
 * `fazlab logs` against a running `fazlab up` (default lab, file store under
 * .fazlab/default-lab/ of the temp folder it was started from): filters by device and type,
 * `--follow` prints logs as they are stored, and `--lab DIR` finds the lab from anywhere.
 */
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { jsonLine, removeTempDirs, runFazlab, type RunningFazlab, startFazlab, tempDir } from "../support/cli.ts"

interface LogLine {
  readonly id: number
  readonly device: string
  readonly type: string | null
}

const logLines = (stdout: string): LogLine[] =>
  stdout.trimEnd().split("\n").map((line) => {
    const log = jsonLine(line)
    if (log === null) throw new Error(`not a JSON line: ${line}`)
    return log as unknown as LogLine
  })

describe("fazlab logs", () => {
  let cwd = ""
  let up: RunningFazlab | undefined

  beforeAll(async () => {
    cwd = tempDir()
    up = startFazlab(["up", "--headless", "--port-base", "ephemeral"], { cwd })
    // Enough stored that every device and a traffic log are likely on disk: fgt-1 sends 20/s.
    await up.waitForLine((line) => {
      const event = jsonLine(line)
      return event?.["type"] === "logs-stored" && event["from"] === "fgt-1" && Number(event["total"]) >= 10
    })
    await up.waitForLine((line) => {
      const event = jsonLine(line)
      return event?.["type"] === "logs-stored" && event["from"] === "fgt-3"
    })
  })

  afterAll(async () => {
    const result = await up?.interrupt()
    removeTempDirs()
    expect(result?.code, result?.stderr).toBe(0)
  })

  it("--json --device fgt-1 prints JSON lines of fgt-1 only", async () => {
    const result = await runFazlab(["logs", "--json", "--device", "fgt-1"], { cwd })
    expect(result.code, result.stderr).toBe(0)
    const logs = logLines(result.stdout)
    expect(logs.length).toBeGreaterThanOrEqual(10)
    expect(new Set(logs.map((log) => log.device))).toEqual(new Set(["fgt-1"]))
  })

  it("without --device prints every device, oldest first", async () => {
    const result = await runFazlab(["logs", "--json"], { cwd })
    expect(result.code, result.stderr).toBe(0)
    const logs = logLines(result.stdout)
    // fgt-3 logs over syslog; fgt-2 waits for authorization, so its logs are held, not shown.
    expect(new Set(logs.map((log) => log.device))).toContain("fgt-3")
    expect(new Set(logs.map((log) => log.device))).not.toContain("fgt-2")
    const ids = logs.map((log) => log.id)
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
  })

  it("--type traffic prints traffic logs only, as text lines", async () => {
    const result = await runFazlab(["logs", "--type", "traffic"], { cwd })
    expect(result.code, result.stderr).toBe(0)
    const lines = result.stdout.trimEnd().split("\n")
    expect(lines.length).toBeGreaterThan(0)
    for (const line of lines) {
      // `<ISO time> <device> <type>/<subtype> <level> <raw>`
      expect(line.split(" ")[2], line).toMatch(/^traffic\//)
      expect(line).toContain('type="traffic"')
    }
  })

  it("--follow prints new logs as they are stored, until SIGINT (exit 0)", async () => {
    const follow = startFazlab(["logs", "--follow", "--json", "--limit", "1"], { cwd })
    try {
      const first = await follow.waitForLine(() => true)
      const firstId = Number(jsonLine(first)?.["id"])
      await follow.waitForLine((line) => Number(jsonLine(line)?.["id"]) > firstId)
      await follow.waitForLine((_, index) => index >= 2)
      const result = await follow.interrupt()
      expect(result.code, result.stderr).toBe(0)
      const ids = follow.lines.map((line) => Number(jsonLine(line)?.["id"]))
      expect(ids.length).toBeGreaterThanOrEqual(3)
      // Each log once, in the order stored.
      ids.slice(1).forEach((id, i) => expect(id, `ids ${ids.join(", ")}`).toBeGreaterThan(ids[i] as number))
    } finally {
      await follow.kill()
    }
  })

  it("--lab DIR reads the lab from another folder", async () => {
    const result = await runFazlab(["logs", "--json", "--limit", "5", "--lab", path.join(cwd, ".fazlab", "default-lab")], { cwd: tempDir() })
    expect(result.code, result.stderr).toBe(0)
    expect(logLines(result.stdout)).toHaveLength(5)
  })
})
