/**
 * What the HA, ports and traffic panels show after the event sequences a newcomer meets in the
 * guided labs: heartbeats that come through again after misses (the count goes back to zero, and
 * the count is worded "1 heartbeat" / "2 heartbeats"), a split brain that heals (the member that
 * steps down keeps no failed virtual IP claim), and an unknown FortiGate authorized (its held
 * logs, released, count as stored); and the timeline of a long scenario (the verdict on top, the
 * newest lines in view).
 */
import { createElement, type ReactNode } from "react"
import { afterEach, describe, expect, it } from "vitest"
import { eventText } from "../../src/cli/event-text.ts"
import type { LabEvent, PortKey } from "../../src/events/events.ts"
import { HaPanel, type PanelProps, PortsPanel, TimelinePanel, TrafficPanel } from "../../src/ui/panels.tsx"
import { foldEvents, initialState, type ViewState } from "../../src/ui/state.ts"
import { monochromeTheme } from "../../src/ui/theme.ts"
import { SNAPSHOT } from "./fake-client.ts"
import { type Rendered, renderUi } from "./render.ts"

const mounted: Rendered[] = []

afterEach(() => {
  for (const ui of mounted.splice(0)) ui.unmount()
})

/** The panel's lines as drawn at 100×12, borders and padding stripped. */
const draw = async (panel: (props: PanelProps) => ReactNode, state: ViewState): Promise<string[]> => {
  const props: PanelProps = { state, theme: monochromeTheme, width: 100, height: 12, focused: false }
  const ui = renderUi(createElement(panel, props), { columns: 100, rows: 12 })
  mounted.push(ui)
  const frame = await ui.waitForFrame((f) => f.includes("│"))
  return frame.split("\n").map((line) => line.replace(/^[│╭╰]\s?|\s*[│╮╯]$/gu, "").trim()).filter((line) => line !== "" && !/^─+$/u.test(line))
}

const HA_SNAPSHOT = {
  ...SNAPSHOT,
  devices: [
    { id: "faz-a", kind: "fortianalyzer", status: "running", ha: { group: "lab", role: "primary" } },
    { id: "faz-b", kind: "fortianalyzer", status: "running", ha: { group: "lab", role: "secondary" } }
  ],
  listeners: []
} as const

const missed = (n: number, at: number): LabEvent => ({ type: "ha-heartbeat-missed", device: "faz-b", group: "lab", from: "faz-a", missed: n, heartbeats: n === 1 ? "1 heartbeat" : `${n} heartbeats`, at })

describe("HA panel: missed heartbeats", () => {
  it("words the count in the singular for one heartbeat and the plural for more", async () => {
    const one = foldEvents(initialState(HA_SNAPSHOT), [missed(1, 1500)], eventText)
    expect(await draw(HaPanel, one)).toContain("lab: faz-a primary, faz-b secondary (missed 1 heartbeat)")
    const two = foldEvents(one, [missed(2, 2500)], eventText)
    expect(await draw(HaPanel, two)).toContain("lab: faz-a primary, faz-b secondary (missed 2 heartbeats)")
  })

  it("clears the count once the secondary hears its primary again, and says so on the explain line", async () => {
    const resumed = { type: "ha-heartbeat-resumed", device: "faz-b", group: "lab", from: "faz-a", missed: 1, heartbeats: "1 heartbeat", at: 2000 } as const
    const state = foldEvents(initialState(HA_SNAPSHOT), [missed(1, 1500), resumed], eventText)
    expect(state.ha[0]?.members).toEqual([{ device: "faz-a", role: "primary", missed: null }, { device: "faz-b", role: "secondary", missed: null }])
    expect(await draw(HaPanel, state)).toContain("lab: faz-a primary, faz-b secondary")
    expect(state.explain).toEqual({ text: "2.000s  lab: faz-b hears faz-a again after 1 missed heartbeat", tone: "ok" })
    expect(eventText({ ...resumed, missed: 2, heartbeats: "2 heartbeats" })).toBe("   2.000s  lab: faz-b hears faz-a again after 2 missed heartbeats")
  })
})

describe("ports panel: a split brain that heals", () => {
  const VIP_PORTS: ReadonlyArray<PortKey> = ["udp/514", "tcp/514", "tcp/8443", "tcp/443"]
  const reason = "faz-b is primary but faz-a holds the virtual IP of lab (two primaries: split brain); faz-b listens on its own TCP/5199 only"
  const splitBrain: ReadonlyArray<LabEvent> = [
    { type: "ha-role", device: "faz-b", group: "lab", role: "primary", reason: "faz-b became primary: 3 heartbeats missed from faz-a at hb-interval 1 s", at: 1000 },
    { type: "listener-bound", device: "faz-b", port: "tcp/5199", address: "127.0.1.2", actualPort: 45199, at: 1001 },
    { type: "listener-failed", device: "faz-b", port: "tcp/514", ports: VIP_PORTS, address: "127.0.1.3", actualPort: 40514, code: "EADDRINUSE", reason, at: 1002 },
    // An ordinary failure of the same member's, not a claim: it stays.
    { type: "listener-failed", device: "faz-b", port: "tcp/22", address: "127.0.1.2", actualPort: 40022, code: "EADDRINUSE", reason: "the port is in use", at: 1003 },
    // The other primary's claim failed too, earlier: it stays primary, so its row stays.
    { type: "listener-failed", device: "faz-a", port: "tcp/514", ports: ["tcp/514", "udp/514"], address: "127.0.1.3", actualPort: 40514, code: "EADDRINUSE", reason: "faz-a could not bind the virtual IP", at: 1004 }
  ]
  const healed: ReadonlyArray<LabEvent> = [
    { type: "ha-split-brain-healed", group: "lab", stepsDown: "faz-b", stays: "faz-a", reason: "split brain healed: faz-b steps down, faz-a stays primary", at: 5000 },
    { type: "ha-role", device: "faz-b", group: "lab", role: "secondary", reason: "faz-b became secondary: faz-a stays primary", at: 5000 },
    { type: "listener-closed", device: "faz-b", port: "tcp/5199", at: 5001 }
  ]

  it("keeps the failed claim while the member is primary and drops it once the member steps down", async () => {
    const during = foldEvents(initialState(HA_SNAPSHOT), splitBrain, eventText)
    expect((await draw(PortsPanel, during)).filter((line) => line.includes("failed: faz-b is primary but faz-a"))).toHaveLength(VIP_PORTS.length)
    expect(during.ports.filter((p) => p.device === "faz-b" && p.state === "failed").map((p) => p.port)).toEqual([...VIP_PORTS, "tcp/22"])
    const after = foldEvents(during, healed, eventText)
    expect(after.ports.map((p) => `${p.device} ${p.port} ${p.state}`)).toEqual([
      "faz-b tcp/5199 closed",
      "faz-b tcp/22 failed",
      "faz-a tcp/514 failed",
      "faz-a udp/514 failed"
    ])
    const lines = await draw(PortsPanel, after)
    expect(lines.filter((line) => line.includes("failed: faz-b is primary but faz-a"))).toEqual([])
  })

  it("drops the failed claim of a member that is stopped (role none) too, and shows a new failed claim when it is primary again", () => {
    const stopped = foldEvents(initialState(HA_SNAPSHOT), [
      ...splitBrain,
      { type: "ha-role", device: "faz-b", group: "lab", role: "none", reason: "faz-b was stopped", at: 6000 }
    ], eventText)
    expect(stopped.ports.filter((p) => p.device === "faz-b").map((p) => p.port)).toEqual(["tcp/5199", "tcp/22"])
    const again = foldEvents(stopped, splitBrain, eventText)
    expect(again.ports.filter((p) => p.device === "faz-b" && p.reason === reason)).toHaveLength(VIP_PORTS.length)
  })
})

describe("traffic panel: an unknown FortiGate authorized", () => {
  const registered: LabEvent = { type: "device-registered", device: "faz-1", serial: "FGT60FTK20000002", name: "fgt-2", ip: "127.0.1.3", status: "unauthorized", firstSeen: true, at: 500 }
  const stored = (count: number, total: number, at: number): LabEvent => ({ type: "logs-stored", device: "faz-1", from: "fgt-2", count, total, at })

  it("counts the held logs released on authorization as stored, for the sender and the analyzer, once", async () => {
    const waiting = foldEvents(initialState(SNAPSHOT), [
      { type: "logs-sent", device: "fgt-2", to: "faz-1", count: 868, total: 868, at: 400 },
      registered,
      { type: "logs-acked", device: "fgt-2", to: "faz-1", count: 868, total: 868, queued: 0, at: 900 }
    ], eventText)
    expect(waiting.traffic["fgt-2"]?.stored ?? 0).toBe(0)
    const authorized = foldEvents(waiting, [
      { type: "device-authorized", device: "faz-1", serial: "FGT60FTK20000002", adom: "root", released: 868, reason: "authorized by an administrator", at: 10_000 },
      // The writer's totals leave the held logs out: they go on from what it announced before.
      stored(20, 20, 10_500),
      stored(21, 41, 11_500)
    ], eventText)
    expect(authorized.traffic["fgt-2"]).toMatchObject({ sent: 868, stored: 909, acked: 868 })
    expect(authorized.traffic["faz-1"]?.stored).toBe(909)
    // Not received in that second: the stored/s rate shows what came in, not the release.
    expect(authorized.traffic["fgt-2"]?.buckets.slice(-2)).toEqual([20, 21])
    const row = (await draw(TrafficPanel, authorized)).find((line) => line.startsWith("fgt-2"))
    expect(row?.split(/\s+/u).slice(0, 4)).toEqual(["fgt-2", "868", "909", "868"])
  })

  it("counts a release for the analyzer only when no lab device waited under that serial", () => {
    const state = foldEvents(initialState(SNAPSHOT), [
      { type: "device-authorized", device: "faz-1", serial: "FGT-OUTSIDE", adom: "root", released: 7, reason: "authorized by an administrator", at: 100 }
    ], eventText)
    expect(state.traffic["faz-1"]?.stored).toBe(7)
    expect(Object.keys(state.traffic)).toEqual(["faz-1"])
  })
})

describe("timeline panel", () => {
  it("keeps the newest lines in view, and the verdict on top once the scenario finished", async () => {
    const events: LabEvent[] = [{ type: "step-started", step: 1, title: "many checks", at: 100 }]
    for (let i = 1; i <= 20; i++) events.push({ type: "expectation-passed", id: `s.step-1.logs-${i}`, title: `check ${i}`, detail: "ok", at: 100 + i })
    const running = foldEvents(initialState(SNAPSHOT), events, eventText)
    const during = await draw(TimelinePanel, running)
    expect(during.some((line) => line.startsWith("PASS check 20 (ok)"))).toBe(true)
    expect(during.some((line) => line.startsWith("finished:"))).toBe(false)

    const finished = foldEvents(running, [{ type: "scenario-finished", scenario: "s", passed: 20, failed: 0, at: 200 }], eventText)
    const after = await draw(TimelinePanel, finished)
    expect(after[1]).toBe("finished: 20 passed, 0 failed")
    expect(after.some((line) => line.startsWith("PASS check 20 (ok)"))).toBe(true)
  })
})
