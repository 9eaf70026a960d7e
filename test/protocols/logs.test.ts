/** The FortiOS log generator: header layout, log IDs, address ranges, determinism, and a full wire round trip. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { formatKeyValues } from "../../src/protocols/fortios/kv.ts"
import { LOG_KIND_INFO, LOG_KINDS, makeFortiOsLog, type FortiOsLogInput, type LogKind } from "../../src/protocols/fortios/logs.ts"
import { encodeSyslog, FACILITIES, SEVERITIES } from "../../src/protocols/syslog/encode.ts"
import { encodeOctetCounted, SyslogDeframer } from "../../src/protocols/syslog/framing.ts"
import { parseSyslog } from "../../src/protocols/syslog/message.ts"

/** A small seeded PRNG (mulberry32) so every run sees the same records. */
function seeded(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const device = { name: "fgt-1", serial: "FGT60FTK20000001" }
const EPOCH_NS = 1795845247123456789n // 2026-11-28T05:54:07.123456789Z

const make = (kind: LogKind, overrides: Partial<FortiOsLogInput> = {}) =>
  makeFortiOsLog({ device, kind, seq: 7, epochNs: EPOCH_NS, random: seeded(1), ...overrides })

describe("makeFortiOsLog", () => {
  it("writes the FortiOS 7.x header in FortiOS order", () => {
    expect(formatKeyValues(make("traffic-forward"))).toMatch(
      /^date=2026-11-28 time=05:54:07 devname="fgt-1" devid="FGT60FTK20000001" eventtime=1795845247123456789 tz="\+0000" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10\.\S+ srcport=\d+ srcintf="port2" /
    )
  })

  it("puts eventtype between subtype and level in UTM logs", () => {
    const keys = make("utm-ips").map(([key]) => key)
    expect(keys.slice(0, 13)).toEqual(["date", "time", "devname", "devid", "eventtime", "tz", "logid", "type", "subtype", "eventtype", "level", "vd", "severity"])
  })

  it("writes the local date and time of the zone, and the VDOM", () => {
    const log = new Map(make("event-system", { tz: "-0800", device: { ...device, vdom: "dmz" } }))
    expect([log.get("date"), log.get("time"), log.get("tz"), log.get("vd")]).toEqual(["2026-11-27", "21:54:07", "-0800", "dmz"])
    expect(new Map(make("event-system", { tz: "UTC" })).get("tz")).toBe("+0000")
  })

  it.each(LOG_KINDS)("%s carries the real log ID, type and level", (kind) => {
    const log = new Map(make(kind))
    const info = LOG_KIND_INFO[kind]
    expect([log.get("logid"), log.get("type"), log.get("subtype"), log.get("level")]).toEqual([info.logid, info.type, info.subtype, info.level])
    expect(log.get("msg") ?? log.get("action")).toBeDefined()
  })

  it("uses FortiOS' own log IDs", () => {
    expect(Object.fromEntries(LOG_KINDS.map((kind) => [kind, LOG_KIND_INFO[kind].logid]))).toEqual({
      "traffic-forward": "0000000013",
      "traffic-local": "0001000014",
      "event-system": "0100032001",
      "event-vpn": "0101037127",
      "event-user": "0102043008",
      "utm-webfilter": "0316013056",
      "utm-ips": "0419016384",
      "utm-virus": "0211008192",
      "utm-app-ctrl": "1059028704"
    })
  })

  it("is deterministic for the same inputs and varies with the random source", () => {
    for (const kind of LOG_KINDS) {
      expect(make(kind, { random: seeded(5) })).toEqual(make(kind, { random: seeded(5) }))
    }
    const a = LOG_KINDS.map((kind) => formatKeyValues(make(kind, { random: seeded(5) })))
    const b = LOG_KINDS.map((kind) => formatKeyValues(make(kind, { random: seeded(6) })))
    expect(a).not.toEqual(b)
  })

  it("uses only private and documentation IPv4 ranges", () => {
    const allowed = /^(10\.\d+\.\d+\.\d+|192\.0\.2\.\d+|198\.51\.100\.\d+|203\.0\.113\.\d+)$/
    fc.assert(
      fc.property(fc.constantFrom(...LOG_KINDS), fc.integer(), fc.nat(), (kind, seed, seq) => {
        const text = formatKeyValues(make(kind, { random: seeded(seed), seq }))
        for (const address of text.match(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g) ?? []) expect(address).toMatch(allowed)
      }),
      { numRuns: 300 }
    )
  })

  it("survives the wire: format, syslog, octet counting, deframing, parsing", () => {
    fc.assert(
      fc.property(fc.constantFrom(...LOG_KINDS), fc.integer(), fc.constantFrom("default", "rfc5424", "rfc3164"), (kind, seed, format) => {
        const log = make(kind, { random: seeded(seed) })
        const message = formatKeyValues(log)
        const frame = encodeSyslog({
          format,
          facility: FACILITIES.local7,
          severity: SEVERITIES[LOG_KIND_INFO[kind].level],
          hostname: device.name,
          timestamp: new Date(Number(EPOCH_NS / 1_000_000n)),
          message
        })
        const { frames } = new SyslogDeframer({ maxFrameBytes: 64 * 1024 }).push(encodeOctetCounted(frame))
        expect(frames).toHaveLength(1)
        const parsed = parseSyslog(frames[0] ?? Buffer.alloc(0))
        expect(parsed).toMatchObject({
          ok: true,
          facility: 23,
          severity: SEVERITIES[LOG_KIND_INFO[kind].level],
          hostname: "fgt-1",
          message,
          fields: Object.fromEntries(log.map(([key, value]) => [key, String(value)]))
        })
      }),
      { numRuns: 300 }
    )
  })
})
