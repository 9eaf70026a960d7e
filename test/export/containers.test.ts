/**
 * An exported lab runs: every service of the Compose file `fazlab export compose` writes is
 * started as the container it describes would be, without a container engine. Each gets a
 * network namespace of its own (one per device, the control service in the lab network's router
 * namespace: src/placement/netns.ts builds them), the names of the other services in its
 * /etc/hosts (`ip netns exec` binds /etc/netns/NS/hosts over /etc/hosts, as a container network's
 * DNS would answer), its `command` exactly, its `environment` as Compose interpolates it, and its
 * mounts as local folders (the lab file, the lab CA that `fazlab export pki` wrote, a data folder
 * for its working directory). Then the FortiGate's OFTP logs are acknowledged by the analyzer
 * (TLS both ways: the two containers trust one lab CA) and its UDP syslog is stored, as the
 * control service's event stream shows; and an HA pair elects and syncs over TCP/5199 by name,
 * the FortiGate logging to the group's name (a Compose network alias of both members). When the
 * control service stops in order, every device service exits 0 with it (`lab-stopping`); when it
 * is killed outright they keep dialing, and a control service started again takes them as they are.
 *
 * Needs root and `ip netns`; skipped with the reason printed otherwise. Only the namespaces the
 * test makes are addressed, and they (with their /etc/netns folders) are removed after it.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import YAML from "yaml"
import { parseScenario } from "../../src/lab/scenario/load.ts"
import { netnsPlan } from "../../src/placement/netns-plan.ts"
import { buildNetns, teardownNetns } from "../../src/placement/netns.ts"
import { jsonLine, removeTempDirs, runFazlab, type RunningFazlab, startFazlab, tempDir } from "../support/cli.ts"

const canNetns = process.platform === "linux" && process.getuid?.() === 0 && spawnSync("ip", ["netns", "list"]).status === 0
const SKIP_REASON = "running the exported containers as namespaces needs Linux, root and ip netns (iproute2); run the tests as root, as CI does"
if (!canNetns) console.warn(`test/export/containers.test.ts skipped: ${SKIP_REASON}`)

const LAB = `fzc-${process.pid}`
const LAB_TEXT = `
name: ${LAB}
devices:
  faz-1:
    kind: fortianalyzer
    serial: FAZ-VM0000000001
    oftp: { auto-authorize: true }
  fgt-1:
    kind: fortigate
    serial: FGT60FTK20000001
    syslog: { server: faz-1, mode: udp, rate: 20/s }
    fortianalyzer: { server: faz-1, serial: FAZ-VM0000000001, rate: 20/s }
`

const HA_LAB = `fzh-${process.pid}`
const HA_LAB_TEXT = `
name: ${HA_LAB}
devices:
  faz-a:
    kind: fortianalyzer
    serial: FAZ-VM0000000001
    oftp: { auto-authorize: true }
    ha: { priority: 120 }
  faz-b:
    kind: fortianalyzer
    serial: FAZ-VM0000000002
    oftp: { auto-authorize: true }
  fgt-1:
    kind: fortigate
    serial: FGT60FTK20000001
    fortianalyzer: { server: lab, serial: [FAZ-VM0000000001, FAZ-VM0000000002], rate: 20/s }
ha:
  lab:
    members: [faz-a, faz-b]
    hb-interval: 1s
`

interface ComposeService {
  readonly command: ReadonlyArray<string>
  readonly environment: Readonly<Record<string, string>>
  readonly working_dir: string
  readonly configs?: ReadonlyArray<{ readonly source: string; readonly target: string }>
  readonly volumes?: ReadonlyArray<{ readonly source: string; readonly target: string }>
}

interface ComposeFile {
  readonly services: Readonly<Record<string, ComposeService>>
  readonly configs: Readonly<Record<string, { readonly file: string }>>
}

const running: RunningFazlab[] = []
const hostsFolders: string[] = []

afterEach(async () => {
  for (const container of running.splice(0)) await container.kill()
  await teardownNetns(LAB)
  await teardownNetns(HA_LAB)
  for (const folder of hostsFolders.splice(0)) fs.rmSync(folder, { recursive: true, force: true })
})
afterAll(removeTempDirs)

/** `${NAME:?message}` and `${NAME}` as Compose interpolates them from `env`. */
const interpolate = (text: string, env: Readonly<Record<string, string>>): string =>
  text.replace(/\$\{([A-Z_]+)(?::\?[^}]*)?\}/gu, (_, name: string) => env[name] ?? "")

/** An exported lab running: its control service, its device services by name, and a control service started anew. */
interface ExportedLab {
  readonly control: RunningFazlab
  readonly nodes: ReadonlyMap<string, RunningFazlab>
  readonly startControl: () => RunningFazlab
}

/** The exported Compose file of `labText` with each service running as a namespace. */
const runExported = async (labText: string): Promise<ExportedLab> => {
  const dir = tempDir("fazlab-containers-")
  fs.writeFileSync(path.join(dir, "lab.yaml"), labText)
  const exported = await runFazlab(["export", "compose", "lab.yaml", "--out", "compose.yaml"], { cwd: dir })
  expect(exported.code, exported.stderr).toBe(0)
  const pki = await runFazlab(["export", "pki", "lab.yaml", "--out", "pki"], { cwd: dir })
  expect(pki.code, pki.stderr).toBe(0)
  expect(fs.readdirSync(path.join(dir, "pki")).toSorted()).toEqual(["ca.key", "ca.pem"])
  const compose = YAML.parse(fs.readFileSync(path.join(dir, "compose.yaml"), "utf8")) as ComposeFile

  // The network: one namespace per device, the router's for the control service.
  const scenario = parseScenario(labText, "lab.yaml", { stepsRequired: false })
  const plan = netnsPlan(scenario)
  await buildNetns(plan, null)
  const hosts = (device: string) => {
    const own = plan.devices.get(device)
    const lines = [
      "127.0.0.1 localhost",
      ...[...plan.devices.values()].map((other) => `${other.address} ${other.id}`),
      // An HA group's name is a network alias of its members in Compose: each of them answers.
      ...Object.entries(scenario.ha).flatMap(([group, { members }]) => members.map((member) => `${plan.devices.get(member)?.address ?? "?"} ${group}`)),
      // The control service, in the router's namespace: its address on this device's zone.
      `${own?.gateway ?? "?"} fazlab-control`
    ]
    const folder = path.join("/etc/netns", own?.namespace ?? "?")
    fs.mkdirSync(folder, { recursive: true })
    hostsFolders.push(folder)
    fs.writeFileSync(path.join(folder, "hosts"), `${lines.join("\n")}\n`)
  }

  const env = { FAZLAB_CONTROL_TOKEN: `token-${process.pid}-0123456789abcdef` }
  const start = (name: string, netns: string): RunningFazlab => {
    const service = compose.services[name]
    if (service === undefined) throw new Error(`the Compose file has no service ${name}`)
    // Its mounts, as local folders: the lab file, the lab CA, a data folder for its working directory.
    const mounts = new Map<string, string>([[service.working_dir, tempDir(`fazlab-${name}-`)]])
    for (const config of service.configs ?? []) mounts.set(config.target, path.resolve(dir, compose.configs[config.source]?.file ?? "?"))
    for (const volume of service.volumes ?? []) mounts.set(volume.target, path.resolve(dir, volume.source))
    const args = service.command.map((arg) => mounts.get(arg) ?? arg)
    const environment = Object.fromEntries(Object.entries(service.environment).map(([key, value]) => [key, interpolate(value, env)]))
    const container = startFazlab(args, { cwd: mounts.get(service.working_dir) ?? dir, env: environment, netns })
    running.push(container)
    return container
  }

  const startControl = () => start("fazlab-control", plan.router)
  const control = startControl()
  // The devices in reverse start order: the lab begins each when its turn comes, whenever it dialed in.
  const nodes = new Map<string, RunningFazlab>()
  for (const device of [...scenario.devices.keys()].toReversed()) {
    hosts(device)
    nodes.set(device, start(device, plan.devices.get(device)?.namespace ?? "?"))
  }
  return { control, nodes, startControl }
}

/** Every device service ends on its own with exit 0, saying that the lab stopped it. */
const nodesStopWithTheLab = async (nodes: ReadonlyMap<string, RunningFazlab>): Promise<void> => {
  for (const [device, node] of nodes) {
    const result = await node.exited(30_000)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toContain(`${device}: the lab is stopping; ${device} stops and this node exits`)
  }
}

const event = (type: string, fields: Readonly<Record<string, unknown>>) => (line: string) => {
  const parsed = jsonLine(line)
  return parsed?.["type"] === type && Object.entries(fields).every(([key, value]) => parsed[key] === value)
}

describe.skipIf(!canNetns)("an exported Compose lab, its services run as namespaces (Linux, root, ip netns)", () => {
  it("the nodes find each other and the control service by name, share the lab CA, and the FortiGate's OFTP and syslog reach the analyzer", async () => {
    const { control, nodes } = await runExported(LAB_TEXT)
    // OFTP: TLS with the analyzer's certificate checked against the lab CA, and the FortiGate's client certificate.
    await control.waitForLine(event("logs-acked", { device: "fgt-1", to: "faz-1" }), 60_000)
    await control.waitForLine(event("logs-stored", { device: "faz-1", sender: "fgt-1" }), 30_000)
    // The analyzer listens on every address of its own namespace, as in a container.
    expect(control.lines.some(event("listener-bound", { device: "faz-1", port: "tcp/514", address: "0.0.0.0" }))).toBe(true)
    expect((await control.interrupt(30_000)).code).toBe(0)
    // The orderly stop told each node (lab-stopping): the FortiGate said goodbye before the analyzer stopped.
    expect(control.lines.some(event("device-stopped", { device: "fgt-1" }))).toBe(true)
    expect(control.lines.findIndex(event("device-stopped", { device: "fgt-1" }))).toBeLessThan(control.lines.findIndex(event("device-stopped", { device: "faz-1" })))
    await nodesStopWithTheLab(nodes)
  }, 120_000)

  it("a control service killed outright leaves its nodes dialing; started again, it takes them as they are, and its orderly stop ends them", async () => {
    const { control, nodes, startControl } = await runExported(LAB_TEXT)
    await control.waitForLine(event("logs-stored", { device: "faz-1", sender: "fgt-1" }), 60_000)
    await control.kill()
    const again = startControl()
    // The same node processes dial the new control service, their devices still running: logs
    // flow again, and the FortiGate's node reports (its events since the kill among them).
    await again.waitForLine(event("logs-stored", { device: "faz-1", sender: "fgt-1" }), 60_000)
    await again.waitForLine(event("logs-acked", { device: "fgt-1", to: "faz-1" }), 60_000)
    for (const [device, node] of nodes) {
      expect(node.child.exitCode, `${device} exited: ${node.stderr()}`).toBeNull()
      expect(node.stderr()).toContain(`${device}: lost the lab: the control connection closed`)
    }
    expect((await again.interrupt(30_000)).code).toBe(0)
    await nodesStopWithTheLab(nodes)
  }, 150_000)

  it("an HA pair elects and syncs over TCP/5199 by name, and the FortiGate's logs reach the primary by the group's name", async () => {
    const { control, nodes } = await runExported(HA_LAB_TEXT)
    await control.waitForLine(event("ha-role", { device: "faz-a", role: "primary" }), 60_000)
    await control.waitForLine(event("ha-synced", { device: "faz-b" }), 60_000)
    await control.waitForLine(event("logs-acked", { device: "fgt-1", to: "lab" }), 60_000)
    await control.waitForLine(event("logs-stored", { device: "faz-a", sender: "fgt-1" }), 30_000)
    expect((await control.interrupt(30_000)).code).toBe(0)
    await nodesStopWithTheLab(nodes)
  }, 150_000)
})
