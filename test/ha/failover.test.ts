/**
 * HA failover on the real clock and real sockets: the primary of a two-member group is killed
 * while two FortiGates stream over OFTP to the group's virtual IP. From outside, TCP/5199 of both
 * members is tried every 50 ms: never two members listen at once, and the secondary listens
 * within hb-interval × hb-lost-threshold plus a margin. Every record acknowledged before the kill
 * is already on the new primary when it takes over, and in the end every record is on it once.
 */
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import type { FortiGate } from "../../src/devices/fortigate/fortigate.ts"
import type { EventOf, LabEvent } from "../../src/events/events.ts"
import type { Lab } from "../../src/lab/lab.ts"
import type { SequenceReport } from "../../src/store/log-queries.ts"
import { dialTcp } from "../../src/net/tcp.ts"
import { analyzer, useLab, waitForEvent } from "../support/lab.ts"

const HB_INTERVAL_MS = 200
const HB_LOST_THRESHOLD = 3
/** Time for the new primary to bind once it decided, and for the 50 ms observer to see it. */
const MARGIN_MS = 400
const DEADLINE_MS = HB_INTERVAL_MS * HB_LOST_THRESHOLD + MARGIN_MS
const PROBE_EVERY_MS = 50

const gate = (n: number) =>
  `  fgt-${n}: { kind: fortigate, fortianalyzer: { server: lab, serial: [FAZ-VM0000000001, FAZ-VM0000000002], rate: 2000/s, monitor-failure-retry-period: 100ms } }\n`

const YAML = `name: ha-failover-test
devices:
  faz-a: { kind: fortianalyzer, serial: FAZ-VM0000000001, oftp: { auto-authorize: true } }
  faz-b: { kind: fortianalyzer, serial: FAZ-VM0000000002, oftp: { auto-authorize: true } }
${gate(1)}${gate(2)}ha:
  lab: { members: [faz-a, faz-b], group-id: 7, hb-interval: ${HB_INTERVAL_MS}ms, hb-lost-threshold: ${HB_LOST_THRESHOLD} }
`

const roleEvent = (device: string, role: EventOf<"ha-role">["role"]) => (event: LabEvent): event is EventOf<"ha-role"> =>
  event.type === "ha-role" && event.device === device && event.role === role

/** Does something accept on `device`'s TCP/5199? A plain connect, as a client outside would try. */
const accepts5199 = async (lab: Lab, device: string): Promise<boolean> => {
  const target = lab.plan.resolve(device, "tcp/5199")
  if (target.actualPort === 0) return false
  try {
    const socket = await dialTcp({ host: target.address, port: target.actualPort, timeoutMs: 1000 })
    socket.destroy()
    return true
  } catch {
    return false
  }
}

const gateOf = (lab: Lab, id: string): FortiGate => lab.device(id) as FortiGate

/** Records the FortiGate had acknowledged: generated minus still queued (nothing is dropped here). */
const acked = (fortigate: FortiGate): number => (fortigate.faz?.sent ?? 0) - (fortigate.faz?.queued ?? 0)

describe("HA failover (real clock)", () => {
  it("moves TCP/5199 and the VIP to the secondary in time, never two listening, nothing acknowledged lost or stored twice", async () => {
    const started = await useLab(YAML)
    const { lab, events } = started
    await waitForEvent(started, roleEvent("faz-a", "primary"))
    await waitForEvent(started, roleEvent("faz-b", "secondary"))
    // Both FortiGates have had records acknowledged (so replicated to faz-b) before the kill.
    for (const id of ["fgt-1", "fgt-2"]) {
      await waitForEvent(started, "logs-acked", (event) => event.device === id && event.total >= 1000)
    }

    // What is on faz-b of each FortiGate's acknowledged records, at the moment it takes over
    // (before any FortiGate can reach it through the VIP again).
    const atTakeover = new Map<string, { acked: number; report: SequenceReport }>()
    const ackedAtKill = new Map<string, number>()
    const unsubscribe = lab.bus.subscribe((event) => {
      if (roleEvent("faz-b", "primary")(event)) {
        for (const id of ["fgt-1", "fgt-2"]) {
          const upTo = ackedAtKill.get(id) ?? 0
          atTakeover.set(id, { acked: upTo, report: analyzer(lab, "faz-b").store.sequenceReport(id, upTo) })
        }
      }
    })

    // Observe TCP/5199 of both members from outside, every 50 ms, for a bounded time.
    let bothListening = 0
    let firstSeenB: number | null = null
    let observing = true
    const killedAt = { at: 0 }
    const observer = (async () => {
      for (let round = 0; observing && round < 200; round++) {
        const [a, b] = await Promise.all([accepts5199(lab, "faz-a"), accepts5199(lab, "faz-b")])
        if (a && b) bothListening++
        if (b && firstSeenB === null && killedAt.at > 0) firstSeenB = performance.now() - killedAt.at
        await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS))
      }
    })()

    await new Promise((resolve) => setTimeout(resolve, 2 * PROBE_EVERY_MS))
    for (const id of ["fgt-1", "fgt-2"]) ackedAtKill.set(id, acked(gateOf(lab, id)))
    killedAt.at = performance.now()
    await Effect.runPromise(analyzer(lab, "faz-a").kill())
    const takeover = await waitForEvent(started, roleEvent("faz-b", "primary"), { timeoutMs: 5000 })
    expect(takeover.reason).toBe("faz-b became primary: 3 heartbeats missed from faz-a at hb-interval 0.2 s")
    // Keep observing well past the deadline, then stop.
    await new Promise((resolve) => setTimeout(resolve, DEADLINE_MS + 4 * PROBE_EVERY_MS))
    observing = false
    await observer
    unsubscribe()

    expect(bothListening).toBe(0)
    expect(firstSeenB).not.toBeNull()
    expect(firstSeenB).toBeLessThanOrEqual(DEADLINE_MS)
    expect(await accepts5199(lab, "faz-a")).toBe(false)
    expect(await lab.probe("lab", "tcp/514")).toBe(true)

    for (const id of ["fgt-1", "fgt-2"]) {
      const seen = atTakeover.get(id)
      expect(seen?.acked, id).toBeGreaterThan(0)
      // Every record acknowledged before the kill was already on faz-b when it took over.
      expect(seen?.report.missing, id).toBe(0)
      expect(seen?.report.duplicated, id).toBe(0)
    }

    // The FortiGates reconnect through the VIP; paused and drained, every record is on faz-b once.
    const fromPause = events.length
    for (const id of ["fgt-1", "fgt-2"]) gateOf(lab, id).pause()
    for (const id of ["fgt-1", "fgt-2"]) {
      const fortigate = gateOf(lab, id)
      if ((fortigate.faz?.queued ?? 0) > 0) {
        await waitForEvent(started, "logs-acked", (event) => event.device === id && event.queued === 0, { from: fromPause })
      }
      expect(fortigate.faz?.queued, id).toBe(0)
      const report = analyzer(lab, "faz-b").store.sequenceReport(id, fortigate.sentTo("lab"))
      expect(report, id).toMatchObject({ missing: 0, duplicated: 0 })
      expect(report.stored, id).toBe(fortigate.sentTo("lab"))
    }
  }, 30_000)
})
