/**
 * The kind registry: a kind that fazlab does not ship (test/fixtures/kinds/fixture-mail/, one
 * folder) is registered with one line and is then a device like any other, with no module
 * outside its folder edited: the scenario schema decodes it (defaults, serial prefix, kebab-case
 * keys), the loader reports its bad settings and references with file, line and path, the JSON
 * Schema describes it, and a scenario runs it: it starts after the analyzer it dials, binds its
 * documented port through the port plan, its logs are stored, and the lab finds its serial.
 */
import * as net from "node:net"
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import { KindRegistry, registry as shipped, shippedKinds } from "../../src/devices/registry.ts"
import { catalog } from "../../src/catalog/catalog.ts"
import { runScenario } from "../../src/lab/runner.ts"
import { ScenarioError } from "../../src/lab/scenario/error.ts"
import { parseScenario, scenarioJsonSchema } from "../../src/lab/scenario/load.ts"
import { lifecycleOrder, plannedPorts } from "../../src/lab/topology.ts"
import { RealLabClock } from "../../src/machines/clock.ts"
import type { LabEvent } from "../../src/events/events.ts"
import { fixtureMail } from "../fixtures/kinds/fixture-mail/kind.ts"

/** The registry line. */
const registry = new KindRegistry([...shippedKinds, fixtureMail])

const LAB = `
name: fixture-kind
devices:
  mail-1:
    kind: fixture-mail
    syslog: { server: faz-1, mode: reliable, rate: 100/s, count: 30 }
  faz-1: { kind: fortianalyzer }
  mail-2: { kind: fixture-mail, hostname: relay, smtp-banner: "relay ESMTP" }
steps:
  - expect:
      - { listening: { device: mail-1, port: tcp/25 } }
      - { logs: { from: mail-1, exactly: 30, lost: 0, duplicated: 0 } }
    within: 20s
`

const errorOf = (text: string, kinds = registry): string => {
  try {
    parseScenario(text, "mail.yaml", { registry: kinds })
  } catch (error) {
    if (error instanceof ScenarioError) return error.message
    throw error
  }
  throw new Error("expected a ScenarioError")
}

describe("a kind registered from a folder under test/", () => {
  it("decodes with its defaults, its serial prefix and its hostname", () => {
    const scenario = parseScenario(LAB, "mail.yaml", { registry })
    expect(scenario.devices.get("mail-1")).toEqual({
      kind: "fixture-mail",
      serial: "FEVM010000000001",
      hostname: "mail-1",
      smtpBanner: "fixture ESMTP ready",
      syslog: { server: "faz-1", mode: "reliable", format: "default", facility: "local7", port: 514, rate: 100, count: 30, logs: null }
    })
    expect(scenario.devices.get("mail-2")).toMatchObject({ serial: "FEVM010000000002", hostname: "relay", smtpBanner: "relay ESMTP", syslog: null })
    expect(scenario.devices.get("faz-1")).toMatchObject({ serial: "FAZ-VM0000000001" })
  })

  it("reports its bad settings and references with file, line and path", () => {
    expect(errorOf(`
name: bad-mail
devices:
  faz-1: { kind: fortianalyzer }
  mail-1:
    kind: fixture-mail
    smtp-banner: ""
    smtp-baner: typo
steps:
  - expect: { listening: { device: mail-1, port: tcp/25 } }
`)).toBe([
      "mail.yaml:7:18 devices.mail-1.smtp-banner: expected a non-empty text, got \"\"",
      "mail.yaml:8:5 devices.mail-1.smtp-baner: expected one of kind, serial, hostname, smtp-banner, syslog, got unknown key \"smtp-baner\" (did you mean \"smtp-banner\"?)"
    ].join("\n"))
    expect(errorOf(`
name: bad-mail
devices:
  faz-1: { kind: fortianalyzer }
  fgt-1: { kind: fortigate }
  mail-1:
    kind: fixture-mail
    syslog: { server: fgt-1 }
  mail-2:
    kind: fixture-mail
    syslog: { server: nowhere }
steps:
  - expect: { listening: { device: mail-1, port: tcp/25 } }
`)).toBe([
      "mail.yaml:8:23 devices.mail-1.syslog.server: expected a fortianalyzer of this lab (faz-1), got \"fgt-1\", a fortigate",
      "mail.yaml:11:23 devices.mail-2.syslog.server: expected a fortianalyzer of this lab (faz-1), or a host outside it such as siem.example.com or 10.0.0.5:514, got \"nowhere\""
    ].join("\n"))
  })

  it("is unknown to the shipped registry", () => {
    expect(errorOf(LAB, shipped)).toContain("devices.mail-1.kind: expected \"fortianalyzer\" | \"fortigate\" | \"forticlient\" | \"fortimanager\" | \"fortiportal\" | \"fortirecorder\" | \"fortirecorder-camera\" | \"smtp-relay\" | \"dns-server\" | \"ntp-server\" | \"fortiguard\" | \"fortinet-registry\" | \"file-server\" | \"ldap-server\" | \"radius-server\", got \"fixture-mail\"")
  })

  it("is in the JSON Schema of its registry, with kebab-case keys, and not in the shipped one", () => {
    const text = JSON.stringify(scenarioJsonSchema(registry))
    expect(text).toContain("\"fixture-mail\"")
    expect(text).toContain("\"smtp-banner\"")
    expect(JSON.stringify(scenarioJsonSchema())).not.toContain("fixture-mail")
  })

  it("starts after the analyzer it dials, stops before it, and plans its documented port", () => {
    const scenario = parseScenario(LAB, "mail.yaml", { registry })
    expect(lifecycleOrder(scenario, registry)).toEqual({ start: ["faz-1", "mail-2", "mail-1"], stop: ["mail-1", "faz-1", "mail-2"] })
    expect(plannedPorts(scenario, registry, new Map())).toEqual(expect.arrayContaining([{ at: "mail-1", port: "tcp/25" }, { at: "mail-2", port: "tcp/25" }]))
  })

  it("names catalog rows that exist, as every shipped kind does", () => {
    const ids = catalog.rows.map((row) => row.id)
    for (const kind of registry.kinds) for (const row of kind.catalogRows) expect(ids, kind.name).toContain(row)
  })

  it("runs in a scenario: its port accepts, its logs are stored, its serial is found", async () => {
    const events: LabEvent[] = []
    let serial = ""
    let banner = ""
    const result = await Effect.runPromise(runScenario({
      scenario: parseScenario(LAB, "mail.yaml", { registry }),
      file: "mail.yaml",
      dataDir: null,
      portBase: "ephemeral",
      addressing: "per-device",
      clock: new RealLabClock(),
      registry,
      onEvent: (event) => void events.push(event),
      onStarted: (lab) =>
        Effect.promise(async () => {
          serial = lab.serialOf("mail-2")
          const target = lab.plan.resolve("mail-2", "tcp/25")
          banner = await readLine(target.address, target.actualPort)
        })
    }))
    expect(result.expectations.map((e) => [e.title, e.passed, e.detail])).toEqual([
      [expect.any(String), true, expect.stringContaining("accepts (tcp/25)")],
      [expect.any(String), true, "30 stored from mail-1; 30 sent, 0 lost, 0 duplicated"]
    ])
    expect(serial).toBe("FEVM010000000002")
    expect(banner).toBe("220 relay ESMTP")
    const started = events.flatMap((e) => (e.type === "device-started" ? [e.device] : []))
    expect(started).toEqual(["faz-1", "mail-2", "mail-1"])
    expect(events).toContainEqual(expect.objectContaining({ type: "device-started", device: "mail-1", kind: "fixture-mail" }))
    expect(events).toContainEqual(expect.objectContaining({ type: "listener-bound", device: "mail-1", port: "tcp/25" }))
  }, 30_000)
})

/** The first line a TCP server sends, as a client reads it. */
const readLine = (host: string, port: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ host, port })
    let text = ""
    socket.setEncoding("utf8")
    socket.on("data", (chunk: string) => (text += chunk))
    socket.on("end", () => resolve(text.split("\r\n")[0] ?? ""))
    socket.on("error", reject)
  })
