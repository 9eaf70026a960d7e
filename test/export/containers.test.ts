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
 * the FortiGate logging to the group's name (a Compose network alias of both members).
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

/** The exported Compose file of `labText` with each service running as a namespace; the control service's output. */
const runExported = async (labText: string): Promise<RunningFazlab> => {
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

  const control = start("fazlab-control", plan.router)
  // The devices in reverse start order: the lab begins each when its turn comes, whenever it dialed in.
  for (const device of [...scenario.devices.keys()].toReversed()) {
    hosts(device)
    start(device, plan.devices.get(device)?.namespace ?? "?")
  }
  return control
}

const event = (type: string, fields: Readonly<Record<string, unknown>>) => (line: string) => {
  const parsed = jsonLine(line)
  return parsed?.["type"] === type && Object.entries(fields).every(([key, value]) => parsed[key] === value)
}

describe.skipIf(!canNetns)("an exported Compose lab, its services run as namespaces (Linux, root, ip netns)", () => {
  it("the nodes find each other and the control service by name, share the lab CA, and the FortiGate's OFTP and syslog reach the analyzer", async () => {
    const control = await runExported(LAB_TEXT)
    // OFTP: TLS with the analyzer's certificate checked against the lab CA, and the FortiGate's client certificate.
    await control.waitForLine(event("logs-acked", { device: "fgt-1", to: "faz-1" }), 60_000)
    await control.waitForLine(event("logs-stored", { device: "faz-1", sender: "fgt-1" }), 30_000)
    // The analyzer listens on every address of its own namespace, as in a container.
    expect(control.lines.some(event("listener-bound", { device: "faz-1", port: "tcp/514", address: "0.0.0.0" }))).toBe(true)
    expect((await control.interrupt(30_000)).code).toBe(0)
  }, 120_000)

  it("an HA pair elects and syncs over TCP/5199 by name, and the FortiGate's logs reach the primary by the group's name", async () => {
    const control = await runExported(HA_LAB_TEXT)
    await control.waitForLine(event("ha-role", { device: "faz-a", role: "primary" }), 60_000)
    await control.waitForLine(event("ha-synced", { device: "faz-b" }), 60_000)
    await control.waitForLine(event("logs-acked", { device: "fgt-1", to: "lab" }), 60_000)
    await control.waitForLine(event("logs-stored", { device: "faz-a", sender: "fgt-1" }), 30_000)
    expect((await control.interrupt(30_000)).code).toBe(0)
  }, 150_000)
})
