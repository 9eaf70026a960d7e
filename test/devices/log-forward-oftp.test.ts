/**
 * Log forwarding to another analyzer over OFTP (`log-forward` with `fwd-server-type
 * fortianalyzer`): faz-1 forwards what it stores, filtered per device, over TLS on faz-2's TCP/514;
 * faz-2 registers faz-1 as a device (here authorized by `auto-authorize`) and stores each
 * forwarded log once, under the original device's name, even across a restart of faz-2 while
 * logs flow (the forwarder resumes after faz-2's lastSeq).
 */
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import type { FortiAnalyzer } from "../../src/devices/fortianalyzer/analyzer.ts"
import { useLab, waitForEvent } from "../support/lab.ts"

const LAB = (fgt1: string) => `
name: log-forward-oftp
devices:
  faz-1:
    kind: fortianalyzer
    serial: FAZ-VM0000000701
    log-forward:
      - { id: 1, server-name: hq, server-addr: faz-2, fwd-server-type: fortianalyzer, device-filter: [{ device: fgt-1 }], retry: 200ms }
  faz-2:
    kind: fortianalyzer
    serial: FAZ-VM0000000702
    oftp: { auto-authorize: true }
  fgt-1:
    kind: fortigate
    syslog: { server: faz-1, ${fgt1} }
  fgt-2:
    kind: fortigate
    syslog: { server: faz-1, rate: 200/s, count: 20 }
`

const storedOn = (analyzer: FortiAnalyzer, device: string): number => {
  analyzer.writer.flush()
  return analyzer.store.count({ device })
}

describe("log-forward over OFTP to another analyzer", () => {
  it("stores each of fgt-1's forwarded logs once on faz-2, none of fgt-2's, with faz-1 registered there as a FortiAnalyzer", async () => {
    const started = await useLab(LAB("rate: 200/s, count: 60"))
    const faz2 = started.lab.device("faz-2") as FortiAnalyzer
    await waitForEvent(started, "logs-acked", (e) => e.device === "faz-1" && e.total >= 60 && e.queued === 0, { timeoutMs: 20_000 })
    expect(storedOn(faz2, "fgt-1")).toBe(60)
    expect(storedOn(faz2, "fgt-2")).toBe(0)
    const registered = faz2.store.devices.get("FAZ-VM0000000701")
    expect(registered).toMatchObject({ state: "authorized", platform: "FortiAnalyzer-VM64" })
    const faz1 = started.lab.device("faz-1") as FortiAnalyzer
    expect(faz1.forwarder.counters("hq")).toMatchObject({ forwarded: 60, dropped: 0, queued: 0 })
    expect(faz2.store.sequenceReport("fgt-1", 60)).toMatchObject({ missing: 0, duplicated: 0 })
  })

  it("loses and repeats nothing when faz-2 restarts while logs flow", async () => {
    const started = await useLab(LAB("rate: 100/s, count: 400"))
    const faz2 = started.lab.device("faz-2") as FortiAnalyzer
    await waitForEvent(started, "logs-acked", (e) => e.device === "faz-1" && e.total >= 50, { timeoutMs: 20_000 })
    await Effect.runPromise(faz2.stop())
    const from = started.events.length
    await Effect.runPromise(faz2.start())
    await waitForEvent(started, "oftp-link", (e) => e.device === "faz-1" && e.state === "online", { from, timeoutMs: 20_000 })
    await waitForEvent(started, "logs-acked", (e) => e.device === "faz-1" && e.total >= 400 && e.queued === 0, { timeoutMs: 30_000 })
    expect(storedOn(faz2, "fgt-1")).toBe(400)
    expect(faz2.store.sequenceReport("fgt-1", 400)).toMatchObject({ missing: 0, duplicated: 0 })
  })
})
