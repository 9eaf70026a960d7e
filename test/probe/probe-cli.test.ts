/**
 * `fazlab probe` as users run it (the built command): a lab file it starts itself, the JUnit
 * report (one test case per flow, named by its id, valid against the JUnit XSD), expectations
 * that fail flows (exit 1), bad input (exit 2, one sentence), `--diff` between two JSON reports,
 * and `--target` against a real TLS server (`openssl s_server`) and a closed port.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { catalogFlows } from "../../src/probe/flows.ts"
import type { ProbeReport } from "../../src/probe/report.ts"
import { removeTempDirs, runFazlab, startFazlab, tempDir } from "../support/cli.ts"
import { validateJunit } from "../support/junit-schema.ts"

const run = promisify(execFile)

const LAB = `
name: probe-cli
devices:
  faz-1:
    kind: fortianalyzer
  smtp-1:
    kind: smtp-relay
`

let dir: string
let labFile: string
let first: { readonly code: number | null; readonly report: ProbeReport; readonly junit: string }

beforeAll(async () => {
  dir = tempDir("fazlab-probe-")
  labFile = path.join(dir, "lab.yaml")
  fs.writeFileSync(labFile, LAB)
  const result = await runFazlab(["probe", labFile, "--port-base", "ephemeral", "--json", "--junit", "probe.xml"], { cwd: dir, timeoutMs: 60_000 })
  expect(result.stderr).toBe("")
  first = { code: result.code, report: JSON.parse(result.stdout) as ProbeReport, junit: fs.readFileSync(path.join(dir, "probe.xml"), "utf8") }
}, 90_000)

afterAll(removeTempDirs)

describe("fazlab probe LAB.yaml", () => {
  it("starts the lab, probes every flow of the catalog and exits 0 when every probed flow is reachable", () => {
    expect(first.code).toBe(0)
    expect(first.report.lab).toBe("probe-cli")
    expect(first.report.flows.map((flow) => flow.id)).toEqual(catalogFlows().map((flow) => flow.id))
    const reachable = first.report.flows.filter((flow) => flow.outcome === "reachable").map((flow) => flow.id)
    expect(reachable).toContain("fortigate->fortianalyzer/tcp/514/oftp")
    expect(reachable).toContain("fortimail->fortianalyzer/udp/514/syslog")
    expect(reachable).toContain("fortianalyzer->smtp-server/tcp/25/alert-email")
    expect(first.report.summary.failed).toBe(0)
  })

  it("writes JUnit with one test case per flow, named by the flow id, valid against the XSD", async () => {
    const validation = await validateJunit(first.junit)
    expect(validation.errors).toEqual([])
    expect(validation.valid).toBe(true)
    const names = [...first.junit.matchAll(/<testcase classname="probe\.probe-cli" name="([^"]+)"/gu)].map((match) => (match[1] ?? "").replaceAll("&gt;", ">"))
    expect(names).toEqual(catalogFlows().map((flow) => flow.id))
    expect((first.junit.match(/<skipped /gu) ?? []).length).toBe(first.report.summary.skipped)
  })

  it("exits 1 and marks FAIL the flows an expectations file denies that are reachable", async () => {
    fs.writeFileSync(path.join(dir, "deny.yaml"), "flows:\n  \"*/udp/514/*\": deny\n")
    const result = await runFazlab(["probe", labFile, "--port-base", "ephemeral", "--direction", "in", "--to", "fortianalyzer", "--expect", "deny.yaml"], { cwd: dir, timeoutMs: 60_000 })
    expect(result.code, result.stderr).toBe(1)
    const failed = result.stdout.split("\n").filter((line) => line.startsWith("FAIL"))
    expect(failed.length).toBe(5)
    expect(failed.every((line) => /\/udp\/514\/\S+\s+deny\s+reachable\s/u.test(line))).toBe(true)
    expect(result.stdout).toMatch(/lab probe-cli: \d+ flows, \d+ as expected, 5 not as expected, \d+ not probed/u)
  })

  it("shows which flows a change opened or closed between two reports (exit 1), and nothing for the same report (exit 0)", async () => {
    const before = path.join(dir, "before.json")
    const after = path.join(dir, "after.json")
    fs.writeFileSync(before, JSON.stringify(first.report))
    const changed = {
      ...first.report,
      flows: first.report.flows.map((flow) =>
        flow.id === "fortimail->fortianalyzer/udp/514/syslog" ? { ...flow, outcome: "unreachable" } : flow.id === "fortianalyzer->smtp-server/tcp/25/alert-email" ? { ...flow, outcome: "partial" } : flow
      )
    }
    fs.writeFileSync(after, JSON.stringify(changed))
    const diff = await runFazlab(["probe", "--diff", before, after], { cwd: dir })
    expect(diff.code).toBe(1)
    expect(diff.stdout).toBe("closed   fortimail->fortianalyzer/udp/514/syslog\nchanged  fortianalyzer->smtp-server/tcp/25/alert-email  (reachable -> partial)\n")
    const back = await runFazlab(["probe", "--diff", after, before], { cwd: dir })
    expect(back.stdout.split("\n")[0]).toBe("opened   fortimail->fortianalyzer/udp/514/syslog")
    const same = await runFazlab(["probe", "--diff", before, before], { cwd: dir })
    expect(same).toMatchObject({ code: 0, stdout: "no flow opened, closed or changed\n" })
  })

  it("refuses bad input with exit 2 and one sentence", async () => {
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
      [["probe", "--direction", "sideways"], "fazlab probe: --direction must be \"in\" or \"out\", got \"sideways\"\n"],
      [["probe", "--from", "firewall"], "fazlab probe: --from \"firewall\" is no role of the port catalog; roles: "],
      [["probe", "--expect", "missing.yaml", "--target", "127.0.0.1"], "fazlab probe: cannot read the expectations file missing.yaml (ENOENT); check the path\n"],
      [["probe", "--diff", "lab.yaml", "lab.yaml"], "fazlab probe: lab.yaml is not a probe report; write one with fazlab probe --json > lab.yaml\n"],
      [["probe", "--target", "127.0.0.1", "--port", "541=2541"], "fazlab probe: --port must be written as tcp/22=2222 (the documented port, then where it is on the host), got \"541=2541\"\n"],
      [["probe", "--rows", "fortigate->fortianalyzer/tcp/514/syslog", "--target", "127.0.0.1"], "fazlab probe: --rows names \"fortigate->fortianalyzer/tcp/514/syslog\", which is no flow of the catalog; fazlab probe --list prints every flow id\n"]
    ]
    for (const [args, message] of cases) {
      const result = await runFazlab(args, { cwd: dir })
      expect(result.code, result.stderr).toBe(2)
      expect(result.stderr.startsWith(message), result.stderr).toBe(true)
      expect(result.stderr.split("\n").length).toBe(2)
    }
  })
})

describe("fazlab probe against a running lab", () => {
  it("finds the lab started in this folder (or the one --control names) and probes it over its control channel", async () => {
    const here = tempDir("fazlab-probe-up-")
    const up = startFazlab(["up", labFile, "--port-base", "ephemeral"], { cwd: here })
    try {
      const hint = await up.waitForLine((line) => line.includes("(control channel ws://"), 20_000)
      const found = await runFazlab(["probe", "--to", "smtp-server"], { cwd: here })
      expect(found.code, found.stderr).toBe(0)
      expect(found.stdout).toMatch(/^ok\s+fortianalyzer->smtp-server\/tcp\/25\/alert-email\s+allow\s+reachable\s+SMTP on /mu)
      const url = /\(control channel (ws:\/\/[^,)]+)/u.exec(hint)?.[1] ?? ""
      const token = fs.readFileSync(path.join(here, ".fazlab", "probe-cli", "control.token"), "utf8").trim()
      const named = await runFazlab(["probe", "--control", url, "--token", token, "--rows", "forticlient->fortianalyzer/udp/514/syslog", "--json"], { cwd: dir })
      expect(named.code, named.stderr).toBe(0)
      expect((JSON.parse(named.stdout) as ProbeReport).flows.map((flow) => [flow.id, flow.outcome])).toEqual([["forticlient->fortianalyzer/udp/514/syslog", "reachable"]])
    } finally {
      await up.interrupt()
    }
  }, 60_000)

  it("says in one sentence that no lab runs here (exit 2)", async () => {
    const result = await runFazlab(["probe"], { cwd: tempDir("fazlab-probe-none-") })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^fazlab probe: no running lab found under .+; start one here with fazlab up, or pass --lab DIR or --control URL --token T\n$/u)
  })
})

describe("fazlab probe --target", () => {
  let server: ChildProcess
  let tlsPort = 0
  let closedPort = 0

  beforeAll(async () => {
    const key = path.join(dir, "key.pem")
    const cert = path.join(dir, "cert.pem")
    await run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-subj", "/CN=probe-target", "-days", "1"])
    server = spawn("openssl", ["s_server", "-accept", "127.0.0.1:0", "-cert", cert, "-key", key], { stdio: ["pipe", "pipe", "pipe"] })
    tlsPort = await new Promise<number>((resolve, reject) => {
      let text = ""
      const timer = setTimeout(() => reject(new Error(`openssl s_server did not say where it listens: ${text}`)), 15_000)
      const read = (chunk: string) => {
        text += chunk
        const match = /ACCEPT 127\.0\.0\.1:(\d+)/u.exec(text)
        if (match !== null) {
          clearTimeout(timer)
          resolve(Number(match[1]))
        }
      }
      server.stdout?.setEncoding("utf8").on("data", read)
      server.stderr?.setEncoding("utf8").on("data", read)
    })
    // A port nothing listens on: bound, then closed.
    closedPort = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, "127.0.0.1", () => {
        const address = probe.address() as net.AddressInfo
        probe.close(() => resolve(address.port))
      })
    })
  }, 30_000)

  afterAll(() => {
    server?.kill()
  })

  it("completes a TLS handshake with a real TLS server where the row needs fazlab for more, and says so", async () => {
    const result = await runFazlab(["probe", "--target", "127.0.0.1", "--rows", "fortimanager->fortianalyzer/tcp/541/management,fortigate->fortianalyzer/tcp/514/oftp", "--port", `tcp/541=${tlsPort}`, "--port", `tcp/514=${tlsPort}`, "--json"], { cwd: dir })
    expect(result.code, result.stderr).toBe(0)
    const report = JSON.parse(result.stdout) as ProbeReport
    expect(report.target).toBe("127.0.0.1")
    expect(report.flows.map((flow) => [flow.id, flow.outcome])).toEqual([
      ["fortigate->fortianalyzer/tcp/514/oftp", "reachable"],
      ["fortimanager->fortianalyzer/tcp/541/management", "reachable"]
    ])
    expect(report.flows[0]?.detail).toMatch(new RegExp(`^TLS handshake with 127\\.0\\.0\\.1:${tlsPort} completed \\(TLSv1\\.[23]\\) \\(TLS handshake only: the OFTP hello needs fazlab's analyzer on the far side\\)$`, "u"))
  })

  it("reports a closed port unreachable (exit 1) and does not probe UDP syslog against a real host", async () => {
    const result = await runFazlab(["probe", "--target", "127.0.0.1", "--rows", "admin-pc->fortianalyzer/tcp/22/ssh,fortimail->fortianalyzer/udp/514/syslog", "--port", `tcp/22=${closedPort}`], { cwd: dir })
    expect(result.code, result.stderr).toBe(1)
    const lines = result.stdout.split("\n")
    expect(lines.find((line) => line.includes("/tcp/22/ssh"))).toMatch(new RegExp(`^FAIL\\s+admin-pc->fortianalyzer/tcp/22/ssh\\s+allow\\s+unreachable\\s+SSH to 127\\.0\\.0\\.1:${closedPort} failed before the key exchange completed \\(ECONNREFUSED\\)$`, "u"))
    expect(lines.find((line) => line.includes("/udp/514/syslog"))).toMatch(/^skip\s+fortimail->fortianalyzer\/udp\/514\/syslog\s+allow\s+not-probed\s+UDP syslog counts only when the analyzer confirms it stored/u)
  })
})
