/**
 * The scenario loader: decoded values and defaults, every error message (golden files under
 * test/golden/scenario-errors/), the shipped scenarios, and the committed JSON Schema.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parse } from "yaml"
import { describe, expect, it } from "vitest"
import { ScenarioError } from "../../src/lab/scenario/error.ts"
import { loadScenario, parseScenario, scenarioJsonSchema } from "../../src/lab/scenario/load.ts"

const root = join(import.meta.dirname, "..", "..")
const goldenDir = join(root, "test", "golden", "scenario-errors")
const scenariosDir = join(root, "scenarios")

/** The format's reference example (docs/notes), minus its `at: 0s` (it shows `at` and `after` side by side). */
const example = `
name: syslog-basics
description: FortiGates and a FortiClient send syslog over UDP and TCP.
devices:
  faz-1:
    kind: fortianalyzer
    serial: FAZ-VM0000000001
    syslog:
      max-frame-bytes: 65536
      udp-receive-buffer: 4194304
      max-connections: 1024
  fgt-1:
    kind: fortigate
    serial: FGT60FTK20000001
    hostname: fgt-1
    vdom: root
    autostart: true
    syslog:
      server: faz-1
      mode: udp
      format: default
      facility: local7
      port: 514
      rate: 50/s
      count: 100
      logs: [traffic-forward, event-system, utm-ips]
  fct-1:
    kind: forticlient
    hostname: laptop-7
    autostart: true
    syslog: { server: faz-1, mode: reliable, rate: 5/s, count: 20 }
steps:
  - title: TCP/514 is listening
    after: 2s
    do: { stop: fgt-1 }
    expect:
      - listening: { device: faz-1, port: tcp/514 }
      - not-listening: { device: faz-1, port: tcp/5199 }
      - logs: { analyzer: faz-1, from: fgt-1, exactly: 100 }
      - logs: { from: fgt-1, lost: 0, duplicated: 0 }
      - malformed: { device: faz-1, at-least: 1, reason: frame-too-large }
    within: 5s
`

const errorOf = (text: string, file = "x.yaml"): ScenarioError => {
  try {
    parseScenario(text, file)
  } catch (error) {
    if (error instanceof ScenarioError) return error
    throw error
  }
  throw new Error("expected a ScenarioError")
}

/** An analyzer of the lab file with no settings but its serial: every default, decoded. */
const DEFAULT_ANALYZER = {
  kind: "fortianalyzer",
  serial: "FAZ-VM0000000001",
  hostname: "faz-1",
  admin: {
    setting: { idleTimeout: 900000, idleTimeoutApi: 900000, adminHttpsRedirect: "enable", apiMaxBodyBytes: 1048576, apiRate: 50, loginMax: 32, maxConnections: 64, maxConnectionsPerSource: null, firstByteTimeout: 120000, remoteAuthTimeout: 5000 },
    user: { admin: { password: "", sshPublicKey: [], userType: "local", ldapServer: null, radiusServer: null, wildcard: "disable", apiKey: null, rpcPermit: "read-write", profileid: "Super_User" } },
    ldap: [],
    radius: []
  },
  syslog: { maxFrameBytes: 65536, udpReceiveBuffer: 4194304, maxConnections: 1024, maxConnectionsPerSource: null, firstByteTimeout: 120000, idleTimeout: 0 },
  https: { maxConnections: 1024, maxConnectionsPerSource: null, firstByteTimeout: 120000 },
  oftp: { psk: null, autoAuthorize: false, encAlgorithm: "high", sslMinProtoVersion: "default", maxFrameBytes: 1048576, handshakeTimeout: 10000, helloTimeout: 10000 },
  logForwardService: { acceptAggregation: "disable" },
  logForward: [],
  snmp: { sysinfo: { trapHighCpuThreshold: 80, trapLowMemoryThreshold: 80, logDiskThreshold: 90 }, community: [] },
  mail: [],
  alertEvent: [],
  dns: { primary: null, secondary: null },
  fdsSetting: { fortiguardAnycast: "enable", fortiguardAnycastSource: "fortinet", updateSchedule: { status: "enable", frequency: "every", time: "01:00" } },
  docker: { status: "disable", fortiwlm: "disable", fortisoar: "disable", fortisigconverter: "disable" },
  ntp: { status: "disable", syncInterval: 60, ntpserver: [] },
  logSettings: {
    rollingRegular: { fileSize: 200, when: "none", days: [], hour: 0, min: 0, upload: "disable", uploadTrigger: "on-roll", uploadHour: 0, serverType: "ftp", ip: null, port: 0, username: "", password: "", directory: "", gzipFormat: "disable" }
  },
  backup: {
    allSettings: { status: "disable", server: null, protocol: "sftp", user: "", passwd: "", directory: "", time: "00:00", weekDays: ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"] }
  },
  report: { output: [], schedule: [] },
  fortirecorder: { rtspTransport: "udp", cameraDiscovery: "disable", discoveryInterval: 60000 }
}

describe("parseScenario", () => {
  it("decodes the reference example to camelCase, milliseconds and logs per second", () => {
    const scenario = parseScenario(example, "example.yaml")
    expect(scenario.name).toBe("syslog-basics")
    expect([...scenario.devices.keys()]).toEqual(["faz-1", "fgt-1", "fct-1"])
    expect(scenario.devices.get("faz-1")).toEqual(DEFAULT_ANALYZER)
    expect(scenario.devices.get("fct-1")).toEqual({
      kind: "forticlient",
      serial: "FCT0000000001",
      hostname: "laptop-7",
      autostart: true,
      syslog: { server: "faz-1", mode: "reliable", format: "default", facility: "local7", port: 514, rate: 5, count: 20, logs: null },
      chromebook: null,
      fabric: null
    })
    expect(scenario.steps).toEqual([{
      title: "TCP/514 is listening",
      at: null,
      after: 2000,
      action: { stop: "fgt-1" },
      expect: [
        { listening: { device: "faz-1", port: "tcp/514" } },
        { notListening: { device: "faz-1", port: "tcp/5199" } },
        { logs: { analyzer: "faz-1", from: "fgt-1", exactly: 100 } },
        { logs: { analyzer: null, from: "fgt-1", lost: 0, duplicated: 0 } },
        { malformed: { device: "faz-1", atLeast: 1, reason: "frame-too-large" } }
      ],
      within: 5000
    }])
  })

  it("applies every default and derives serials per kind in file order", () => {
    const scenario = parseScenario(`
name: defaults
devices:
  fgt-b: { kind: fortigate, syslog: { server: siem.example.com:6514 } }
  faz-1: { kind: fortianalyzer }
  fgt-a: { kind: fortigate }
  fct-1: { kind: forticlient }
steps:
  - expect: { listening: { device: faz-1, port: udp/514 } }
`, "defaults.yaml")
    expect(scenario.description).toBeNull()
    expect(scenario.devices.get("fgt-b")).toEqual({
      kind: "fortigate",
      serial: "FGVM010000000001",
      hostname: "fgt-b",
      vdom: "root",
      platform: "FortiGate-60F",
      version: "v7.4.4",
      autostart: true,
      syslog: { server: "siem.example.com:6514", mode: "udp", format: "default", facility: "local7", port: 514, rate: 10, count: null, logs: null },
      fortianalyzer: null,
      centralManagement: null,
      replay: null
    })
    expect(scenario.devices.get("fgt-a")).toMatchObject({ serial: "FGVM010000000002", syslog: null })
    expect(scenario.devices.get("faz-1")).toEqual(DEFAULT_ANALYZER)
    expect(scenario.devices.get("fct-1")).toMatchObject({ serial: "FCT0000000001", hostname: "fct-1" })
    expect(scenario.steps[0]).toEqual({
      title: null,
      at: null,
      after: null,
      action: null,
      expect: [{ listening: { device: "faz-1", port: "udp/514" } }],
      within: 0
    })
  })

  it("converts durations, rates and raw payloads", () => {
    const scenario = parseScenario(`
name: units
devices:
  faz-1: { kind: fortianalyzer }
  fgt-1: { kind: fortigate, syslog: { server: faz-1, rate: 600/m } }
steps:
  - at: 1.5s
    do: { send-raw: { to: faz-1, port: tcp/514, text: "<13>hi\\n" } }
  - after: 250ms
    do: { send-raw: { to: faz-1, port: udp/514, hex: "00 ff 3c", repeat: 3 } }
    within: 2m
  - do: { burst: { device: fgt-1, count: 1000 } }
`, "units.yaml")
    expect(scenario.devices.get("fgt-1")).toMatchObject({ syslog: { rate: 10 } })
    const [first, second, third] = scenario.steps
    expect(first?.at).toBe(1500)
    expect(first?.action).toEqual({ sendRaw: { to: "faz-1", port: "tcp/514", payload: new TextEncoder().encode("<13>hi\n"), repeat: 1 } })
    expect(second?.after).toBe(250)
    expect(second?.within).toBe(120_000)
    expect(second?.action).toEqual({ sendRaw: { to: "faz-1", port: "udp/514", payload: Uint8Array.of(0x00, 0xff, 0x3c), repeat: 3 } })
    expect(third?.action).toEqual({ burst: { device: "fgt-1", count: 1000 } })
  })

  it("lets a lab file for `fazlab up` omit steps when asked", () => {
    const text = "name: lab\ndevices:\n  faz-1: { kind: fortianalyzer }\n"
    expect(parseScenario(text, "lab.yaml", { stepsRequired: false }).steps).toEqual([])
    expect(errorOf(text, "lab.yaml").message).toBe(
      "lab.yaml:1:1 steps: expected at least one step (only a lab file for \"fazlab up\" may have none), got none"
    )
  })

  it("reports every problem with file, line, column, path, expected and got", () => {
    const error = errorOf(`
name: two-problems
devices:
  faz-1: { kind: fortianalyzer }
  fgt-1:
    kind: fortigate
    syslog: { server: faz-1, mode: tcp }
steps:
  - within: soon
`, "scenarios/x.yaml")
    expect(error.issues).toEqual([
      { file: "scenarios/x.yaml", line: 7, column: 36, path: "devices.fgt-1.syslog.mode", expected: "\"udp\" | \"reliable\" | \"legacy-reliable\"", got: "\"tcp\"" },
      { file: "scenarios/x.yaml", line: 9, column: 13, path: "steps[0].within", expected: "a duration such as \"500ms\", \"5s\" or \"2m\"", got: "\"soon\"" }
    ])
    expect(error.message.split("\n")).toHaveLength(2)
    expect(error.message).not.toContain("    at ")
  })

  it("reports an empty file as missing its required keys", () => {
    expect(errorOf("", "empty.yaml").message).toBe("empty.yaml: expected a mapping, got an empty value")
  })
})

describe("loadScenario", () => {
  it("names a missing file in one line", async () => {
    const missing = join(root, "test", "golden", "no-such-scenario.yaml")
    await expect(loadScenario(missing)).rejects.toBeInstanceOf(ScenarioError)
    await expect(loadScenario(missing)).rejects.toHaveProperty(
      "message",
      `${missing}: expected a readable scenario file, got no such file (check the path)`
    )
  })

  it("reads and decodes a file", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "fazlab-scenario-")), "minimal.yaml")
    writeFileSync(file, "name: minimal\ndevices:\n  faz-1: { kind: fortianalyzer }\nsteps:\n  - expect: { listening: { device: faz-1, port: tcp/514 } }\n")
    const scenario = await loadScenario(file)
    expect(scenario.name).toBe("minimal")
  })
})

describe("golden error messages", () => {
  const cases = readdirSync(goldenDir).filter((name) => name.endsWith(".yaml")).toSorted()

  it("has the required cases", () => {
    expect(cases).toEqual(expect.arrayContaining([
      "unknown-kind.yaml", "typo-key.yaml", "bad-duration.yaml", "bad-port.yaml", "unknown-server.yaml",
      "unknown-expect-device.yaml", "yaml-syntax.yaml", "at-and-after.yaml", "send-raw-text-and-hex.yaml"
    ]))
  })

  it.each(cases)("%s", (name) => {
    const expected = readFileSync(join(goldenDir, name.replace(/\.yaml$/u, ".errors.txt")), "utf8")
    expect(`${errorOf(readFileSync(join(goldenDir, name), "utf8"), name).message}\n`).toBe(expected)
  })
})

describe("shipped scenarios", () => {
  const shipped = readdirSync(scenariosDir).filter((name) => name.endsWith(".yaml"))
  if (shipped.length === 0) it.skip("no scenarios/*.yaml yet", () => {})
  else {
    it.each(shipped)("%s parses without issues", async (name) => {
      await expect(loadScenario(join(scenariosDir, name))).resolves.toHaveProperty("name")
    })
  }
})

describe("scenarioJsonSchema", () => {
  it("describes the file format in draft 2020-12", () => {
    const schema = scenarioJsonSchema()
    expect(schema).toMatchObject({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      required: ["name", "devices"],
      additionalProperties: false,
      properties: { devices: { type: "object" }, steps: { type: "array" } }
    })
    const text = JSON.stringify(schema)
    for (const key of ["max-frame-bytes", "not-listening", "send-raw", "at-least", "\"do\""]) expect(text).toContain(key)
  })

  it("matches the committed scenarios/fazlab.schema.json (stale: run npm run schema)", () => {
    const committed = readFileSync(join(scenariosDir, "fazlab.schema.json"), "utf8")
    expect(committed, "scenarios/fazlab.schema.json is stale: run npm run schema").toBe(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`)
  })

  it("accepts the reference example and rejects a typo'd key", () => {
    const schema = scenarioJsonSchema()
    expect(jsonSchemaErrors(schema, parse(example))).toEqual([])
    expect(jsonSchemaErrors(schema, parse(readFileSync(join(goldenDir, "typo-key.yaml"), "utf8")))).toEqual([
      "/devices/fgt-1: matches no alternative"
    ])
  })
})

/** A small validator for the JSON Schema keywords the exported document uses, enough to check it against real files. */
const jsonSchemaErrors = (schema: unknown, value: unknown, at = ""): Array<string> => {
  if (typeof schema !== "object" || schema === null) return []
  const get = (key: string): unknown => Reflect.get(schema, key)
  const errors: Array<string> = []
  const type = get("type")
  const isObject = typeof value === "object" && value !== null && !Array.isArray(value)
  const typeOk = type === undefined ||
    (type === "object" && isObject) || (type === "array" && Array.isArray(value)) ||
    (type === "string" && typeof value === "string") || (type === "boolean" && typeof value === "boolean") ||
    (type === "number" && typeof value === "number") || (type === "integer" && Number.isInteger(value))
  if (!typeOk) return [`${at}: not ${String(type)}`]
  const enumeration = get("enum")
  if (Array.isArray(enumeration) && !enumeration.includes(value)) errors.push(`${at}: not one of ${enumeration.join(", ")}`)
  const pattern = get("pattern")
  if (typeof pattern === "string" && typeof value === "string" && !new RegExp(pattern, "u").test(value)) errors.push(`${at}: does not match ${pattern}`)
  const minimum = get("minimum")
  if (typeof minimum === "number" && typeof value === "number" && value < minimum) errors.push(`${at}: below ${minimum}`)
  const maximum = get("maximum")
  if (typeof maximum === "number" && typeof value === "number" && value > maximum) errors.push(`${at}: above ${maximum}`)
  const minLength = get("minLength")
  if (typeof minLength === "number" && typeof value === "string" && value.length < minLength) errors.push(`${at}: shorter than ${minLength}`)
  for (const part of [get("allOf")].flat()) if (part !== undefined) errors.push(...jsonSchemaErrors(part, value, at))
  const anyOf = get("anyOf")
  if (Array.isArray(anyOf) && !anyOf.some((member) => jsonSchemaErrors(member, value, at).length === 0)) errors.push(`${at}: matches no alternative`)
  const items = get("items")
  if (Array.isArray(value) && items !== undefined) value.forEach((item, i) => errors.push(...jsonSchemaErrors(items, item, `${at}/${i}`)))
  if (isObject) {
    const properties = get("properties") ?? {}
    const patterns = Object.entries(get("patternProperties") ?? {})
    const required = get("required")
    if (Array.isArray(required)) for (const key of required) if (!(key in value)) errors.push(`${at}: missing ${String(key)}`)
    for (const [key, member] of Object.entries(value)) {
      const declared: unknown = Reflect.get(properties, key)
      const matching = patterns.filter(([source]) => new RegExp(source, "u").test(key))
      if (declared !== undefined) errors.push(...jsonSchemaErrors(declared, member, `${at}/${key}`))
      for (const [, memberSchema] of matching) errors.push(...jsonSchemaErrors(memberSchema, member, `${at}/${key}`))
      if (declared === undefined && matching.length === 0 && get("additionalProperties") === false) errors.push(`${at}: additional property ${key}`)
    }
  }
  return errors
}
