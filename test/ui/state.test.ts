/**
 * The UI's view state, folded from a snapshot and events without React: devices, ports,
 * traffic counters and sparklines, HA groups, the timeline, the explain line, navigation,
 * events this UI does not know, the logs panel's lines and its filter.
 */
import { describe, expect, it } from "vitest"
import { eventText } from "../../src/cli/event-text.ts"
import type { LabEvent } from "../../src/events/events.ts"
import type { LogLine } from "../../src/control/protocol.ts"
import { formatLogFilter, parseLogFilter } from "../../src/ui/log-filter.ts"
import {
  addLogLines,
  addToSpark,
  editFilter,
  LOG_LINES,
  logText,
  startFilter,
  alignSpark,
  explainLine,
  foldEvents,
  initialState,
  navigate,
  notice,
  rateOf,
  REPLY_HOLD_MS,
  SPARK_SECONDS,
  selectedDevice,
  type TrafficView
} from "../../src/ui/state.ts"
import { NO_SYSLOG_HEADER } from "../support/records.ts"
import { SNAPSHOT } from "./fake-client.ts"

const explain = (event: LabEvent): string | null => (event.type === "device-stopped" ? `${event.device} stopped` : null)
const fold = (...events: ReadonlyArray<LabEvent>) => foldEvents(initialState(SNAPSHOT), events, explain)

describe("view state", () => {
  it("shows HA roles from the snapshot, before any role change happened while attached", () => {
    const state = initialState({
      ...SNAPSHOT,
      devices: [
        { id: "faz-b", kind: "fortianalyzer", status: "running", ha: { group: "lab", role: "secondary" } },
        { id: "faz-a", kind: "fortianalyzer", status: "running", ha: { group: "lab", role: "primary" } },
        { id: "fgt-1", kind: "fortigate", status: "running" }
      ]
    })
    expect(state.ha).toEqual([{ group: "lab", members: [{ device: "faz-a", role: "primary", missed: null }, { device: "faz-b", role: "secondary", missed: null }], history: [] }])
    expect(state.devices.find((d) => d.id === "faz-a")?.ha).toEqual({ group: "lab", role: "primary" })
    expect(state.devices.find((d) => d.id === "fgt-1")?.ha).toBeNull()
  })

  it("starts from the snapshot: devices running, listeners listening", () => {
    const state = initialState(SNAPSHOT)
    expect(state.lab).toBe("test-lab")
    expect(state.devices.map((d) => `${d.id} ${d.status}`)).toEqual(["faz-1 running", "fgt-1 running", "fgt-2 running"])
    expect(state.ports.map((p) => `${p.port} ${p.state}`)).toEqual(["tcp/514 listening", "udp/514 listening"])
    expect(state.panel).toBe("topology")
  })

  it("tracks device lifecycle and ports closing, failing and binding again", () => {
    const state = fold(
      { type: "device-stopped", device: "faz-1", kind: "fortianalyzer", at: 1000 },
      { type: "listener-closed", device: "faz-1", port: "tcp/514", at: 1001 },
      { type: "listener-failed", device: "faz-1", port: "udp/514", address: "127.0.1.1", actualPort: 40515, code: "EADDRINUSE", reason: "the port is in use", at: 1002 },
      { type: "listener-bound", device: "fgt-9", port: "tcp/541", address: "127.0.1.9", actualPort: 541, at: 1003 }
    )
    expect(state.devices[0]?.status).toBe("stopped")
    expect(state.ports).toEqual([
      { device: "faz-1", port: "tcp/514", address: "127.0.1.1", actualPort: 40514, state: "closed", reason: null, claim: false },
      { device: "faz-1", port: "udp/514", address: "127.0.1.1", actualPort: 40515, state: "failed", reason: "the port is in use", claim: false },
      { device: "fgt-9", port: "tcp/541", address: "127.0.1.9", actualPort: 541, state: "listening", reason: null, claim: false }
    ])
    expect(state.explain).toEqual({ text: "faz-1 stopped", tone: "warn" })
    expect(state.now).toBe(1003)
  })

  it("counts traffic per device and buckets stored logs per second", () => {
    const state = fold(
      { type: "logs-sent", device: "fgt-1", to: "faz-1", count: 30, total: 30, at: 500 },
      { type: "logs-stored", device: "faz-1", from: "fgt-1", count: 20, total: 20, at: 900 },
      { type: "logs-stored", device: "faz-1", from: "fgt-1", count: 10, total: 30, at: 1500 },
      { type: "logs-acked", device: "fgt-1", to: "faz-1", count: 30, total: 30, queued: 4, at: 1600 },
      { type: "logs-dropped", device: "fgt-2", count: 5, total: 5, reason: "queue full", at: 1700 },
      { type: "log-malformed", device: "faz-1", port: "udp/514", peer: "127.0.0.1:5", reason: "bad-pri", detail: "<999>", at: 1800 }
    )
    const faz = state.traffic["faz-1"]
    const fgt = state.traffic["fgt-1"]
    expect(faz?.stored).toBe(30)
    expect(faz?.malformed).toBe(1)
    expect(fgt).toMatchObject({ sent: 30, stored: 30, acked: 30, queued: 4 })
    expect(state.traffic["fgt-2"]?.dropped).toBe(5)
    expect(fgt?.buckets.slice(-2)).toEqual([20, 10])
    expect(rateOf(fgt as TrafficView, 1)).toBe(20)
  })

  it("counts a late attach's first stored total once, then only what is new", () => {
    const state = fold(
      { type: "logs-stored", device: "faz-1", from: "fgt-1", count: 20, total: 800, at: 10_000 },
      { type: "logs-stored", device: "faz-1", from: "fgt-1", count: 20, total: 820, at: 10_500 }
    )
    expect(state.traffic["faz-1"]?.stored).toBe(820)
  })

  it("counts a sender's stored logs under its lab id when the analyzer files them under its hostname", () => {
    const state = foldEvents(
      initialState({ ...SNAPSHOT, devices: [...SNAPSHOT.devices, { id: "fct-1", kind: "forticlient", status: "running" }] }),
      [
        { type: "logs-sent", device: "fct-1", to: "faz-1", count: 12, total: 12, at: 500 },
        { type: "logs-stored", device: "faz-1", from: "laptop-7", sender: "fct-1", count: 12, total: 12, at: 900 },
        { type: "logs-stored", device: "faz-1", from: "laptop-7", sender: "fct-1", count: 3, total: 15, at: 1900 },
        { type: "logs-stored", device: "faz-1", from: "siem-relay", count: 4, total: 4, at: 1950 }
      ],
      explain
    )
    expect(state.traffic["fct-1"]).toMatchObject({ sent: 12, stored: 15 })
    expect(state.traffic["fct-1"]?.buckets.slice(-2)).toEqual([12, 3])
    expect(state.traffic["laptop-7"]).toBeUndefined()
    // A sender outside the lab has no lab id: it is counted under its name.
    expect(state.traffic["siem-relay"]?.stored).toBe(4)
    expect(state.traffic["faz-1"]?.stored).toBe(19)
  })

  it("sparklines keep SPARK_SECONDS buckets and drift to zero when quiet", () => {
    const empty: TrafficView = { sent: 0, stored: 0, acked: 0, queued: 0, dropped: 0, malformed: 0, second: 0, buckets: [] }
    const one = addToSpark(empty, 2_000, 7)
    expect(one.buckets).toHaveLength(SPARK_SECONDS)
    expect(one.buckets.at(-1)).toBe(7)
    const later = alignSpark(one, 5)
    expect(later.buckets.slice(-4)).toEqual([7, 0, 0, 0])
    expect(alignSpark(one, 500).buckets.every((b) => b === 0)).toBe(true)
  })

  it("builds HA groups from ha-role events, with history and missed heartbeats", () => {
    const state = fold(
      { type: "ha-role", device: "faz-1", group: "lab", role: "primary", reason: "faz-1 is primary: highest priority", at: 100 },
      { type: "ha-role", device: "fgt-1", group: "lab", role: "secondary", reason: "fgt-1 is secondary", at: 110 },
      { type: "ha-heartbeat-missed", device: "fgt-1", group: "lab", from: "faz-1", missed: 2, heartbeats: "2 heartbeats", at: 3000 },
      { type: "ha-role", device: "faz-1", group: "lab", role: "none", reason: "faz-1 was killed", at: 4000 }
    )
    expect(state.ha).toHaveLength(1)
    expect(state.ha[0]?.members).toEqual([
      { device: "faz-1", role: "none", missed: null },
      { device: "fgt-1", role: "secondary", missed: "2 heartbeats" }
    ])
    expect(state.ha[0]?.history.map((h) => h.text)).toEqual(["faz-1 is primary: highest priority", "fgt-1 is secondary", "faz-1 was killed"])
    expect(state.devices[0]?.ha).toEqual({ group: "lab", role: "none" })
  })

  it("adds a member's finished catch-up to its group's history", () => {
    const reason = "faz-a caught up with faz-b: 2500 logs stored; it is in sync and may take over"
    const state = foldEvents(
      initialState(SNAPSHOT),
      [
        { type: "ha-role", device: "faz-a", group: "lab", role: "secondary", reason: "faz-a became secondary: faz-b is primary", at: 100 },
        { type: "ha-synced", device: "faz-a", group: "lab", primary: "faz-b", stored: 2500, reason, at: 900 }
      ],
      eventText
    )
    expect(state.ha[0]?.history).toEqual([{ at: 100, text: "faz-a became secondary: faz-b is primary" }, { at: 900, text: reason }])
    expect(state.ha[0]?.members).toEqual([{ device: "faz-a", role: "secondary", missed: null }])
    expect(state.explain).toEqual({ text: `0.900s  lab: ${reason}`, tone: "ok" })
  })

  it("marks every port one failed virtual IP claim leaves unbound, and explains it in one line", () => {
    const state = foldEvents(
      initialState({ ...SNAPSHOT, listeners: [...SNAPSHOT.listeners, { device: "lab", port: "tcp/8443", address: "127.0.1.3", actualPort: 48443 }] }),
      [{
        type: "listener-failed",
        device: "faz-b",
        port: "tcp/514",
        ports: ["udp/514", "tcp/514", "tcp/8443", "tcp/443"],
        address: "127.0.1.3",
        actualPort: 40514,
        code: "EADDRINUSE",
        reason: "faz-b is primary but faz-a holds the virtual IP of lab",
        at: 100
      }],
      eventText
    )
    expect(state.explain.text).toBe("0.100s  faz-b could not listen on udp/514, tcp/514, tcp/8443, tcp/443 (127.0.1.3): faz-b is primary but faz-a holds the virtual IP of lab")
    expect(state.ports.filter((p) => p.device === "faz-b").map((p) => `${p.port} ${p.address}:${p.actualPort} ${p.state}`)).toEqual([
      "udp/514 127.0.1.3:0 failed",
      "tcp/514 127.0.1.3:40514 failed",
      "tcp/8443 127.0.1.3:48443 failed",
      "tcp/443 127.0.1.3:0 failed"
    ])
  })

  it("turns steps and expectations green or red", () => {
    const state = fold(
      { type: "step-started", step: 1, title: "kill faz-1", at: 0 },
      { type: "expectation-passed", id: "e1", title: "faz-1 listens", detail: "tcp/514", at: 10 },
      { type: "step-started", step: 2, title: "expect failover", at: 20 },
      { type: "step-failed", step: 2, title: "expect failover", reason: "no primary within 4s", at: 30 },
      { type: "expectation-failed", id: "e2", title: "faz-2 primary", detail: "role none", at: 31 },
      { type: "scenario-finished", scenario: "s", passed: 1, failed: 1, at: 40 }
    )
    expect(state.steps.map((s) => `${s.step} ${s.state}`)).toEqual(["1 done", "2 failed"])
    expect(state.expectations.map((e) => `${e.id} ${e.passed}`)).toEqual(["e1 true", "e2 false"])
    expect(state.finished).toEqual({ passed: 1, failed: 1 })
  })

  it("marks a device waiting for authorization until it is authorized", () => {
    const waiting = fold({ type: "device-registered", device: "faz-1", serial: "FGT2", name: "fgt-2", ip: "127.0.1.3", status: "unauthorized", firstSeen: true, at: 5 })
    expect(waiting.devices[2]?.pending).toBe("FGT2")
    const authorized = foldEvents(waiting, [{ type: "device-authorized", device: "faz-1", serial: "FGT2", adom: "root", released: 3, reason: "by hand", at: 6 }], explain)
    expect(authorized.devices[2]?.pending).toBeNull()
  })

  it("tracks a sender being paused", () => {
    const state = fold({ type: "sender-state", device: "fgt-1", state: "paused", reason: "paused by the control channel", at: 5 })
    expect(state.devices[1]).toMatchObject({ paused: true, link: "paused" })
  })

  it("ignores event types it does not know, and malformed ones", () => {
    const before = initialState(SNAPSHOT)
    const unknown = { type: "warp-core-breach", at: 7, device: "faz-1" } as unknown as LabEvent
    const broken = null as unknown as LabEvent
    const after = foldEvents(before, [unknown, broken], explain)
    expect(after.devices).toEqual(before.devices)
    expect(after.now).toBe(7)
  })

  it("navigates panels and devices within bounds, and toggles help", () => {
    let state = initialState(SNAPSHOT)
    state = navigate(state, "prev-panel")
    expect(state.panel).toBe("timeline")
    state = navigate(navigate(state, "next-panel"), "next-panel")
    expect(state.panel).toBe("ports")
    state = navigate(navigate(navigate(navigate(state, "select-down"), "select-down"), "select-down"), "select-down")
    expect(selectedDevice(state)?.id).toBe("fgt-2")
    state = navigate(state, "select-up")
    expect(selectedDevice(state)?.id).toBe("fgt-1")
    expect(navigate(state, "help").help).toBe(true)
    expect(navigate(navigate(state, "help"), "close").help).toBe(false)
  })

  it("a command's reply holds the explain line for REPLY_HOLD_MS of lab time, then events take it back", () => {
    const stop = (at: number): LabEvent => ({ type: "device-stopped", device: "faz-1", kind: "fortianalyzer", at })
    let state = foldEvents(initialState(SNAPSHOT), [stop(1000)], explain)
    state = notice(state, "stopped faz-1 (now stopped)", "warn")
    expect(explainLine(state)).toEqual({ text: "stopped faz-1 (now stopped)", tone: "warn", at: 1000 })
    state = foldEvents(state, [stop(1000 + REPLY_HOLD_MS - 1)], explain)
    expect(explainLine(state).text).toBe("stopped faz-1 (now stopped)")
    state = foldEvents(state, [stop(1000 + REPLY_HOLD_MS)], explain)
    expect(explainLine(state)).toEqual({ text: "faz-1 stopped", tone: "warn" })
  })

  it("keeps the newest LOG_LINES log lines, each with its message or telling fields", () => {
    const line = (id: number, fields: LogLine["fields"]): LogLine => ({
      id, receivedAt: id, transport: "udp", peer: "p", format: "fortios", facility: 0, severity: 0, device: "fgt-1", devid: null,
      logid: null, type: "traffic", subtype: null, level: "notice", eventtime: null, seq: null, raw: `raw ${id}`, fields, ...NO_SYSLOG_HEADER
    })
    expect(logText(line(1, { msg: "hello", action: "deny" }))).toBe("hello")
    expect(logText(line(1, { action: "deny", srcip: "10.0.0.1", dstip: "10.0.0.2", policyid: "3" }))).toBe("action=deny srcip=10.0.0.1 dstip=10.0.0.2")
    expect(logText(line(1, { policyid: "3" }))).toBe("raw 1")
    expect(logText(line(1, null))).toBe("raw 1")
    let state = addLogLines(initialState(SNAPSHOT), Array.from({ length: LOG_LINES }, (_, i) => line(i + 1, null)), "faz-1")
    state = addLogLines(state, [line(LOG_LINES + 1, null)], "faz-1")
    expect(state.logs.lines).toHaveLength(LOG_LINES)
    expect(state.logs.lines[0]).toMatchObject({ id: 2, kind: "traffic/-" })
    expect(state.logs.lines.at(-1)?.id).toBe(LOG_LINES + 1)
    expect(state.logs.analyzer).toBe("faz-1")
  })

  it("reads a typed filter: device, type and level words, the rest is text", () => {
    expect(parseLogFilter("device:fgt-1 level:warning deny")).toEqual({ device: "fgt-1", level: "warning", text: "deny" })
    expect(parseLogFilter("  type:event  login   failed ")).toEqual({ type: "event", text: "login failed" })
    expect(parseLogFilter("level:info level:warning")).toEqual({ level: "warning" })
    expect(parseLogFilter("srcip:10.0.0.1 device:")).toEqual({ text: "srcip:10.0.0.1 device:" })
    expect(parseLogFilter("")).toEqual({})
    // The syslog header's words, and the log's own time.
    expect(parseLogFilter("host:web-1 app:sshd msgid:ID47 since:2026-12-05T06:00:00Z until:2026-12-05T07:00:00.000Z failed")).toEqual({
      hostname: "web-1",
      appName: "sshd",
      msgId: "ID47",
      since: Date.parse("2026-12-05T06:00:00Z"),
      until: Date.parse("2026-12-05T07:00:00Z"),
      text: "failed"
    })
    expect(parseLogFilter("since:yesterday app:")).toEqual({ text: "since:yesterday app:" })
    expect(formatLogFilter({ appName: "sshd", since: Date.parse("2026-12-05T06:00:00Z"), device: "fgt-1" })).toBe("device:fgt-1 app:sshd since:2026-12-05T06:00:00.000Z")
    expect(formatLogFilter({ text: "deny", level: "warning", device: "fgt-1" })).toBe("device:fgt-1 level:warning deny")
  })

  it("types, erases, applies and clears the filter; applying starts the lines over", () => {
    let state = addLogLines(initialState(SNAPSHOT), [], "faz-1")
    state = startFilter(state)
    expect(state.panel).toBe("logs")
    expect(state.logs.editing).toBe("")
    state = editFilter(editFilter(state, { kind: "type", text: "level:errorx" }), { kind: "erase" })
    state = editFilter(state, { kind: "apply" })
    expect(state.logs).toMatchObject({ editing: null, filter: { level: "error" }, lines: [] })
    expect(startFilter(state).logs.editing).toBe("level:error ")
    expect(editFilter(startFilter(state), { kind: "clear" }).logs).toMatchObject({ editing: null, filter: {} })
  })
})
