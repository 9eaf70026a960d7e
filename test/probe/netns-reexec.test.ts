/**
 * The probe's namespace path (DESIGN-12, contract 3) end to end: a lab runs as `fazlab up` inside
 * a network namespace the test creates, its control channel bound on the namespace's end of a
 * veth pair the test creates (10.231.x.2). The snapshot is read over that channel and marks
 * fgt-1 and fct-1 as running in the namespace (what netns placement will say), so the probe runs
 * their flows by re-executing `fazlab probe --target ... --fazlab-peer --json` with
 * `ip netns exec`, and confirms the syslog messages over the control channel by their tokens.
 * Needs root (namespaces); skipped with the reason printed otherwise. Teardown deletes the
 * namespace, which removes the veth pair with it.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type ControlClient, connectControl } from "../../src/control/client.ts"
import { ALLOW_ALL } from "../../src/probe/expectations.ts"
import { catalogFlows } from "../../src/probe/flows.ts"
import { probeLab } from "../../src/probe/matrix.ts"
import { FAZLAB_BIN, removeTempDirs, tempDir } from "../support/cli.ts"

const run = promisify(execFile)
const root = process.getuid?.() === 0
const reason = "needs root to create a network namespace and a veth pair (CI runs as root)"
if (!root) console.log(`skipping the probe's namespace re-exec test: ${reason}`)

const ns = `fzprobe-${process.pid}`
const hostEnd = `fzph${process.pid % 100_000}`
const octet = process.pid % 250
const nsAddress = `10.231.${octet}.2`

const LAB = `
name: probe-netns
devices:
  faz-1:
    kind: fortianalyzer
  fgt-1:
    kind: fortigate
    syslog: { server: faz-1, rate: 2/s }
  fct-1:
    kind: forticlient
    syslog: { server: faz-1, mode: reliable, rate: 2/s }
`

let lab: ChildProcess | null = null
let client: ControlClient | null = null

/** Resolves with `read(file)` once it returns something: tries now and on every change in the file's folder. */
const waitForFile = <A>(file: string, read: (text: string) => A | undefined, timeoutMs: number): Promise<A> =>
  new Promise((resolve, reject) => {
    const watcher = fs.watch(path.dirname(file), () => check())
    const timer = setTimeout(() => {
      watcher.close()
      reject(new Error(`${file} was not ready within ${timeoutMs} ms`))
    }, timeoutMs)
    const check = () => {
      let value: A | undefined
      try {
        value = read(fs.readFileSync(file, "utf8"))
      } catch {
        // Not there yet, or half written.
        return
      }
      if (value === undefined) return
      clearTimeout(timer)
      watcher.close()
      resolve(value)
    }
    check()
  })

beforeAll(async () => {
  if (!root) return
  await run("ip", ["netns", "add", ns])
  await run("ip", ["-n", ns, "link", "set", "lo", "up"])
  await run("ip", ["link", "add", hostEnd, "type", "veth", "peer", "name", "eth0", "netns", ns])
  await run("ip", ["addr", "add", `10.231.${octet}.1/30`, "dev", hostEnd])
  await run("ip", ["link", "set", hostEnd, "up"])
  await run("ip", ["-n", ns, "addr", "add", `${nsAddress}/30`, "dev", "eth0"])
  await run("ip", ["-n", ns, "link", "set", "eth0", "up"])
  const dir = tempDir()
  const file = path.join(dir, "lab.yaml")
  fs.writeFileSync(file, LAB)
  const data = path.join(dir, "data")
  fs.mkdirSync(data)
  lab = spawn("ip", ["netns", "exec", ns, process.execPath, FAZLAB_BIN, "up", file, "--headless", "--data-dir", data, "--control-bind", `${nsAddress}:0`], {
    cwd: dir,
    stdio: ["ignore", "ignore", "pipe"]
  })
  const url = await waitForFile(path.join(data, "control.json"), (text) => (JSON.parse(text) as { readonly url?: string }).url, 30_000)
  const token = await waitForFile(path.join(data, "control.token"), (text) => (text.trim().length > 0 ? text.trim() : undefined), 5_000)
  client = await connectControl({ url, token })
}, 60_000)

afterAll(async () => {
  await client?.close()
  if (lab !== null && lab.exitCode === null) {
    const exited = new Promise((resolve) => lab?.once("exit", resolve))
    lab.kill("SIGINT")
    await exited
  }
  if (root) await run("ip", ["netns", "del", ns]).catch(() => undefined)
  removeTempDirs()
})

describe("fazlab probe from inside a lab's network namespace", () => {
  it.skipIf(!root)("re-executes itself in the namespace of the source role's device and confirms syslog over the control channel", async () => {
    if (client === null) throw new Error("no control channel")
    const snapshot = client.snapshot
    const inNamespace = { ...snapshot, devices: snapshot.devices.map((device) => ({ ...device, netns: ns })) }
    const flows = [...catalogFlows({ from: "fortigate" }), ...catalogFlows({ from: "forticlient" }), ...catalogFlows({ from: "admin-pc" })]
    const report = await probeLab({ command: client.command, onEvent: client.onEvent, snapshot: inNamespace }, flows, { timeoutMs: 5000, concurrency: 16, expectations: ALLOW_ALL })
    const byId = new Map(report.flows.map((flow) => [flow.id, flow]))
    const oftp = byId.get("fortigate->fortianalyzer/tcp/514/oftp")
    expect(oftp?.outcome, oftp?.detail).toBe("reachable")
    expect(oftp?.probedFrom).toBe(`fgt-1 (netns ${ns})`)
    for (const id of ["forticlient->fortianalyzer/udp/514/syslog", "forticlient->fortianalyzer/tcp/514/syslog"]) {
      expect(byId.get(id)?.outcome, byId.get(id)?.detail).toBe("reachable")
      expect(byId.get(id)?.detail).toMatch(/^faz-1 stored the probe message/u)
      expect(byId.get(id)?.probedFrom).toBe(`fct-1 (netns ${ns})`)
    }
    expect(byId.get("forticlient->fortianalyzer/tcp/8443/logs-from-chromebook")?.outcome).toBe("reachable")
    // The faz-1 device runs in the namespace too: an admin PC has no device there to probe from.
    expect(byId.get("admin-pc->fortianalyzer/tcp/22/ssh")?.detail).toBe("no admin-pc device of this namespace lab to probe from")
    expect(report.summary.failed).toBe(0)
  }, 60_000)
})
