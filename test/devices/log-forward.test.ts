/**
 * Log forwarding (`config system log-forward`) against a real rsyslog: the analyzer forwards what
 * it stores, filtered per device and log type, as FortiAnalyzer-style syslog (`itime=`,
 * `logver=`, `devid=`, `devname=` first) or CEF, over UDP or TCP, at the rate logs arrive.
 */
import * as Effect from "effect/Effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { analyzer, type StartedLab, useLab, waitForEvent, waitForStored } from "../support/lab.ts"
import { type Rsyslog, startRsyslog } from "../support/rsyslog.ts"

let rsyslog: Rsyslog
beforeAll(async () => {
  rsyslog = await startRsyslog()
})
afterAll(() => rsyslog.stop())

const lab = (entries: string, fgt2Count = 5) => `
name: log-forward-test
devices:
  faz-1:
    kind: fortianalyzer
    log-forward:
${entries}
  fgt-1:
    kind: fortigate
    hostname: branch-1
    syslog: { server: faz-1, rate: 200/s, count: 40, logs: [traffic-forward, event-system] }
  fgt-2:
    kind: fortigate
    hostname: branch-2
    syslog: { server: faz-1, rate: 200/s, count: ${fgt2Count}, logs: [traffic-forward] }
`

const forwardedTotal = (started: StartedLab, forward: string, total: number) =>
  waitForEvent(started, "logs-forwarded", (event) => event.forward === forward && event.total >= total)

describe("log-forward → rsyslog", () => {
  it("forwards only fgt-1's traffic logs over UDP, FortiAnalyzer's fields first, from the analyzer's address", async () => {
    const started = await useLab(lab(`
      - id: 1
        server-name: siem
        server-addr: 127.0.0.1
        server-port: ${rsyslog.port}
        device-filter: [{ device: fgt-1, action: include }]
        log-filter-status: enable
        log-filter: [{ field: type, oper: "=", value: traffic }]`))
    await waitForStored(started, "fgt-1", 40)
    await waitForStored(started, "fgt-2", 5)
    const faz = analyzer(started.lab, "faz-1")
    const counters = faz.forwarder.counters("siem")
    expect(counters).toBeDefined()
    const expected = counters!.forwarded
    // 40 logs of two kinds: about half are traffic; fgt-2 is filtered out entirely.
    expect(expected).toBeGreaterThan(0)
    expect(expected).toBeLessThan(40)
    expect(counters!.filtered).toBe(45 - expected)
    const lines = await rsyslog.waitFor((seen) => seen.filter((line) => line.includes("devname=\"branch-1\"")).length >= expected)
    const ours = lines.filter((line) => line.includes("itime="))
    expect(ours).toHaveLength(expected)
    const faAddress = started.lab.plan.addressOf("faz-1")
    for (const line of ours) {
      // FROMHOST-IP HOSTNAME RAWMSG: sent from the analyzer's own address, HOSTNAME the device.
      expect(line.startsWith(`${faAddress} branch-1 <`)).toBe(true)
      expect(line).toMatch(/^\S+ branch-1 <189>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d branch-1 itime=\d{10} logver=\d+ devid="FGVM010000000001" devname="branch-1" date=/u)
      expect(line).toContain("type=\"traffic\"")
      expect(line).not.toContain("branch-2")
      expect(line.match(/ devid=/gu)).toHaveLength(1)
      // The device's own quoting is kept: numbers bare, strings quoted.
      expect(line).toMatch(/ srcport=\d+ /u)
      expect(line).toContain(" logid=\"0000000013\" ")
    }
  })

  it("writes CEF:0 with FortiAnalyzer's names over TCP (fwd-reliable) in RFC 6587 octet counting", async () => {
    const started = await useLab(lab(`
      - id: 2
        server-name: arcsight
        fwd-server-type: cef
        fwd-reliable: enable
        server-addr: 127.0.0.1
        server-port: ${rsyslog.port}
        device-filter: [{ device: fgt-1, action: exclude }]`, 7))
    await waitForStored(started, "fgt-2", 7)
    await forwardedTotal(started, "arcsight", 7)
    const state = started.events.find((event) => event.type === "log-forward" && event.forward === "arcsight")
    expect(state).toMatchObject({ state: "forwarding" })
    const lines = await rsyslog.waitFor((seen) => seen.filter((line) => line.includes("dvchost=branch-2")).length >= 7)
    const cef = lines.filter((line) => line.includes("dvchost=branch-2"))
    expect(cef).toHaveLength(7)
    for (const line of cef) {
      expect(line).toMatch(/ branch-2 CEF:0\|Fortinet\|FortiGate\|unknown\|0000000013\|forward traffic \w+\|5\|start=[A-Z][a-z]{2} \d\d \d{4} \d\d:\d\d:\d\d logver=0 deviceExternalId=FGVM010000000002 dvchost=branch-2 /u)
      expect(line).toMatch(/ src=10\.\d+\.\d+\.\d+ /u)
      expect(line).toContain(" cat=traffic ")
      expect(line).toContain(" ad.vd=root")
    }
    expect(lines.some((line) => line.includes("dvchost=branch-1"))).toBe(false)
  })

  it("keeps logs for a TCP collector that is down and says so, then delivers them when it listens", async () => {
    const started = await useLab(`
name: log-forward-down
devices:
  faz-1:
    kind: fortianalyzer
    log-forward:
      - { id: 1, server-name: later, server-addr: faz-2, fwd-reliable: enable, retry: 200ms }
  faz-2: { kind: fortianalyzer }
  fgt-1: { kind: fortigate, autostart: false, syslog: { server: faz-1, rate: 100/s, count: 10 } }
`)
    const faz2 = started.lab.device("faz-2")!
    await Effect.runPromise(faz2.stop())
    await Effect.runPromise(started.lab.device("fgt-1")!.start())
    await waitForStored(started, "fgt-1", 10)
    const retrying = await waitForEvent(started, "log-forward", (event) => event.state === "retrying")
    expect(retrying.reason).toMatch(/^cannot reach faz-2 on tcp\/514: .+; \d+ logs wait, next try in 0\.2 s$/u)
    await Effect.runPromise(faz2.start())
    // faz-2 stores what faz-1 forwarded: filed under the FortiGate's name, as its own logs were.
    const stored = await waitForEvent(started, "logs-stored", (event) => event.device === "faz-2" && event.total >= 10)
    expect(stored.from).toBe("fgt-1")
    const rows = analyzer(started.lab, "faz-2").store.query({ limit: 100 })
    expect(rows).toHaveLength(10)
    expect(rows.every((row) => row.transport === "tcp" && row.raw.includes("itime="))).toBe(true)
  })
})
