/**
 * The terminal UI's one command map: every key the UI answers to, what it is called, and the
 * line the help overlay (`?`) shows for it. Components never test raw keys themselves; they ask
 * `commandForKey` and act on the command. While the logs filter is typed (after `/`), keys are
 * text instead: `filterEditForKey` says what each one does to it.
 */
import type { Key } from "ink"

export type UiCommand =
  | "next-panel"
  | "prev-panel"
  | "select-up"
  | "select-down"
  | "help"
  | "close"
  | "stop"
  | "kill"
  | "restart"
  | "authorize"
  | "pause"
  | "isolate"
  | "degrade"
  | "heal"
  | "step"
  | "filter-logs"
  | "quit"

/** The parts of a key press the map looks at (ink's `Key` has them all). */
export type KeyPress = Pick<Key, "tab" | "shift" | "upArrow" | "downArrow" | "escape" | "ctrl" | "meta" | "return" | "backspace" | "delete">

export interface KeyBinding {
  readonly command: UiCommand
  /** How the help overlay writes the key. */
  readonly label: string
  readonly help: string
  readonly matches: (input: string, key: KeyPress) => boolean
}

const letter = (ch: string) => (input: string, key: KeyPress): boolean => input === ch && !key.ctrl

export const KEYMAP: ReadonlyArray<KeyBinding> = [
  { command: "next-panel", label: "tab", help: "next panel", matches: (_, key) => key.tab && !key.shift },
  { command: "prev-panel", label: "shift-tab", help: "previous panel", matches: (_, key) => key.tab && key.shift },
  { command: "select-up", label: "↑", help: "select the device above", matches: (_, key) => key.upArrow },
  { command: "select-down", label: "↓", help: "select the device below", matches: (_, key) => key.downArrow },
  { command: "stop", label: "s", help: "stop the selected device", matches: letter("s") },
  { command: "kill", label: "k", help: "kill the selected device: connections cut with no goodbye", matches: letter("k") },
  { command: "restart", label: "r", help: "restart the selected device (stop, then start)", matches: letter("r") },
  { command: "authorize", label: "a", help: "authorize the selected device waiting on an analyzer", matches: letter("a") },
  { command: "pause", label: "p", help: "pause or resume the selected sender's logs", matches: letter("p") },
  { command: "isolate", label: "x", help: "partition the selected HA member from the rest of its group", matches: letter("x") },
  { command: "degrade", label: "d", help: "degrade the selected HA member's heartbeats: half are lost each way", matches: letter("d") },
  { command: "heal", label: "h", help: "heal every partition and degraded heartbeat between HA members", matches: letter("h") },
  { command: "step", label: "n", help: "run the scenario's next step now, without waiting for its time", matches: letter("n") },
  {
    command: "filter-logs",
    label: "/",
    help: "filter the logs: device:D type:T level:L words; enter applies, esc clears",
    matches: letter("/")
  },
  { command: "help", label: "?", help: "show or hide this help", matches: letter("?") },
  { command: "close", label: "esc", help: "close the help", matches: (_, key) => key.escape },
  { command: "quit", label: "q", help: "quit", matches: letter("q") }
]

/** The command a key press means, or null when the map has none. */
export const commandForKey = (input: string, key: KeyPress): UiCommand | null =>
  KEYMAP.find((binding) => binding.matches(input, key))?.command ?? null

/** What a key does to the logs filter being typed. */
export type FilterEdit =
  | { readonly kind: "type"; readonly text: string }
  | { readonly kind: "erase" }
  | { readonly kind: "apply" }
  | { readonly kind: "clear" }

/** The key as an edit of the logs filter: enter applies, esc clears, backspace erases, text is typed; null for other keys. */
export const filterEditForKey = (input: string, key: KeyPress): FilterEdit | null => {
  if (key.return) return { kind: "apply" }
  if (key.escape) return { kind: "clear" }
  if (key.backspace || key.delete) return { kind: "erase" }
  // Printable text only: a paste may bring several characters at once.
  const text = input.replace(/[\p{Cc}]/gu, "")
  return key.ctrl || key.meta || key.tab || key.upArrow || key.downArrow || text === "" ? null : { kind: "type", text }
}
