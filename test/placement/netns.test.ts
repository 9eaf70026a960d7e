/**
 * Network-namespace labs (`placement: netns`) on the real kernel: namespaces, veth pairs, the
 * router's bridges and nftables, a gratuitous ARP. These tests need root and `ip netns`; where
 * either is missing they are skipped with the reason printed. They address only the lab's own
 * namespaces; every namespace they make is removed by the lab or in their teardown
 * (`fazlab down --netns`).
 *
 * - a lab comes up (a FortiGate's syslog crosses the router), a second lab runs beside it, and
 *   both go down leaving no namespace, link or process; after a SIGKILL the nodes exit on their
 *   own and `fazlab down --netns NAME` removes the namespaces;
 * - an HA pair in two namespaces fails over over real TCP/5199 and the virtual IP moves from the
 *   killed primary's interface to the new primary's, which the router learns by gratuitous ARP;
 * - scenarios/firewall-regression.yaml with scenarios/firewall/allow-all.nft passes `fazlab probe`
 *   (every flow it can probe from the lab's namespaces), and with blocked.nft fails on exactly the
 *   syslog (UDP/514), HA (TCP/5199) and management (TCP/541) flows (`fazlab probe LAB.yaml`
 *   starting the netns lab itself, and leaving no namespace behind); the same checked with plain
 *   clients from the FortiGate's namespace (`logger`, TCP connects, FGFM to the FortiManager).
 */
import { execFile, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { promisify } from "node:util"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { eventually } from "../support/poll.ts"
import { jsonLine, REPO_ROOT, removeTempDirs, runFazlab, type RunningFazlab, startFazlab, tempDir } from "../support/cli.ts"

const exec = promisify(execFile)

const canNetns = process.platform === "linux" && process.getuid?.() === 0 && spawnSync("ip", ["netns", "list"]).status === 0
const SKIP_REASON = "netns labs need Linux, root and ip netns (iproute2); run the tests as root, as CI does"
if (!canNetns) console.warn(`test/placement/netns.test.ts skipped: ${SKIP_REASON}`)

const labs: string[] = []
const running: RunningFazlab[] = []

afterEach(async () => {
  for (const lab of running.splice(0)) await lab.kill()
  // Whatever a failed test left: the lab's own cleanup, as a user would run it.
  for (const name of labs.splice(0)) await runFazlab(["down", "--netns", name], { cwd: REPO_ROOT })
})
afterAll(removeTempDirs)

const namespaces = async (lab: string): Promise<ReadonlyArray<string>> => {
  const { stdout } = await exec("ip", ["netns", "list"])
  return stdout.split("\n").map((line) => line.split(" ")[0] ?? "").filter((name) => name === `fz-${lab}` || name.startsWith(`fz-${lab}-`)).toSorted()
}

const pidsIn = async (namespace: string): Promise<ReadonlyArray<number>> => {
  const { stdout } = await exec("ip", ["netns", "pids", namespace])
  return stdout.split("\n").filter((line) => line !== "").map(Number)
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}


const addressesOf = async (namespace: string): Promise<string> => (await exec("ip", ["-n", namespace, "-4", "addr", "show", "dev", "eth0"])).stdout

/** Starts `fazlab up FILE --headless` on the lab text, in a folder of its own. */
const up = (name: string, text: string, extra: ReadonlyArray<string> = []): { readonly lab: RunningFazlab; readonly dataDir: string; readonly file: string } => {
  const cwd = tempDir()
  const file = path.join(cwd, "lab.yaml")
  fs.writeFileSync(file, text)
  const dataDir = path.join(cwd, "data")
  labs.push(name)
  const lab = startFazlab(["up", file, "--headless", "--data-dir", dataDir, ...extra], { cwd })
  running.push(lab)
  return { lab, dataDir, file }
}

const event = (type: string, fields: Readonly<Record<string, unknown>>) => (line: string): boolean => {
  const parsed = jsonLine(line)
  return parsed?.["type"] === type && Object.entries(fields).every(([key, value]) => parsed[key] === value)
}

const SMALL_LAB = (name: string) => `
name: ${name}
placement: netns
devices:
  faz-1:
    kind: fortianalyzer
  fgt-1:
    kind: fortigate
    syslog: { server: faz-1, mode: udp, rate: 50/s }
`

describe.skipIf(!canNetns)("network-namespace labs (Linux, root, ip netns)", () => {
  it("comes up in its own namespaces beside another lab, and goes down leaving no namespace, link or process", async () => {
    const a = `nsa-${process.pid}`
    const b = `nsb-${process.pid}`
    const first = up(a, SMALL_LAB(a))
    const second = up(b, SMALL_LAB(b))
    // Syslog from fgt-1's namespace (zone fgt-1) reaches faz-1's (zone faz-1) through the router.
    for (const lab of [first.lab, second.lab]) await lab.waitForLine(event("logs-stored", { sender: "fgt-1" }), 30_000)
    for (const name of [a, b]) expect(await namespaces(name)).toEqual([`fz-${name}`, `fz-${name}-faz-1`, `fz-${name}-fgt-1`])
    expect(await addressesOf(`fz-${a}-faz-1`)).toContain("10.250.0.2/24")
    expect(await addressesOf(`fz-${a}-fgt-1`)).toContain("10.250.1.2/24")
    const pids = [...await pidsIn(`fz-${a}-faz-1`), ...await pidsIn(`fz-${a}-fgt-1`)]
    expect(pids).toHaveLength(2)

    const stopped = await first.lab.interrupt(30_000)
    expect(stopped.code).toBe(0)
    expect(await namespaces(a)).toEqual([])
    for (const pid of pids) expect(alive(pid)).toBe(false)
    // Nothing of the lab was ever made in the host's namespace.
    expect((await exec("ip", ["-o", "link", "show"])).stdout).not.toMatch(/\bfzb?[0-9a-f]{8}\b/u)
    // The other lab runs on.
    const seen = second.lab.lines.length
    await second.lab.waitForLine((line, i) => i >= seen && event("logs-stored", { sender: "fgt-1" })(line), 10_000)
    expect((await second.lab.interrupt(30_000)).code).toBe(0)
    expect(await namespaces(b)).toEqual([])
  }, 120_000)

  it("after a SIGKILL of the lab its nodes exit, and fazlab down --netns removes its namespaces", async () => {
    const name = `nsk-${process.pid}`
    const { lab } = up(name, SMALL_LAB(name))
    await lab.waitForLine(event("device-started", { device: "fgt-1" }), 30_000)
    const pids = [...await pidsIn(`fz-${name}-faz-1`), ...await pidsIn(`fz-${name}-fgt-1`)]
    expect(pids).toHaveLength(2)
    await lab.kill()
    await eventually(() => pids.every((pid) => !alive(pid)), "the nodes of the killed lab did not exit")
    expect(await namespaces(name)).toHaveLength(3)
    const down = await runFazlab(["down", "--netns", name], { cwd: REPO_ROOT })
    expect(down.code).toBe(0)
    expect(down.stdout).toBe(`removed 3 network namespaces of lab ${name}: fz-${name}, fz-${name}-faz-1, fz-${name}-fgt-1\n`)
    expect(await namespaces(name)).toEqual([])
    const again = await runFazlab(["down", "--netns", name], { cwd: REPO_ROOT })
    expect(again.stdout).toBe(`lab ${name} left no network namespace behind\n`)
  }, 60_000)

  it("an HA pair in two namespaces fails over over TCP/5199 and the virtual IP moves to the new primary", async () => {
    const name = `nsh-${process.pid}`
    const { lab, dataDir } = up(name, `
name: ${name}
placement: netns
devices:
  faz-a:
    kind: fortianalyzer
    ha: { priority: 120 }
  faz-b:
    kind: fortianalyzer
  fgt-1:
    kind: fortigate
    syslog: { server: lab, mode: reliable, rate: 50/s }
ha:
  lab:
    members: [faz-a, faz-b]
    # 1 s, not FortiOS's 5 s: a failover in 3 s, and no false one on a loaded machine.
    hb-interval: 1s
`)
    // Zone "lab" (the group's): faz-a .2, faz-b .3, the virtual IP .4.
    const vip = "10.250.0.4"
    await lab.waitForLine(event("ha-synced", { device: "faz-b" }), 30_000)
    await eventually(async () => (await addressesOf(`fz-${name}-faz-a`)).includes(`${vip}/32`), "the primary faz-a did not put the virtual IP on its interface")
    expect(await addressesOf(`fz-${name}-faz-b`)).not.toContain(vip)

    const killed = await runFazlab(["ctl", "kill", "faz-a", "--lab", dataDir], { cwd: REPO_ROOT })
    expect(killed.code, killed.stderr).toBe(0)
    await lab.waitForLine(event("ha-role", { device: "faz-b", role: "primary" }), 15_000)
    await eventually(async () => (await addressesOf(`fz-${name}-faz-b`)).includes(`${vip}/32`), "the virtual IP did not move to faz-b")
    expect(await addressesOf(`fz-${name}-faz-a`)).not.toContain(vip)
    // The gratuitous ARP: the router reaches the virtual IP at faz-b's interface now.
    const mac = /link\/ether ([0-9a-f:]+)/u.exec((await exec("ip", ["-n", `fz-${name}-faz-b`, "link", "show", "eth0"])).stdout)?.[1]
    await eventually(async () => (await exec("ip", ["-n", `fz-${name}`, "neigh", "show", vip])).stdout.includes(mac ?? "?"), "the router did not learn faz-b's address for the virtual IP")
    // fgt-1 reconnects to the virtual IP and its logs reach faz-b.
    const seen = lab.lines.length
    await lab.waitForLine((line, i) => i >= seen && event("logs-stored", { device: "faz-b", sender: "fgt-1" })(line), 20_000)
    expect((await lab.interrupt(30_000)).code).toBe(0)
    expect(await namespaces(name)).toEqual([])
  }, 120_000)

  describe("scenarios/firewall-regression.yaml with an nftables rule file", () => {
    const firewall = path.join(REPO_ROOT, "scenarios", "firewall")
    // mgmt: faz-a .2, faz-b .3, fmg-1 .4, the virtual IP .5; branch: fgt-1 10.250.1.2.
    const FAZ_A = "10.250.0.2"
    const FMG = "10.250.0.4"
    const VIP = "10.250.0.5"

    /** A TCP connect from `namespace`: open, refused (a reset) or timeout (dropped). */
    const connect = async (namespace: string, host: string, port: number): Promise<string> => {
      const script = `const s=require("net").connect(${port},"${host}");s.setTimeout(2000,()=>{console.log("timeout");process.exit(0)});s.on("connect",()=>{console.log("open");process.exit(0)});s.on("error",(e)=>{console.log(e.code==="ECONNREFUSED"?"refused":e.code);process.exit(0)})`
      return (await exec("ip", ["netns", "exec", namespace, process.execPath, "-e", script])).stdout.trim()
    }

    const flows = async (rules: string) => {
      const name = `fw-${rules.slice(0, 5)}-${process.pid}`
      const text = fs.readFileSync(path.join(REPO_ROOT, "scenarios", "firewall-regression.yaml"), "utf8").replace("name: firewall-regression", `name: ${name}`)
      const { lab, dataDir } = up(name, text, ["--nftables", path.join(firewall, rules)])
      await lab.waitForLine(event("ha-role", { device: "faz-a", role: "primary" }), 30_000)
      await lab.waitForLine(event("listener-bound", { device: "lab", port: "udp/514" }), 30_000)
      await lab.waitForLine(event("listener-bound", { device: "fmg-1", port: "tcp/541" }), 30_000)
      const fgt = `fz-${name}-fgt-1`
      const token = `probe-${rules}-${process.pid}`
      await exec("ip", ["netns", "exec", fgt, "logger", "-n", VIP, "-P", "514", "-d", token])
      // A TCP message after it, through the same router: once it is stored, so is the datagram, unless it was dropped.
      const marker = `marker-${rules}-${process.pid}`
      await exec("ip", ["netns", "exec", fgt, "logger", "-n", VIP, "-P", "514", "-T", "--octet-count", marker])
      // With HA cut both members act as primary and either may hold the virtual IP: look in both stores.
      const storedOn = async (analyzer: string, text: string) =>
        (await runFazlab(["logs", "--lab", dataDir, "--analyzer", analyzer, "--text", text], { cwd: REPO_ROOT })).stdout.includes(text)
      const stored = async (text: string) => (await storedOn("faz-a", text)) || (await storedOn("faz-b", text))
      await eventually(() => stored(marker), "the TCP/514 marker was not stored", 15_000)
      const result = {
        "udp/514 syslog": (await stored(token)) ? "stored" : "not stored",
        "tcp/514 oftp": await connect(fgt, VIP, 514),
        "tcp/5199 ha": await connect(fgt, FAZ_A, 5199),
        "tcp/541 fgfm": await connect(fgt, FMG, 541)
      }
      expect((await lab.interrupt(30_000)).code).toBe(0)
      expect(await namespaces(name)).toEqual([])
      return result
    }

    interface ProbedFlow {
      readonly id: string
      readonly outcome: string
      readonly verdict: string
      readonly detail: string
    }

    const renamed = (name: string) => fs.readFileSync(path.join(REPO_ROOT, "scenarios", "firewall-regression.yaml"), "utf8").replace("name: firewall-regression", `name: ${name}`)
    const probedFlows = (result: { readonly code: number | null; readonly stdout: string }) => {
      const report = JSON.parse(result.stdout) as { readonly flows: ReadonlyArray<ProbedFlow> }
      return { code: result.code, flows: report.flows.filter((flow) => flow.outcome !== "not-probed") }
    }

    /** `fazlab probe --lab DIR --json` against the running netns lab: each flow checked from the namespace of a device of its source role. */
    const probe = async (rules: string): Promise<{ readonly code: number | null; readonly flows: ReadonlyArray<ProbedFlow> }> => {
      const name = `fp-${rules.slice(0, 5)}-${process.pid}`
      const { lab, dataDir } = up(name, renamed(name), ["--nftables", path.join(firewall, rules)])
      await lab.waitForLine(event("ha-role", { device: "faz-a", role: "primary" }), 30_000)
      await lab.waitForLine(event("listener-bound", { device: "lab", port: "udp/514" }), 30_000)
      await lab.waitForLine(event("listener-bound", { device: "faz-b", port: "tcp/541" }), 30_000)
      // A generous per-check timeout: the suite runs on a loaded machine.
      const result = await runFazlab(["probe", "--lab", dataDir, "--json", "--timeout", "8000"], { cwd: REPO_ROOT, timeoutMs: 150_000 })
      expect((await lab.interrupt(30_000)).code).toBe(0)
      expect(await namespaces(name)).toEqual([])
      return probedFlows(result)
    }

    /** `fazlab probe LAB.yaml --nftables FILE --json`: the probe starts the netns lab itself (the lab file's placement), probes it and removes it. */
    const probeFile = async (rules: string): Promise<{ readonly code: number | null; readonly flows: ReadonlyArray<ProbedFlow> }> => {
      const name = `pf-${rules.slice(0, 5)}-${process.pid}`
      const file = path.join(tempDir(), "lab.yaml")
      fs.writeFileSync(file, renamed(name))
      labs.push(name)
      const result = await runFazlab(["probe", file, "--nftables", path.join(firewall, rules), "--json", "--timeout", "8000"], { cwd: REPO_ROOT, timeoutMs: 150_000 })
      expect(result.stderr).toBe("")
      expect(await namespaces(name)).toEqual([])
      return probedFlows(result)
    }

    /** The flows blocked.nft cuts: syslog on UDP/514, HA on TCP/5199, management on TCP/541. */
    const cut = /\/(udp\/514|tcp\/5199|tcp\/541)\//u

    it("fazlab probe: allow-all.nft passes every flow", async () => {
      const { code, flows } = await probe("allow-all.nft")
      expect(flows.filter((flow) => flow.verdict !== "pass").map((flow) => `${flow.id}: ${flow.detail}`)).toEqual([])
      for (const port of ["udp/514", "tcp/5199", "tcp/541"]) expect(flows.some((flow) => flow.id.includes(`/${port}/`))).toBe(true)
      expect(code).toBe(0)
    }, 180_000)

    it("fazlab probe LAB.yaml --nftables blocked.nft: the probe's own netns lab fails on exactly the UDP/514, TCP/5199 and TCP/541 flows", async () => {
      const { code, flows } = await probeFile("blocked.nft")
      const failed = flows.filter((flow) => flow.verdict === "fail").map((flow) => flow.id).toSorted()
      expect(failed).toEqual(flows.filter((flow) => cut.test(flow.id)).map((flow) => flow.id).toSorted())
      for (const port of ["udp/514", "tcp/5199", "tcp/541"]) expect(failed.some((id) => id.includes(`/${port}/`)), port).toBe(true)
      expect(flows.filter((flow) => !cut.test(flow.id) && flow.verdict !== "pass").map((flow) => `${flow.id}: ${flow.detail}`)).toEqual([])
      expect(code).toBe(1)
    }, 180_000)

    it("allow-all.nft lets every flow through", async () => {
      expect(await flows("allow-all.nft")).toEqual({ "udp/514 syslog": "stored", "tcp/514 oftp": "open", "tcp/5199 ha": "open", "tcp/541 fgfm": "open" })
    }, 120_000)

    it("blocked.nft drops UDP/514 and TCP/5199 and rejects TCP/541, and nothing else", async () => {
      expect(await flows("blocked.nft")).toEqual({ "udp/514 syslog": "not stored", "tcp/514 oftp": "open", "tcp/5199 ha": "timeout", "tcp/541 fgfm": "refused" })
    }, 120_000)
  })
})
