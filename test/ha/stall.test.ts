/**
 * A stalled process is not a silent peer. The whole lab runs in one process, so when its event
 * loop is held up (a long synchronous task, a loaded machine), every member's timers fire late at
 * once, while the heartbeats sent before the stall are still unread. Here a healthy pair at
 * hb-interval 200 ms is stalled for 1.5 lost-windows (900 ms): neither member may judge the other
 * lost for it (before the fix the primary dropped the secondary's link and the secondary elected
 * itself: a split brain in a healthy network). A kill after that still fails over.
 */
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import type { LabEvent } from "../../src/events/events.ts"
import { analyzer, useLab, waitForEvent, waitForRole } from "../support/lab.ts"

const HB_INTERVAL_MS = 200
const LOST_WINDOW_MS = HB_INTERVAL_MS * 3
const STALL_MS = 900

const YAML = `name: ha-stall-test
devices:
  faz-a: { kind: fortianalyzer, serial: FAZ-VM0000000001, ha: { priority: 120 } }
  faz-b: { kind: fortianalyzer, serial: FAZ-VM0000000002 }
ha:
  lab: { members: [faz-a, faz-b], group-id: 4, hb-interval: ${HB_INTERVAL_MS}ms, hb-lost-threshold: 3 }
`

/** Holds the event loop, as a long synchronous task would. */
const stall = (ms: number): number => {
  const start = performance.now()
  while (performance.now() - start < ms) {
    // busy: no timer, no socket is served meanwhile
  }
  return performance.now() - start
}

const isHa = (event: LabEvent): boolean => event.type.startsWith("ha-")

describe("a stall of the lab's process", () => {
  it("is taken for nobody's death: no missed heartbeat, no election, no split brain; a kill afterwards still fails over", async () => {
    const started = await useLab(YAML)
    const { lab, events } = started
    await waitForEvent(started, "ha-synced")
    const from = events.length

    expect(stall(STALL_MS)).toBeGreaterThan(LOST_WINDOW_MS)
    // Observe for two lost-windows after the stall (what used to go wrong did within a few ms).
    await new Promise((resolve) => setTimeout(resolve, 2 * LOST_WINDOW_MS))
    expect(events.slice(from).filter(isHa)).toEqual([])
    expect(analyzer(lab, "faz-a").ha?.phase()).toBe("primary")
    expect(analyzer(lab, "faz-b").ha?.phase()).toBe("inSync")

    const beforeKill = events.length
    await Effect.runPromise(analyzer(lab, "faz-a").kill())
    const takeover = await waitForRole(started, "faz-b", "primary", { from: beforeKill, timeoutMs: 5000 })
    expect(takeover.reason).toBe("faz-b became primary: 3 heartbeats missed from faz-a at hb-interval 0.2 s")
  })
})
