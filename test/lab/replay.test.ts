/**
 * `replay: FILE` in a scenario: a FortiGate sends a real log capture instead of generating logs.
 * The file is found relative to the scenario file's folder (the run's cwd is elsewhere); the
 * analyzer stores exactly the capture's logs, as they are (each line over syslog, the FortiOS
 * records over OFTP), at their original pace on the simulated clock; a missing file, or one that
 * holds no logs, is a load error naming the file and the setting.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import type { LabEvent } from "../../src/events/events.ts"
import { ScenarioError } from "../../src/lab/scenario/error.ts"
import { loadScenario } from "../../src/lab/scenario/load.ts"
import { readReplayFile } from "../../src/protocols/syslog/replay.ts"
import { REPO_ROOT, removeTempDirs, runFazlab, tempDir } from "../support/cli.ts"
import { isEvent } from "../support/lab.ts"

const CAPTURE = path.join(REPO_ROOT, "scenarios", "captures", "fgt60f-branch.log")
/** The shipped capture plus an RFC 3164 line of the same FortiGate (a log, but no FortiOS record) 0.5 s after its last log. */
const captureText = () => `${fs.readFileSync(CAPTURE, "utf8")}Mar 14 08:21:10 FGT60F-Branch sshd[812]: Accepted publickey for admin from 198.51.100.23\n`

const scenario = (replay: string, expect = "      - logs: { from: fgt-1, exactly: 7 }") => `
name: replay-test
clock: simulated
devices:
  faz-1: { kind: fortianalyzer }
  fgt-1:
    kind: fortigate
    hostname: FGT60F-Branch
    replay: ${replay}
    syslog: { server: faz-1, mode: reliable }
steps:
  - title: the capture is stored as it is
    within: 30s
    expect:
${expect}
`

/** The lab's stored logs, oldest first, as `fazlab logs --json` prints them. */
const storedLogs = async (dataDir: string, cwd: string): Promise<ReadonlyArray<{ readonly raw: string; readonly device: string; readonly devid: string | null }>> => {
  const result = await runFazlab(["logs", "--lab", dataDir, "--json", "--limit", "100"], { cwd })
  expect(result.code, result.stderr).toBe(0)
  return result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as { raw: string; device: string; devid: string | null })
}

const events = (stdout: string): ReadonlyArray<LabEvent> =>
  stdout.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as LabEvent)

describe("replay: FILE in a scenario", () => {
  afterAll(removeTempDirs)

  it("over syslog: stores exactly the capture's logs as they are, at their pace on the simulated clock", async () => {
    const folder = tempDir()
    fs.mkdirSync(path.join(folder, "captures"))
    fs.writeFileSync(path.join(folder, "captures", "branch.log"), captureText())
    fs.writeFileSync(path.join(folder, "replay.yaml"), scenario("captures/branch.log"))
    const cwd = tempDir()
    const dataDir = path.join(cwd, "data")
    const result = await runFazlab(["run", path.join(folder, "replay.yaml"), "--port-base", "ephemeral", "--data-dir", dataDir, "--headless"], { cwd, timeoutMs: 60_000 })
    expect(result.code, result.stderr).toBe(0)
    const stored = await storedLogs(dataDir, cwd)
    const read = readReplayFile(captureText())
    expect(read).toMatchObject({ skipped: 2, firstSkipped: 1 })
    expect(stored.map((log) => log.raw)).toEqual(read.logs.map((log) => log.message.toString()))
    expect(new Set(stored.map((log) => log.device))).toEqual(new Set(["FGT60F-Branch"]))
    // Paced by eventtime (and the last line's header time): 3 s of lab time from the first log to the last.
    const timeline = events(result.stdout)
    const started = timeline.find((event) => event.type === "replay-started")
    expect(started).toMatchObject({ device: "fgt-1", logs: 7, skipped: 2 })
    expect(started?.type === "replay-started" && started.reason).toBe(
      `replays 7 logs of ${path.join(folder, "captures", "branch.log")} at their original pace; 2 lines are not logs and are not sent (the first at line 1)`
    )
    const stores = timeline.filter(isEvent("logs-stored", (event) => event.from === "FGT60F-Branch"))
    expect(stores.at(-1)?.total).toBe(7)
    expect((stores.at(-1)?.at ?? 0) - (stores[0]?.at ?? 0)).toBeGreaterThanOrEqual(3000)
  }, 60_000)

  it("over OFTP (scenarios/replay-capture.yaml): stores exactly the capture's FortiOS records", async () => {
    const cwd = tempDir()
    const dataDir = path.join(cwd, "data")
    const result = await runFazlab(["run", path.join(REPO_ROOT, "scenarios", "replay-capture.yaml"), "--port-base", "ephemeral", "--data-dir", dataDir, "--clock", "simulated", "--report", "json"], { cwd, timeoutMs: 60_000 })
    expect(result.code, result.stderr).toBe(0)
    const stored = await storedLogs(dataDir, cwd)
    const records = readReplayFile(fs.readFileSync(CAPTURE, "utf8")).logs.map((log) => log.record)
    expect(records).toHaveLength(6)
    expect(stored.map((log) => log.raw)).toEqual(records)
    expect(new Set(stored.map((log) => log.devid))).toEqual(new Set(["FGT60FTK2109XXXX"]))
  }, 60_000)

  it("a missing file, or one without logs, is a load error naming the file and the setting", async () => {
    const folder = tempDir()
    const file = path.join(folder, "replay.yaml")
    fs.writeFileSync(file, scenario("captures/none.log"))
    const missing = await loadScenario(file).then(() => null, (error: unknown) => error)
    expect(missing).toBeInstanceOf(ScenarioError)
    expect(String((missing as ScenarioError).message)).toContain(
      `devices.fgt-1.replay: expected a readable log file, one log a line (FortiOS key=value with or without a syslog header, RFC 3164, RFC 5424), got no such file (check the path): ${path.join(folder, "captures", "none.log")}`
    )
    fs.writeFileSync(path.join(folder, "prose.log"), "# nothing but notes\nno logs here\n")
    fs.writeFileSync(file, scenario("prose.log"))
    const empty = await loadScenario(file).then(() => null, (error: unknown) => error)
    expect(String((empty as ScenarioError).message)).toContain(`devices.fgt-1.replay: expected a readable log file, one log a line (FortiOS key=value with or without a syslog header, RFC 3164, RFC 5424), got a file that holds no logs: ${path.join(folder, "prose.log")}`)
  })
})
