/**
 * HA stress on the real clock: the primary of a two-member group is killed and started again
 * twelve times, so the primaries alternate, while two FortiGates stream over OFTP to the VIP at
 * hb-interval 200 ms. After each takeover every record a FortiGate had acknowledged before the
 * kill is on the new primary exactly once; after each restart the returning member finishes its
 * catch-up; at the end, with the FortiGates drained, every record is on both members once.
 * Bounded in rounds and in time; every wait is an event with a deadline.
 */
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import type { FortiGate } from "../../src/devices/fortigate/fortigate.ts"
import type { EventOf } from "../../src/events/events.ts"
import type { Lab } from "../../src/lab/lab.ts"
import { analyzer, type StartedLab, useLab, waitForEvent, waitForRole } from "../support/lab.ts"

const CYCLES = 12
const FORTIGATES = ["fgt-1", "fgt-2"] as const
const MEMBERS = ["faz-a", "faz-b"] as const

const gate = (n: number) =>
  `  fgt-${n}: { kind: fortigate, fortianalyzer: { server: lab, serial: [FAZ-VM0000000001, FAZ-VM0000000002], rate: 200/s, monitor-failure-retry-period: 100ms } }\n`

const YAML = `name: ha-stress-test
devices:
  faz-a: { kind: fortianalyzer, serial: FAZ-VM0000000001, oftp: { auto-authorize: true } }
  faz-b: { kind: fortianalyzer, serial: FAZ-VM0000000002, oftp: { auto-authorize: true } }
${gate(1)}${gate(2)}ha:
  lab: { members: [faz-a, faz-b], group-id: 11, hb-interval: 200ms, hb-lost-threshold: 3 }
`

const gateOf = (lab: Lab, id: string): FortiGate => lab.device(id) as FortiGate

/** Records the FortiGate had acknowledged: generated minus still queued. */
const acked = (fortigate: FortiGate): number => (fortigate.faz?.sent ?? 0) - (fortigate.faz?.queued ?? 0)

/** The first catch-up `member` finishes (`ha-synced`) among the events from index `from` on, within `timeoutMs`. */
const caughtUpAfter = (started: StartedLab, from: number, member: string, timeoutMs: number): Promise<EventOf<"ha-synced">> =>
  waitForEvent(started, "ha-synced", (e) => e.device === member, { timeoutMs, from })

describe("HA stress: alternating kills (real clock)", () => {
  it("keeps every acknowledged record on the acting primary once, cycle after cycle, and on both members at the end", async () => {
    const started = await useLab(YAML)
    const { lab, events } = started
    const roleAfter = (from: number, device: string, role: EventOf<"ha-role">["role"]) => waitForRole(started, device, role, { from, timeoutMs: 5000 })

    await roleAfter(0, "faz-a", "primary")
    await caughtUpAfter(started, 0, "faz-b", 5000)
    let primary: string = "faz-a"
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const secondary = MEMBERS.find((id) => id !== primary) as string
      expect(analyzer(lab, secondary).ha?.phase(), `cycle ${cycle}`).toBe("inSync")
      // Records flow through this primary before it is killed.
      const before = events.length
      for (const id of FORTIGATES) {
        const total = acked(gateOf(lab, id)) + 100
        await waitForEvent(started, "logs-acked", (e) => e.device === id && e.total >= total, { timeoutMs: 5000, from: before })
      }
      const ackedAtKill = new Map(FORTIGATES.map((id) => [id, acked(gateOf(lab, id))]))
      const atTakeover: string[] = []
      const unsubscribe = lab.bus.subscribe((event) => {
        if (event.type === "ha-role" && event.device === secondary && event.role === "primary") {
          for (const id of FORTIGATES) {
            const report = analyzer(lab, secondary).store.sequenceReport(id, ackedAtKill.get(id) ?? 0)
            if (report.missing + report.duplicated > 0) atTakeover.push(`${id}: ${JSON.stringify(report)}`)
          }
        }
      })
      const fromKill = events.length
      await Effect.runPromise(lab.perform({ kill: primary }))
      await roleAfter(fromKill, secondary, "primary").finally(unsubscribe)
      expect(atTakeover, `cycle ${cycle}: acknowledged records on ${secondary} at takeover`).toEqual([])

      const fromStart = events.length
      await Effect.runPromise(lab.perform({ start: primary }))
      await caughtUpAfter(started, fromStart, primary, 10_000)
      primary = secondary
    }

    // Drained: every record each FortiGate generated is on both members, once.
    const fromPause = events.length
    for (const id of FORTIGATES) gateOf(lab, id).pause()
    for (const id of FORTIGATES) {
      if ((gateOf(lab, id).faz?.queued ?? 0) > 0) {
        await waitForEvent(started, "logs-acked", (e) => e.device === id && e.queued === 0, { from: fromPause })
      }
    }
    for (const member of MEMBERS) {
      for (const id of FORTIGATES) {
        const sent = gateOf(lab, id).sentTo("lab")
        const report = analyzer(lab, member).store.sequenceReport(id, sent)
        expect(report, `${id} on ${member}`).toMatchObject({ missing: 0, duplicated: 0, stored: sent })
      }
    }
  }, 60_000)
})
