/**
 * The terminal UI's view state and the pure functions that build it: `initialState` from the
 * control channel's snapshot, `foldEvents` for a batch of lab events, `notice` for a command's
 * reply, `navigate` for moving between panels and devices, `addLogLines` for the stored logs the
 * logs panel follows and `editFilter` for its `/` filter. No React, no I/O, no clock: every
 * number the panels show comes from here, so this is what the tests check.
 *
 * Event types this version does not know (the protocol may add some) are ignored.
 */
import type { LabEvent } from "../events/events.ts"
import type { LogLine, SnapshotMessage } from "../control/protocol.ts"
import type { FilterEdit } from "./keys.ts"
import { formatLogFilter, type LogFilter, parseLogFilter } from "./log-filter.ts"

/** The panels, in tab order. */
export const PANELS = ["topology", "ports", "traffic", "ha", "logs", "timeline"] as const
export type PanelId = (typeof PANELS)[number]

/** Seconds of history each device's sparkline keeps. */
export const SPARK_SECONDS = 30
/** Stored log lines the logs panel keeps and asks for at a time (the newest): more than a tall terminal shows. */
export const LOG_LINES = 60
/** Role changes, catch-ups and split-brain reports each HA group keeps. */
export const HA_HISTORY = 20
/** Lab milliseconds a command's reply holds the explain line before events take it back. */
export const REPLY_HOLD_MS = 3000

export interface DeviceView {
  readonly id: string
  readonly kind: string
  /** Lifecycle: stopped, starting, running, failed. */
  readonly status: string
  /** The sender's or link's last state (sender-state, oftp-link), when the device sends logs. */
  readonly link: string | null
  readonly paused: boolean
  readonly ha: { readonly group: string; readonly role: string } | null
  /** The serial an analyzer holds unauthorized under this device's name, when one does. */
  readonly pending: string | null
}

export type PortState = "listening" | "closed" | "failed"

export interface PortView {
  readonly device: string
  readonly port: string
  readonly address: string
  readonly actualPort: number
  readonly state: PortState
  readonly reason: string | null
  /**
   * The row is one of the ports a failed claim of an HA group's virtual IP left unbound (a
   * `listener-failed` with `ports`): it describes its device only while that device is primary.
   */
  readonly claim: boolean
}

export interface TrafficView {
  readonly sent: number
  /** Logs stored: by this analyzer, or of this sender by any analyzer. */
  readonly stored: number
  readonly acked: number
  readonly queued: number
  readonly dropped: number
  readonly malformed: number
  /** Logs stored per second; the last bucket is the lab second `second`. */
  readonly second: number
  readonly buckets: ReadonlyArray<number>
}

/** A stored log as the logs panel shows it. */
export interface LogLineView {
  readonly id: number
  /** Milliseconds since the epoch, when the analyzer received it. */
  readonly receivedAt: number
  readonly device: string
  readonly level: string | null
  /** "traffic/forward", or "-" when the log has no FortiOS type. */
  readonly kind: string
  /** The log's message, or its telling fields, or its raw text. */
  readonly text: string
}

export interface LogsView {
  /** The newest stored logs that pass the filter, oldest first. */
  readonly lines: ReadonlyArray<LogLineView>
  /** The analyzer the lines come from, once the lab has answered. */
  readonly analyzer: string | null
  readonly filter: LogFilter
  /** The filter being typed after `/`, or null when the panel is not asking for one. */
  readonly editing: string | null
  /** The lab's refusal of the last logs query, or null. */
  readonly problem: string | null
}

export interface HaGroupView {
  readonly group: string
  /** `missed`: the heartbeats missed in a row as the event words them ("2 heartbeats"), null when none. */
  readonly members: ReadonlyArray<{ readonly device: string; readonly role: string; readonly missed: string | null }>
  readonly history: ReadonlyArray<{ readonly at: number; readonly text: string }>
}

export interface StepView {
  readonly step: number
  readonly title: string
  readonly state: "running" | "done" | "failed"
  readonly reason: string | null
}

export interface ExpectationView {
  readonly id: string
  readonly title: string
  readonly detail: string
  readonly passed: boolean
}

export type Tone = "ok" | "bad" | "warn" | "info"

export interface ViewState {
  readonly lab: string
  readonly connected: boolean
  /** The lab clock (ms) of the newest event seen. */
  readonly now: number
  readonly devices: ReadonlyArray<DeviceView>
  readonly ports: ReadonlyArray<PortView>
  readonly traffic: Readonly<Record<string, TrafficView>>
  /** Per analyzer→sender pair, the last `logs-stored` total: attaching late still counts earlier logs once. */
  readonly storedTotals: Readonly<Record<string, number>>
  readonly logs: LogsView
  readonly ha: ReadonlyArray<HaGroupView>
  readonly steps: ReadonlyArray<StepView>
  readonly expectations: ReadonlyArray<ExpectationView>
  readonly finished: { readonly passed: number; readonly failed: number } | null
  /** The last notable event, in one sentence. */
  readonly explain: { readonly text: string; readonly tone: Tone }
  /** The last command's reply and the lab time it came at (see `explainLine`). */
  readonly reply: { readonly text: string; readonly tone: Tone; readonly at: number } | null
  readonly panel: PanelId
  readonly selected: number
  readonly help: boolean
}

/** One plain sentence per notable event, null for the others (the CLI passes its `eventText`). */
export type Explain = (event: LabEvent) => string | null | undefined

const emptyTraffic: TrafficView = { sent: 0, stored: 0, acked: 0, queued: 0, dropped: 0, malformed: 0, second: 0, buckets: [] }

/** The HA groups as the snapshot has them (members and roles; history starts with the events). */
const groupsOf = (snapshot: SnapshotMessage): ReadonlyArray<HaGroupView> => {
  const groups = new Map<string, Array<{ device: string; role: string; missed: string | null }>>()
  for (const d of snapshot.devices) {
    if (d.ha !== undefined) groups.set(d.ha.group, [...(groups.get(d.ha.group) ?? []), { device: d.id, role: d.ha.role, missed: null }])
  }
  return [...groups].map(([group, members]) => ({ group, members: members.sort((a, b) => a.device.localeCompare(b.device)), history: [] }))
}

export const initialState = (snapshot: SnapshotMessage): ViewState => ({
  lab: snapshot.lab,
  connected: true,
  now: 0,
  devices: snapshot.devices.map((d) => ({ id: d.id, kind: d.kind, status: d.status, link: null, paused: false, ha: d.ha ?? null, pending: null })),
  ports: snapshot.listeners.map((l) => ({ ...l, state: "listening" as const, reason: null, claim: false })),
  traffic: {},
  storedTotals: {},
  logs: { lines: [], analyzer: null, filter: {}, editing: null, problem: null },
  ha: groupsOf(snapshot),
  steps: [],
  expectations: [],
  finished: null,
  explain: { text: `attached to lab ${snapshot.lab}; press ? for keys`, tone: "info" },
  reply: null,
  panel: "topology",
  selected: 0,
  help: false
})

/** Adds `count` stored logs at lab time `at` to a sparkline, shifting it to the newest second. */
export const addToSpark = (traffic: TrafficView, at: number, count: number): TrafficView => {
  const second = Math.floor(at / 1000)
  const aligned = alignSpark(traffic, second)
  const index = aligned.buckets.length - 1 - (aligned.second - second)
  if (index < 0) return aligned
  const buckets = [...aligned.buckets]
  buckets[index] = (buckets[index] ?? 0) + count
  return { ...aligned, buckets }
}

/** The sparkline shifted so its last bucket is `second` (a quiet device's line drifts to zero). */
export const alignSpark = (traffic: TrafficView, second: number): TrafficView => {
  if (traffic.buckets.length > 0 && second <= traffic.second) return traffic
  const shift = traffic.buckets.length === 0 ? SPARK_SECONDS : Math.min(second - traffic.second, SPARK_SECONDS)
  return { ...traffic, second, buckets: [...traffic.buckets.slice(shift), ...Array.from({ length: shift }, () => 0)] }
}

/** The rate of the last complete second (logs stored per second). */
export const rateOf = (traffic: TrafficView, nowSecond: number): number => {
  const aligned = alignSpark(traffic, nowSecond)
  return aligned.buckets[aligned.buckets.length - 2] ?? 0
}

const toneOf = (event: LabEvent): Tone => {
  switch (event.type) {
    case "fortiguard-update":
    case "mea-update":
      return event.state === "downloaded" || event.state === "up-to-date" ? "ok" : "bad"
    case "listener-failed":
    case "step-failed":
    case "expectation-failed":
    case "logs-dropped":
    case "log-malformed":
    case "ha-split-brain":
    case "ldap-refused":
      return "bad"
    case "device-stopped":
    case "ha-heartbeat-missed":
    case "listener-closed":
    case "listener-moved":
      return "warn"
    case "expectation-passed":
    case "device-authorized":
    case "ha-split-brain-healed":
    case "ha-synced":
    case "ha-heartbeat-resumed":
      return "ok"
    default:
      return "info"
  }
}

/** A working copy of the state for one batch: cloned once, mutated, returned. */
interface Draft {
  lab: string
  now: number
  devices: DeviceView[]
  ports: PortView[]
  traffic: Record<string, TrafficView>
  storedTotals: Record<string, number>
  ha: HaGroupView[]
  steps: StepView[]
  expectations: ExpectationView[]
  finished: ViewState["finished"]
  explain: ViewState["explain"]
}

const updateDevice = (draft: Draft, id: string, change: (device: DeviceView) => DeviceView): void => {
  const index = draft.devices.findIndex((d) => d.id === id)
  if (index >= 0) draft.devices[index] = change(draft.devices[index] as DeviceView)
}

const updateTraffic = (draft: Draft, id: string, change: (traffic: TrafficView) => TrafficView): void => {
  draft.traffic[id] = change(draft.traffic[id] ?? emptyTraffic)
}

const setPort = (draft: Draft, port: PortView): void => {
  const index = draft.ports.findIndex((p) => p.device === port.device && p.port === port.port)
  if (index >= 0) draft.ports[index] = port
  else draft.ports.push(port)
}

const updateGroup = (draft: Draft, group: string, change: (view: HaGroupView) => HaGroupView): void => {
  const index = draft.ha.findIndex((g) => g.group === group)
  const current = draft.ha[index] ?? { group, members: [], history: [] }
  if (index >= 0) draft.ha[index] = change(current)
  else draft.ha.push(change(current))
}

const withHistory = (view: HaGroupView, at: number, text: string): HaGroupView => ({
  ...view,
  history: [...view.history, { at, text }].slice(-HA_HISTORY)
})

const applyEvent = (draft: Draft, event: LabEvent): void => {
  switch (event.type) {
    case "lab-started":
    case "lab-stopped":
      draft.lab = event.lab
      return
    case "device-started":
    case "device-stopped": {
      const status = event.type === "device-started" ? "running" : "stopped"
      if (!draft.devices.some((d) => d.id === event.device)) {
        draft.devices.push({ id: event.device, kind: event.kind, status, link: null, paused: false, ha: null, pending: null })
      } else updateDevice(draft, event.device, (d) => ({ ...d, status, ...(status === "stopped" ? { paused: false } : {}) }))
      return
    }
    case "listener-bound":
      return setPort(draft, { device: event.device, port: event.port, address: event.address, actualPort: event.actualPort, state: "listening", reason: null, claim: false })
    case "listener-moved":
      // Still listening, on another socket: the reason says how it is read now.
      return setPort(draft, { device: event.device, port: event.port, address: event.address, actualPort: event.actualPort, state: "listening", reason: event.reason, claim: false })
    case "listener-closed": {
      const known = draft.ports.find((p) => p.device === event.device && p.port === event.port)
      return setPort(draft, { device: event.device, port: event.port, address: known?.address ?? "-", actualPort: known?.actualPort ?? 0, state: "closed", reason: null, claim: false })
    }
    case "listener-failed":
      // One failure may leave several ports unbound (an HA primary without its virtual IP).
      for (const port of event.ports ?? [event.port]) {
        const actualPort = port === event.port ? event.actualPort : draft.ports.find((p) => p.address === event.address && p.port === port)?.actualPort ?? 0
        setPort(draft, { device: event.device, port, address: event.address, actualPort, state: "failed", reason: event.reason, claim: event.ports !== undefined })
      }
      return
    case "sender-state":
      return updateDevice(draft, event.device, (d) => ({ ...d, link: event.state, paused: event.state === "paused" }))
    case "oftp-link":
      return updateDevice(draft, event.device, (d) => ({ ...d, link: `oftp ${event.state}` }))
    case "logs-sent":
      return updateTraffic(draft, event.device, (t) => ({ ...t, sent: Math.max(t.sent, event.total) }))
    case "logs-acked":
      return updateTraffic(draft, event.device, (t) => ({ ...t, acked: Math.max(t.acked, event.total), queued: event.queued }))
    case "logs-dropped":
      return updateTraffic(draft, event.device, (t) => ({ ...t, dropped: Math.max(t.dropped, event.total) }))
    case "log-malformed":
      return updateTraffic(draft, event.device, (t) => ({ ...t, malformed: t.malformed + 1 }))
    case "logs-stored": {
      const pair = `${event.device}>${event.from}`
      const before = draft.storedTotals[pair]
      const added = Math.max(0, before === undefined ? event.total : event.total - before)
      draft.storedTotals[pair] = Math.max(before ?? 0, event.total)
      // Devices are keyed by lab id: `from` is the name the analyzer filed the logs under (a
      // FortiClient's hostname), `sender` the lab id when the sender is a lab device.
      const sender = event.sender ?? event.from
      for (const id of event.device === sender ? [event.device] : [event.device, sender]) {
        updateTraffic(draft, id, (t) => addToSpark({ ...t, stored: t.stored + added }, event.at, event.count))
      }
      return
    }
    case "device-registered":
      return updateDevice(draft, event.name, (d) => ({ ...d, pending: event.status === "unauthorized" ? event.serial : null }))
    case "device-authorized": {
      // The held logs were stored all along, apart; now they show with the others (`fazlab logs`).
      // No logs-stored total counts them: they join the analyzer's and the sender's stored count
      // here (the sender is the device that waited under this serial), not the per-second rate.
      const sender = draft.devices.find((d) => d.pending === event.serial)?.id
      for (const id of sender === undefined || sender === event.device ? [event.device] : [event.device, sender]) {
        updateTraffic(draft, id, (t) => ({ ...t, stored: t.stored + event.released }))
      }
      draft.devices = draft.devices.map((d) => (d.pending === event.serial ? { ...d, pending: null } : d))
      return
    }
    case "device-deleted":
      draft.devices = draft.devices.map((d) => (d.pending === event.serial ? { ...d, pending: null } : d))
      return
    case "ha-role":
      // A member that is no longer primary claims no virtual IP: its failed claims describe nothing now.
      if (event.role !== "primary") draft.ports = draft.ports.filter((p) => !(p.device === event.device && p.claim))
      updateDevice(draft, event.device, (d) => ({ ...d, ha: { group: event.group, role: event.role } }))
      return updateGroup(draft, event.group, (g) => {
        const others = g.members.filter((m) => m.device !== event.device)
        const members = [...others, { device: event.device, role: event.role, missed: null }].sort((a, b) => a.device.localeCompare(b.device))
        return withHistory({ ...g, members }, event.at, event.reason)
      })
    case "ha-heartbeat-missed":
      return updateGroup(draft, event.group, (g) => ({
        ...g,
        members: g.members.map((m) => (m.device === event.device ? { ...m, missed: event.heartbeats } : m))
      }))
    case "ha-heartbeat-resumed":
      // Heartbeats come through again: the count of misses in a row starts over.
      return updateGroup(draft, event.group, (g) => ({
        ...g,
        members: g.members.map((m) => (m.device === event.device ? { ...m, missed: null } : m))
      }))
    case "ha-split-brain":
    case "ha-split-brain-healed":
    case "ha-synced":
      return updateGroup(draft, event.group, (g) => withHistory(g, event.at, event.reason))
    case "step-started":
      draft.steps = draft.steps.map((s) => (s.state === "running" ? { ...s, state: "done" as const } : s))
      draft.steps.push({ step: event.step, title: event.title, state: "running", reason: null })
      return
    case "step-failed": {
      const index = draft.steps.findIndex((s) => s.step === event.step)
      const failed: StepView = { step: event.step, title: event.title, state: "failed", reason: event.reason }
      if (index >= 0) draft.steps[index] = failed
      else draft.steps.push(failed)
      return
    }
    case "expectation-passed":
    case "expectation-failed": {
      const view = { id: event.id, title: event.title, detail: event.detail, passed: event.type === "expectation-passed" }
      const index = draft.expectations.findIndex((e) => e.id === event.id)
      if (index >= 0) draft.expectations[index] = view
      else draft.expectations.push(view)
      return
    }
    case "scenario-finished":
      draft.steps = draft.steps.map((s) => (s.state === "running" ? { ...s, state: "done" as const } : s))
      draft.finished = { passed: event.passed, failed: event.failed }
      return
    default:
      // Connections, OFTP/FGFM sessions and event types newer than this UI: nothing to show.
      return
  }
}

/** Folds a batch of events (in the lab's order) into the view. */
export const foldEvents = (state: ViewState, events: ReadonlyArray<LabEvent>, explain: Explain): ViewState => {
  if (events.length === 0) return state
  const draft: Draft = {
    lab: state.lab,
    now: state.now,
    devices: [...state.devices],
    ports: [...state.ports],
    traffic: { ...state.traffic },
    storedTotals: { ...state.storedTotals },
    ha: [...state.ha],
    steps: [...state.steps],
    expectations: [...state.expectations],
    finished: state.finished,
    explain: state.explain
  }
  for (const event of events) {
    // A client must ignore what it does not understand, including a malformed event.
    if (typeof event !== "object" || event === null || typeof event.type !== "string") continue
    if (typeof event.at === "number" && event.at > draft.now) draft.now = event.at
    applyEvent(draft, event)
    const sentence = explain(event)
    if (typeof sentence === "string") draft.explain = { text: sentence.trim(), tone: toneOf(event) }
  }
  return { ...state, ...draft }
}

/** A command's reply (or any message for the user): it holds the explain line for REPLY_HOLD_MS of lab time. */
export const notice = (state: ViewState, text: string, tone: Tone): ViewState => ({ ...state, reply: { text, tone, at: state.now } })

/**
 * What the explain line shows: a command's reply while it is fresh (the events the command
 * causes keep coming after it), else the last notable event.
 */
export const explainLine = (state: ViewState): { readonly text: string; readonly tone: Tone } =>
  state.reply !== null && state.now - state.reply.at < REPLY_HOLD_MS ? state.reply : state.explain

/** The connection to the lab ended: the view freezes with the reason. */
export const disconnected = (state: ViewState, reason: string): ViewState => ({
  ...state,
  connected: false,
  reply: null,
  explain: { text: `${reason}; press q to quit`, tone: "bad" }
})

export type Navigation = "next-panel" | "prev-panel" | "select-up" | "select-down" | "help" | "close"

export const navigate = (state: ViewState, move: Navigation): ViewState => {
  const at = PANELS.indexOf(state.panel)
  switch (move) {
    case "next-panel":
      return { ...state, panel: PANELS[(at + 1) % PANELS.length] as PanelId }
    case "prev-panel":
      return { ...state, panel: PANELS[(at - 1 + PANELS.length) % PANELS.length] as PanelId }
    case "select-up":
      return { ...state, selected: Math.max(0, Math.min(state.selected, state.devices.length - 1) - 1) }
    case "select-down":
      return { ...state, selected: Math.min(Math.max(0, state.devices.length - 1), state.selected + 1) }
    case "help":
      return { ...state, help: !state.help }
    case "close":
      return { ...state, help: false }
  }
}

/** The selected device, if the lab has any. */
export const selectedDevice = (state: ViewState): DeviceView | undefined =>
  state.devices[Math.min(state.selected, state.devices.length - 1)]

const TELLING_FIELDS = ["action", "srcip", "dstip", "dstport", "service", "user", "hostname"] as const

/** One line's worth of a stored log: its message, else its telling fields, else its raw text. */
export const logText = (log: LogLine): string => {
  const fields = log.fields
  if (fields === null) return log.message ?? log.raw
  const message = fields["msg"] ?? fields["logdesc"]
  if (message !== undefined) return message
  const telling = TELLING_FIELDS.flatMap((key) => (fields[key] === undefined ? [] : [`${key}=${fields[key]}`]))
  return telling.length > 0 ? telling.join(" ") : log.raw
}

const lineView = (log: LogLine): LogLineView => ({
  id: log.id,
  receivedAt: log.receivedAt,
  device: log.device,
  level: log.level,
  kind: log.type === null ? "-" : `${log.type}/${log.subtype ?? "-"}`,
  text: logText(log)
})

/** The lab answered a logs query: its lines join the panel's (the newest LOG_LINES stay). */
export const addLogLines = (state: ViewState, logs: ReadonlyArray<LogLine>, analyzer: string): ViewState => ({
  ...state,
  logs: {
    ...state.logs,
    analyzer,
    problem: null,
    lines: logs.length === 0 ? state.logs.lines : [...state.logs.lines, ...logs.map(lineView)].slice(-LOG_LINES)
  }
})

/** The lab refused the logs query: the panel says why. */
export const logsRefused = (state: ViewState, reason: string): ViewState => ({ ...state, logs: { ...state.logs, problem: reason } })

/** `/`: the logs panel takes the focus and asks for a filter, starting from the current one. */
export const startFilter = (state: ViewState): ViewState => ({
  ...state,
  panel: "logs",
  help: false,
  // A space after the current filter, ready for one more word.
  logs: { ...state.logs, editing: formatLogFilter(state.logs.filter).replace(/(?<=.)$/u, " ") }
})

/** A key while the filter is typed: enter applies it (the lines start over), esc clears it. */
export const editFilter = (state: ViewState, edit: FilterEdit): ViewState => {
  const typed = state.logs.editing ?? ""
  switch (edit.kind) {
    case "type":
      return { ...state, logs: { ...state.logs, editing: typed + edit.text } }
    case "erase":
      return { ...state, logs: { ...state.logs, editing: typed.slice(0, -1) } }
    case "apply":
      return { ...state, logs: { ...state.logs, editing: null, filter: parseLogFilter(typed), lines: [], problem: null } }
    case "clear":
      return { ...state, logs: { ...state.logs, editing: null, filter: {}, lines: [], problem: null } }
  }
}
