/**
 * Nothing acknowledged is lost, nothing is stored twice: the analyzer runs in its own process
 * and is killed with SIGKILL in the middle of an OFTP stream, then started again on the same
 * data folder and port. The FortiGates (another process) queue, retry and resend; in the end
 * the store holds every generated record exactly once.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { ANALYZER_PORTS } from "../../src/devices/fortianalyzer/analyzer.ts"
import { LogStore } from "../../src/store/log-store.ts"
import { jsonLine, removeTempDirs, type RunningFazlab, startFazlab, tempDir } from "../support/cli.ts"
import { freePortBase } from "../support/ports.ts"

const COUNT = 3000

const event = (type: string, match: Record<string, unknown> = {}) => (line: string): boolean => {
  const value = jsonLine(line)
  return value !== null && value["type"] === type && Object.entries(match).every(([key, want]) => value[key] === want)
}

describe("SIGKILL of the analyzer process mid-stream", () => {
  const running: RunningFazlab[] = []
  afterAll(async () => {
    await Promise.all(running.map((process) => process.kill()))
    removeTempDirs()
  })

  it("loses no acknowledged record and stores none twice", async () => {
    const dir = tempDir("fazlab-sigkill-")
    // Known ports: the second analyzer process must come back where the FortiGates look for it.
    const base = await freePortBase(ANALYZER_PORTS)
    const port = base + 514
    const analyzerLab = path.join(dir, "analyzer.yaml")
    const gatesLab = path.join(dir, "gates.yaml")
    fs.writeFileSync(analyzerLab, `name: analyzer-side\ndevices:\n  faz-1: { kind: fortianalyzer, oftp: { auto-authorize: true } }\n`)
    const gate = (n: number) =>
      `  fgt-${n}: { kind: fortigate, serial: FGT60FTK2000000${n}, fortianalyzer: { server: "127.0.0.1:${port}", certificate-verification: disable, rate: 1000/s, count: ${COUNT}, monitor-failure-retry-period: 500ms } }\n`
    fs.writeFileSync(gatesLab, `name: gate-side\ndevices:\n${gate(1)}${gate(2)}`)
    const analyzerArgs = ["up", analyzerLab, "--headless", "--addressing", "shared", "--port-base", String(base), "--data-dir", path.join(dir, "faz")]

    const first = startFazlab(analyzerArgs, { cwd: dir })
    running.push(first)
    await first.waitForLine(event("listener-bound", { port: "tcp/514" }))
    const gates = startFazlab(["up", gatesLab, "--headless", "--memory", "--addressing", "shared", "--port-base", "ephemeral"], { cwd: dir })
    running.push(gates)

    // Mid-stream: both FortiGates have had records acknowledged, neither has finished.
    await gates.waitForLine(event("logs-acked", { device: "fgt-1" }), 15_000)
    await gates.waitForLine(event("logs-acked", { device: "fgt-2" }), 15_000)
    const ackedBeforeKill = new Map<string, number>()
    for (const line of gates.lines) {
      const value = jsonLine(line)
      if (value?.["type"] === "logs-acked") ackedBeforeKill.set(String(value["device"]), Number(value["total"]))
    }
    first.child.kill("SIGKILL")
    await first.kill()
    expect(first.child.signalCode).toBe("SIGKILL")
    await gates.waitForLine(event("oftp-link", { device: "fgt-1", state: "retrying" }), 15_000)

    const second = startFazlab(analyzerArgs, { cwd: dir })
    running.push(second)
    await second.waitForLine(event("listener-bound", { port: "tcp/514" }))
    // The queues drain: every record of both FortiGates is acknowledged.
    for (const device of ["fgt-1", "fgt-2"]) {
      await gates.waitForLine((line) => {
        const value = jsonLine(line)
        return value?.["type"] === "logs-acked" && value["device"] === device && value["total"] === COUNT
      }, 30_000)
    }
    await gates.interrupt()
    const stopped = await second.interrupt()
    expect(stopped.code).toBe(0)

    const store = LogStore.open({ path: path.join(dir, "faz", "faz-1", "logs.sqlite") })
    try {
      for (const device of ["fgt-1", "fgt-2"]) {
        const report = store.sequenceReport(device, COUNT)
        expect(report, `${device}: ${ackedBeforeKill.get(device)} acknowledged before the kill`).toMatchObject({ missing: 0, duplicated: 0, distinct: COUNT })
        expect(ackedBeforeKill.get(device) ?? 0).toBeGreaterThan(0)
        expect(ackedBeforeKill.get(device) ?? COUNT).toBeLessThan(COUNT)
      }
    } finally {
      store.close()
    }
  }, 90_000)
})
