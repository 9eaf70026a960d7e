/**
 * The UI's panels, pure views of `ViewState`: topology, ports, traffic, HA, logs and timeline.
 * Each fits the width and height it is given (rows beyond the height are cut, the selected
 * device stays in view), writes every state as a word as well as a colour, and knows nothing
 * of the control channel.
 */
import { Box, Text } from "ink"
import type { ReactNode } from "react"
import {
  alignSpark,
  explainLine,
  type PanelId,
  rateOf,
  selectedDevice,
  type TrafficView,
  type ViewState
} from "./state.ts"
import { formatLogFilter } from "./log-filter.ts"
import type { Role, Theme } from "./theme.ts"

export interface PanelProps {
  readonly state: ViewState
  readonly theme: Theme
  readonly width: number
  readonly height: number
  readonly focused: boolean
}

/** A line of a panel: its text and the role that colours it. */
interface Line {
  readonly key: string
  readonly text: string
  readonly role?: Role
}

const TITLES: Readonly<Record<PanelId, string>> = {
  topology: "topology",
  ports: "ports",
  traffic: "traffic",
  ha: "HA",
  logs: "logs",
  timeline: "timeline"
}

const SPARKS = "▁▂▃▄▅▆▇█"

/** A sparkline of `values`: ▁ for zero, then eight steps up to the largest value. */
export const sparkline = (values: ReadonlyArray<number>): string => {
  const max = Math.max(0, ...values)
  return values.map((v) => (v <= 0 || max === 0 ? SPARKS[0] : SPARKS[Math.max(1, Math.ceil((v / max) * (SPARKS.length - 1)))])).join("")
}

const pad = (text: string, width: number): string => (text.length >= width ? `${text.slice(0, Math.max(0, width - 1))} ` : text.padEnd(width))

/** "1234", "12.3k", "4.5M": counters that fit a column. */
export const count = (n: number): string =>
  n < 10_000 ? String(n) : n < 1_000_000 ? `${(n / 1000).toFixed(1)}k` : `${(n / 1_000_000).toFixed(1)}M`

const seconds = (at: number): string => `${(at / 1000).toFixed(1)}s`

/** A bordered panel with a title; `lines` beyond the inner height are cut, keeping `keep` in view. */
const Frame = (
  props: PanelProps & {
    readonly id: PanelId
    readonly lines: ReadonlyArray<Line>
    readonly keep?: number
    readonly note?: string
    /** Lines above `lines` that never scroll away. */
    readonly pinned?: ReadonlyArray<Line>
  }
): ReactNode => {
  const pinned = props.pinned ?? []
  const inner = Math.max(0, props.height - 3 - pinned.length)
  const keep = props.keep ?? 0
  const start = Math.max(0, Math.min(keep - inner + 1, props.lines.length - inner))
  const shown = [...pinned, ...props.lines.slice(start, start + inner)]
  const title = `${props.focused ? "▸ " : ""}${TITLES[props.id]}${props.note === undefined ? "" : ` · ${props.note}`}`
  return (
    <Box
      flexDirection="column"
      borderStyle="round"
      {...(props.theme.border(props.focused) === undefined ? {} : { borderColor: props.theme.border(props.focused) as string })}
      width={props.width}
      height={props.height}
      paddingX={1}
      overflow="hidden"
    >
      <Text wrap="truncate" {...props.theme.style(props.focused ? "title" : "muted")}>{title}</Text>
      {shown.map((line) => (
        <Text key={line.key} wrap="truncate" {...(line.role === undefined ? {} : props.theme.style(line.role))}>{line.text}</Text>
      ))}
    </Box>
  )
}

const statusRole = (status: string): Role => (status === "running" ? "ok" : status === "failed" ? "bad" : status === "stopped" ? "warn" : "info")

export const TopologyPanel = (props: PanelProps): ReactNode => {
  const selected = selectedDevice(props.state)
  const lines = props.state.devices.map((d): Line => {
    const role = d.ha === null ? "" : `${d.ha.role} (${d.ha.group})`
    const extra = [role, d.pending === null ? "" : `waiting for authorization (${d.pending})`, d.link ?? ""].filter((s) => s !== "").join(" · ")
    const mark = d === selected ? "›" : " "
    return {
      key: d.id,
      text: `${mark} ${pad(d.id, 10)}${pad(d.kind, 14)}${pad(d.paused ? "paused" : d.status, 9)}${extra}`,
      role: d === selected ? "selected" : d.pending !== null ? "warn" : statusRole(d.status)
    }
  })
  return (
    <Frame
      {...props}
      id="topology"
      lines={lines.length === 0 ? [{ key: "none", text: "the lab has no devices", role: "muted" }] : lines}
      keep={props.state.selected}
      note={`${props.state.devices.filter((d) => d.status === "running").length}/${props.state.devices.length} running`}
    />
  )
}

const portRole = (state: string): Role => (state === "listening" ? "ok" : state === "failed" ? "bad" : "warn")

/**
 * An analyzer's management ports (SSH, HTTP, FGFM from a FortiManager, the XML web service, DC
 * polling, log aggregation, FortiRecorder's FTP, notify and RTSP): listed after the ports logs and
 * HA travel on, so a short panel shows those first.
 */
const MANAGEMENT_PORTS: ReadonlySet<string> = new Set(["tcp/22", "tcp/80", "tcp/541", "tcp/8080", "tcp/445", "tcp/3000", "tcp/21", "tcp/3010", "tcp/3011", "udp/554", "tcp/554"])

export const PortsPanel = (props: PanelProps): ReactNode => {
  const ordered = [...props.state.ports.filter((p) => !MANAGEMENT_PORTS.has(p.port)), ...props.state.ports.filter((p) => MANAGEMENT_PORTS.has(p.port))]
  const lines = ordered.map((p): Line => ({
    key: `${p.device} ${p.port}`,
    text: `${pad(p.device, 10)}${pad(p.port, 10)}→ ${pad(`${p.address}:${p.actualPort}`, 22)}${p.state}${p.reason === null ? "" : `: ${p.reason}`}`,
    role: portRole(p.state)
  }))
  return (
    <Frame
      {...props}
      id="ports"
      lines={lines.length === 0 ? [{ key: "none", text: "no listeners yet", role: "muted" }] : lines}
      note="documented → actual"
    />
  )
}

export const TrafficPanel = (props: PanelProps): ReactNode => {
  const nowSecond = Math.floor(props.state.now / 1000)
  const sparkWidth = Math.max(0, Math.min(30, props.width - 4 - 62))
  const header: Line = { key: "header", text: `${pad("device", 10)}${pad("sent", 8)}${pad("stored", 8)}${pad("acked", 8)}${pad("queued", 7)}${pad("drop", 6)}${pad("bad", 5)}${pad("/s", 6)}${sparkWidth > 0 ? "stored/s" : ""}`, role: "muted" }
  const rows = props.state.devices.flatMap((d): ReadonlyArray<Line> => {
    const t: TrafficView | undefined = props.state.traffic[d.id]
    if (t === undefined) return []
    const spark = sparkWidth > 0 ? sparkline(alignSpark(t, nowSecond).buckets.slice(-sparkWidth)) : ""
    return [{
      key: d.id,
      text: `${pad(d.id, 10)}${pad(count(t.sent), 8)}${pad(count(t.stored), 8)}${pad(count(t.acked), 8)}${pad(count(t.queued), 7)}${pad(count(t.dropped), 6)}${pad(count(t.malformed), 5)}${pad(count(rateOf(t, nowSecond)), 6)}${spark}`,
      role: t.dropped > 0 || t.malformed > 0 ? "warn" : "ok"
    }]
  })
  return <Frame {...props} id="traffic" lines={rows.length === 0 ? [{ key: "none", text: "no logs have moved yet", role: "muted" }] : [header, ...rows]} />
}

export const HaPanel = (props: PanelProps): ReactNode => {
  const lines = props.state.ha.flatMap((g): ReadonlyArray<Line> => [
    {
      key: `group ${g.group}`,
      text: `${g.group}: ${g.members.map((m) => `${m.device} ${m.role}${m.missed === null ? "" : ` (missed ${m.missed})`}`).join(", ")}`,
      role: g.members.some((m) => m.role === "primary") ? "ok" : "bad"
    },
    ...g.history.slice().reverse().map((h, i): Line => ({ key: `${g.group} ${i}`, text: `  ${seconds(h.at)} ${h.text}`, role: "muted" }))
  ])
  return <Frame {...props} id="ha" lines={lines.length === 0 ? [{ key: "none", text: "no HA group has reported a role yet", role: "muted" }] : lines} />
}

const clockTime = (ms: number): string => new Date(ms).toISOString().slice(11, 19)

/** FortiOS levels in at most 7 characters: "information" is "info". */
const levelLabel = (level: string | null): string =>
  level === null ? "-" : level === "information" ? "info" : level === "emergency" ? "emerg" : level

const levelRole = (level: string | null): Role | undefined =>
  level === "emergency" || level === "alert" || level === "critical" || level === "error" ? "bad" : level === "warning" ? "warn" : undefined

export const LogsPanel = (props: PanelProps): ReactNode => {
  const { lines, analyzer, filter, editing, problem } = props.state.logs
  const typed = formatLogFilter(filter)
  const shown = lines.map((log): Line => ({
    key: String(log.id),
    text: `${clockTime(log.receivedAt)} ${pad(log.device, 9)}${pad(levelLabel(log.level), 8)}${pad(log.kind, 16)}${log.text}`,
    ...(levelRole(log.level) === undefined ? {} : { role: levelRole(log.level) as Role })
  }))
  // The filter being typed stays on top; the newest line stays in view below it.
  const prompt: ReadonlyArray<Line> = editing === null
    ? []
    : [{ key: "prompt", text: `/ ${editing}█  (enter applies, esc clears)`, role: "accent" }]
  const empty: Line = problem !== null
    ? { key: "problem", text: problem, role: "bad" }
    : { key: "none", text: typed === "" ? "no logs stored yet" : "no stored logs match the filter yet", role: "muted" }
  const body = shown.length === 0 ? [empty] : shown
  return (
    <Frame
      {...props}
      id="logs"
      note={`${analyzer ?? "…"} · ${typed === "" ? "all (/ filters)" : typed}`}
      pinned={prompt}
      lines={body}
      keep={body.length - 1}
    />
  )
}

export const TimelinePanel = (props: PanelProps): ReactNode => {
  const { steps, expectations, finished } = props.state
  const lines: ReadonlyArray<Line> = [
    ...steps.map((s): Line => ({
      key: `step ${s.step}`,
      text: `${s.state === "failed" ? "✗" : s.state === "done" ? "✓" : "▸"} step ${s.step}: ${s.title}${s.reason === null ? "" : ` (${s.reason})`}`,
      role: s.state === "failed" ? "bad" : s.state === "done" ? "ok" : "info"
    })),
    ...expectations.map((e): Line => ({
      key: `expect ${e.id}`,
      text: `${e.passed ? "PASS" : "FAIL"} ${e.title} (${e.detail})`,
      role: e.passed ? "ok" : "bad"
    }))
  ]
  // The verdict stays on top once there is one; below it the newest lines stay in view.
  const verdict: ReadonlyArray<Line> = finished === null
    ? []
    : [{ key: "finished", text: `finished: ${finished.passed} passed, ${finished.failed} failed`, role: finished.failed > 0 ? "bad" : "ok" }]
  return (
    <Frame
      {...props}
      id="timeline"
      pinned={verdict}
      lines={lines.length === 0 ? [{ key: "none", text: "no scenario steps (fazlab run shows them here)", role: "muted" }] : lines}
      keep={lines.length - 1}
    />
  )
}

export const PANEL_VIEWS: Readonly<Record<PanelId, (props: PanelProps) => ReactNode>> = {
  topology: TopologyPanel,
  ports: PortsPanel,
  traffic: TrafficPanel,
  ha: HaPanel,
  logs: LogsPanel,
  timeline: TimelinePanel
}

/** The explain line: the last notable event or command reply, coloured by its tone. */
export const ExplainLine = (props: { readonly state: ViewState; readonly theme: Theme; readonly width: number }): ReactNode => (
  <Box width={props.width}>
    <Text wrap="truncate" {...props.theme.style(explainLine(props.state).tone)}>{explainLine(props.state).text}</Text>
  </Box>
)
