/**
 * `placement: process`: the same scenarios as in-process, with every device a `fazlab node` of
 * its own that the lab spawns; the lab keeps the runner, the expectations and the control channel.
 * Checked end to end with the built command: the scenario's report, the device processes (their
 * command lines under /proc, their parent), the snapshot's addresses, and that no node outlives
 * its lab (Ctrl-C, and SIGKILL of the lab).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { connectControl } from "../../src/control/client.ts"
import { REPO_ROOT, removeTempDirs, runFazlab, type RunningFazlab, startFazlab, tempDir } from "../support/cli.ts"
import { eventually } from "../support/poll.ts"

afterAll(removeTempDirs)

/** Processes whose command line has every one of `parts`, by pid (Linux /proc). */
const processesWith = (...parts: ReadonlyArray<string>): ReadonlyArray<{ readonly pid: number; readonly ppid: number; readonly args: ReadonlyArray<string> }> =>
  fs.readdirSync("/proc").filter((name) => /^\d+$/u.test(name)).flatMap((name) => {
    try {
      const args = fs.readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0")
      if (!parts.every((part) => args.includes(part))) return []
      const ppid = Number(/^PPid:\s+(\d+)$/mu.exec(fs.readFileSync(`/proc/${name}/status`, "utf8"))?.[1])
      return [{ pid: Number(name), ppid, args }]
    } catch {
      return []
    }
  })


interface Report {
  readonly expectations: ReadonlyArray<{ readonly id: string; readonly passed: boolean; readonly detail: string }>
  readonly stepErrors: ReadonlyArray<unknown>
}

describe.skipIf(process.platform !== "linux")("placement process", () => {
  it.each(["syslog-basics.yaml", "ha-failover.yaml"])("runs scenarios/%s with one process per device and every expectation holds", async (name) => {
    const cwd = tempDir()
    const result = await runFazlab(
      ["run", path.join(REPO_ROOT, "scenarios", name), "--placement", "process", "--port-base", "ephemeral", "--report", "json"],
      { cwd, timeoutMs: 90_000 }
    )
    const report = JSON.parse(result.stdout) as Report
    expect(report.stepErrors, result.stderr).toEqual([])
    expect(report.expectations.filter((e) => !e.passed), result.stderr).toEqual([])
    expect(report.expectations.length).toBeGreaterThan(5)
    expect(result.code).toBe(0)
  }, 120_000)

  describe("a lab up with placement process", () => {
    let lab: RunningFazlab | null = null
    afterEach(async () => {
      await lab?.kill()
      lab = null
    })

    const LAB = `
name: process-lab
placement: process
devices:
  faz-1:
    kind: fortianalyzer
  fgt-1:
    kind: fortigate
    syslog: { server: faz-1, mode: reliable, rate: 50/s }
`

    const start = (): { readonly lab: RunningFazlab; readonly file: string; readonly dataDir: string } => {
      const cwd = tempDir()
      const file = path.join(cwd, "lab.yaml")
      fs.writeFileSync(file, LAB)
      const dataDir = path.join(cwd, "data")
      return { lab: startFazlab(["up", file, "--headless", "--port-base", "ephemeral", "--data-dir", dataDir], { cwd }), file, dataDir }
    }

    it("runs each device as a child process of the lab, shows their addresses, and stops them with the lab", async () => {
      const started = start()
      lab = started.lab
      await lab.waitForLine((line) => line.includes('"type":"logs-stored"') && line.includes('"sender":"fgt-1"'), 30_000)
      const nodes = processesWith("node", "--config", started.file)
      expect(nodes.map((node) => node.args[node.args.indexOf("--id") + 1]).toSorted()).toEqual(["faz-1", "fgt-1"])
      for (const node of nodes) expect(node.ppid).toBe(lab.child.pid)
      const info = JSON.parse(fs.readFileSync(path.join(started.dataDir, "control.json"), "utf8")) as { url: string; unixSocket: string }
      const token = fs.readFileSync(path.join(started.dataDir, "control.token"), "utf8").trim()
      // The Unix socket the nodes use answers like the loopback one.
      const client = await connectControl({ url: `ws+unix:${info.unixSocket}:/`, token })
      expect(client.snapshot.devices.map((device) => [device.id, device.status, typeof device.address])).toEqual([
        ["faz-1", "running", "string"],
        ["fgt-1", "running", "string"]
      ])
      // A command about a device goes to its node, and a log query to the analyzer's.
      await client.command({ name: "pause", device: "fgt-1" })
      const logs = await client.command({ name: "logs", limit: 5 })
      expect(logs.analyzer).toBe("faz-1")
      expect(logs.logs.length).toBeGreaterThan(0)
      await client.close()
      const stopped = await lab.interrupt(20_000)
      expect(stopped.code).toBe(0)
      await eventually(() => processesWith("node", "--config", started.file).length === 0, "the device processes did not end with the lab")
    }, 60_000)

    it("a node whose lab is killed (SIGKILL) exits on its own", async () => {
      const started = start()
      lab = started.lab
      await lab.waitForLine((line) => line.includes('"type":"device-started"') && line.includes('"device":"fgt-1"'), 30_000)
      expect(processesWith("node", "--config", started.file)).toHaveLength(2)
      await lab.kill()
      await eventually(() => processesWith("node", "--config", started.file).length === 0, "the device processes outlived their killed lab")
    }, 60_000)
  })
})
