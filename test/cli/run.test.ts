/**
 * `fazlab run` exit codes as the CLI contract states them: 0 every expectation holds, 1 one
 * failed, 2 bad input, including a documented port whose actual address is taken by another
 * program (the message must say which device, which port, where, and how to move the lab).
 */
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { ANALYZER_PORTS } from "../../src/devices/fortianalyzer/analyzer.ts"
import { jsonLine, REPO_ROOT, removeTempDirs, runFazlab, startFazlab, tempDir } from "../support/cli.ts"
import { freePortBase } from "../support/ports.ts"

const syslogBasics = path.join(REPO_ROOT, "scenarios", "syslog-basics.yaml")

const tooFew = `
name: too-few
description: A FortiGate sends 3 logs; the step expects exactly 5.
devices:
  faz-1:
    kind: fortianalyzer
  fgt-1:
    kind: fortigate
    syslog: { server: faz-1, mode: reliable, rate: 1000/s, count: 3 }
steps:
  - title: five logs arrive
    within: 1s
    expect:
      - logs: { from: fgt-1, exactly: 5 }
`

interface JsonReport {
  readonly scenario: string
  readonly expectations: ReadonlyArray<{ readonly passed: boolean; readonly detail: string }>
  readonly summary: { readonly passed: number; readonly failed: number; readonly ok: boolean }
}

/** Listens on 127.0.0.1 at documented TCP/514 under a port base whose analyzer ports are otherwise free. */
const occupyTcp514 = async (): Promise<{ readonly server: net.Server; readonly base: number }> => {
  const base = await freePortBase(ANALYZER_PORTS)
  const server = net.createServer()
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen({ host: "127.0.0.1", port: base + 514 }, resolve)
  })
  return { server, base }
}

describe("fazlab run exit codes", () => {
  afterAll(removeTempDirs)

  it.concurrent("0 when every expectation holds (syslog-basics), with the JSON report on stdout", async () => {
    const result = await runFazlab(["run", syslogBasics, "--port-base", "ephemeral", "--memory", "--report", "json"], { cwd: tempDir(), timeoutMs: 60_000 })
    expect(result.code, result.stderr).toBe(0)
    const report = JSON.parse(result.stdout) as JsonReport
    expect(report.scenario).toBe("syslog-basics")
    expect(report.summary).toMatchObject({ failed: 0, ok: true })
    expect(report.summary.passed).toBe(report.expectations.length)
    expect(report.expectations.length).toBeGreaterThan(0)
  }, 60_000)

  it.concurrent("1 when an expectation fails: exactly 5 logs from a sender that sends 3", async () => {
    const cwd = tempDir()
    const file = path.join(cwd, "too-few.yaml")
    fs.writeFileSync(file, tooFew)
    const result = await runFazlab(["run", file, "--port-base", "ephemeral", "--memory", "--report", "json"], { cwd })
    expect(result.code, result.stderr).toBe(1)
    const report = JSON.parse(result.stdout) as JsonReport
    expect(report.summary).toMatchObject({ passed: 0, failed: 1, ok: false })
    expect(report.expectations[0]?.detail).toContain("3 stored from fgt-1")
    expect(result.stderr).toContain("FAIL")
  })

  it.concurrent("2 on bad input: a scenario with errors, and nothing runs", async () => {
    const cwd = tempDir()
    const result = await runFazlab(["run", path.join(REPO_ROOT, "test", "golden", "scenario-errors", "bad-port.yaml"), "--port-base", "ephemeral"], { cwd })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("bad-port.yaml:6:43 steps[0].expect[0].listening.port")
    expect(result.stdout).toBe("")
    expect(fs.readdirSync(cwd)).toEqual([])
  })

  it.concurrent("2 when a documented port is taken: names the device, the port, the address and --port-base", async () => {
    const { server, base } = await occupyTcp514()
    try {
      const port = base + 514
      const result = await runFazlab(
        ["run", syslogBasics, "--memory", "--addressing", "shared", "--port-base", String(base)],
        { cwd: tempDir() }
      )
      expect(result.code).toBe(2)
      const last = result.stderr.trimEnd().split("\n").at(-1) ?? ""
      expect(last).toMatch(/^fazlab run: /)
      expect(last).toContain("faz-1")
      expect(last).toContain("tcp/514")
      expect(last).toContain(`127.0.0.1:${port}`)
      expect(last).toContain("--port-base")
      expect(result.stderr).not.toMatch(/^\s+at /m)
      expect(result.stdout).toBe("")
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  it("1 when Ctrl-C stops it before the end: says so in one sentence, no report, no 'internal error'", async () => {
    const run = startFazlab(["run", path.join(REPO_ROOT, "scenarios", "ha-failover.yaml"), "--headless", "--port-base", "ephemeral", "--memory"], { cwd: tempDir() })
    try {
      await run.waitForLine((line) => jsonLine(line)?.["type"] === "step-started", 20_000)
      const result = await run.interrupt()
      expect(result.code).toBe(1)
      expect(result.stderr).toBe("fazlab run: stopped by the user (Ctrl-C) before the scenario finished; no report\n")
      expect(run.lines.some((line) => jsonLine(line) === null)).toBe(false)
    } finally {
      await run.kill()
    }
  }, 30_000)
})
