/**
 * The terminal UI's root: folds the control channel's events into the view (in batches, at
 * most `flushMs` apart, so a busy lab costs one render per batch), follows the stored logs
 * the logs panel shows (one query per batch at most, for the newest `LOG_LINES` only), lays
 * the panels out for the terminal's size, and turns keys into commands through the one
 * command map.
 *
 * Layout: below 120×40 the topology sits on top and the focused panel (ports when the
 * topology is focused) fills the rest; from 120×40 all six panels show in two columns.
 */
import { Box, Text, useApp, useInput, useWindowSize } from "ink"
import { type ReactNode, useEffect, useRef, useState } from "react"
import { followLogs, type LogFollower, mayHaveNewLogs } from "../control/client.ts"
import type { LabEvent } from "../events/events.ts"
import { type ActionOutcome, faultMember, healAll, runAction, stepNow, type UiClient } from "./actions.ts"
import { commandForKey, filterEditForKey, KEYMAP } from "./keys.ts"
import { ExplainLine, PANEL_VIEWS, type PanelProps } from "./panels.tsx"
import {
  addLogLines,
  disconnected,
  editFilter,
  type Explain,
  foldEvents,
  initialState,
  LOG_LINES,
  logsRefused,
  navigate,
  notice,
  PANELS,
  type PanelId,
  selectedDevice,
  startFilter,
  type ViewState
} from "./state.ts"
import type { Theme } from "./theme.ts"

/** How often buffered events are folded into the view: at most 10 renders a second. */
export const FLUSH_MS = 100

export interface AppProps {
  readonly client: UiClient
  readonly explain: Explain
  readonly theme: Theme
  /** False when stdin is not a terminal: the UI shows, keys are not read (Ctrl-C still stops). */
  readonly keys: boolean
  /** What `q` does, for the help overlay ("quit" for attach, "stop the lab" for up). */
  readonly quitLabel: string
  readonly flushMs?: number
}

const WIDE = { columns: 120, rows: 40 } as const

const Header = (props: { readonly state: ViewState; readonly theme: Theme; readonly width: number }): ReactNode => (
  <Box width={props.width}>
    <Text wrap="truncate">
      <Text {...props.theme.style("title")}>fazlab</Text>
      <Text>{` ${props.state.lab} ${(props.state.now / 1000).toFixed(1)}s${props.state.connected ? "" : " (disconnected)"}  `}</Text>
      {PANELS.map((id) => (
        <Text key={id} {...props.theme.style(id === props.state.panel ? "selected" : "muted")}>{` ${id} `}</Text>
      ))}
    </Text>
  </Box>
)

const Help = (props: { readonly theme: Theme; readonly width: number; readonly height: number; readonly quitLabel: string }): ReactNode => (
  <Box flexDirection="column" borderStyle="round" width={props.width} height={props.height} paddingX={1} overflow="hidden">
    <Text {...props.theme.style("title")}>keys (? or esc closes this)</Text>
    {KEYMAP.map((binding) => (
      <Text key={binding.command} wrap="truncate">
        <Text {...props.theme.style("accent")}>{binding.label.padEnd(10)}</Text>
        {binding.command === "quit" ? props.quitLabel : binding.help}
      </Text>
    ))}
  </Box>
)

const KeyHint = (props: { readonly theme: Theme; readonly width: number }): ReactNode => (
  <Box width={props.width}>
    <Text wrap="truncate" {...props.theme.style("muted")}>
      tab:panel ↑↓:device s:stop k:kill r:restart x:cut h:heal /:filter ?:help q:quit
    </Text>
  </Box>
)

const Body = (props: { readonly state: ViewState; readonly theme: Theme; readonly width: number; readonly height: number }): ReactNode => {
  const { state, theme, width, height } = props
  const panel = (id: PanelId, w: number, h: number): ReactNode => {
    const View = PANEL_VIEWS[id]
    const panelProps: PanelProps = { state, theme, width: w, height: h, focused: state.panel === id }
    return <View key={id} {...panelProps} />
  }
  if (width >= WIDE.columns && height + 4 >= WIDE.rows) {
    const left = Math.floor(width / 2)
    const third = Math.floor(height / 3)
    const column = (ids: ReadonlyArray<PanelId>, w: number) => (
      <Box flexDirection="column" width={w}>
        {ids.map((id, i) => panel(id, w, i === ids.length - 1 ? height - third * (ids.length - 1) : third))}
      </Box>
    )
    return (
      <Box width={width} height={height}>
        {column(["topology", "ports", "ha"], left)}
        {column(["traffic", "logs", "timeline"], width - left)}
      </Box>
    )
  }
  const topology = Math.min(state.devices.length + 3, Math.floor(height / 2))
  return (
    <Box flexDirection="column" width={width} height={height}>
      {panel("topology", width, topology)}
      {panel(state.panel === "topology" ? "ports" : state.panel, width, height - topology)}
    </Box>
  )
}

export const App = (props: AppProps): ReactNode => {
  const { client, explain, flushMs = FLUSH_MS } = props
  const { exit } = useApp()
  const { columns, rows } = useWindowSize()
  const [state, setState] = useState(() => initialState(client.snapshot))
  const current = useRef(state)
  current.current = state

  // Folds the queued events now; a command's reply goes through it so it lands after the events it caused.
  const flushRef = useRef<() => void>(() => undefined)
  // The logs panel's follower, started again whenever the filter changes.
  const logsRef = useRef<LogFollower | null>(null)
  const filter = state.logs.filter

  useEffect(() => {
    const follower = followLogs(client, {
      query: { ...filter, limit: LOG_LINES },
      pageLimit: LOG_LINES,
      latest: true,
      onLogs: (logs, analyzer) => setState((s) => addLogLines(s, logs, analyzer)),
      onRefused: (reason) => setState((s) => logsRefused(s, reason))
    })
    logsRef.current = follower
    return () => follower.stop()
  }, [client, filter])

  useEffect(() => {
    let live = true
    let buffer: LabEvent[] = []
    let newLogs = false
    const flush = () => {
      if (newLogs) logsRef.current?.poke()
      newLogs = false
      if (buffer.length === 0 || !live) return
      const batch = buffer
      buffer = []
      setState((s) => foldEvents(s, batch, explain))
    }
    flushRef.current = flush
    // The listener only queues: the lab's stream never waits for a render.
    const stop = client.onEvent((event) => {
      buffer.push(event)
      if (mayHaveNewLogs(event)) newLogs = true
    })
    const timer = setInterval(flush, flushMs)
    void client.closed.then((closed) => {
      flush()
      if (!live) return
      const why = closed.dropped !== null
        ? `the lab dropped this UI: ${closed.dropped}`
        : `the lab's control channel closed (${closed.code}${closed.reason === "" ? "" : ` ${closed.reason}`})`
      setState((s) => disconnected(s, why))
    })
    return () => {
      live = false
      stop()
      clearInterval(timer)
    }
  }, [client, explain, flushMs])

  const report = (pending: string, outcome: Promise<ActionOutcome>) => {
    setState((s) => notice(s, pending, "info"))
    void outcome.then(({ text, tone }) => {
      flushRef.current()
      setState((s) => notice(s, text, tone))
    })
  }

  useInput((input, key) => {
    if (current.current.logs.editing !== null) {
      const edit = filterEditForKey(input, key)
      if (edit !== null) setState((s) => editFilter(s, edit))
      return
    }
    const command = commandForKey(input, key)
    switch (command) {
      case null:
        return
      case "quit":
        return exit()
      case "next-panel":
      case "prev-panel":
      case "select-up":
      case "select-down":
      case "help":
      case "close":
        return setState((s) => navigate(s, command))
      case "stop":
      case "kill":
      case "restart":
      case "authorize":
      case "pause": {
        const device = selectedDevice(current.current)
        return report(`${command} ${device?.id ?? ""}...`, runAction(client, command, device))
      }
      case "isolate":
      case "degrade": {
        const device = selectedDevice(current.current)
        const fault = command === "isolate" ? "partition" : "degrade"
        return report(`${fault} ${device?.id ?? ""}...`, faultMember(client, fault, device, current.current.ha))
      }
      case "heal":
        return report("heal...", healAll(client, current.current.ha))
      case "step":
        return report("step...", stepNow(client))
      case "filter-logs":
        return setState(startFilter)
    }
  }, { isActive: props.keys })

  // One row short of the screen: a frame as tall as the terminal makes ink clear it every time.
  const height = Math.max(8, rows - 1)
  const body = height - 3
  return (
    <Box flexDirection="column" width={columns} height={height}>
      <Header state={state} theme={props.theme} width={columns} />
      {state.help
        ? <Help theme={props.theme} width={columns} height={body} quitLabel={props.quitLabel} />
        : <Body state={state} theme={props.theme} width={columns} height={body} />}
      <ExplainLine state={state} theme={props.theme} width={columns} />
      <KeyHint theme={props.theme} width={columns} />
    </Box>
  )
}
