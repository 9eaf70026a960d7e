/**
 * The terminal UI's one command map: every key the UI answers to, what it is called, and the
 * line the help overlay (`?`) shows for it. Components never test raw keys themselves; they ask
 * `commandForKey` and act on the command.
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
  | "quit"

/** The parts of a key press the map looks at (ink's `Key` has them all). */
export type KeyPress = Pick<Key, "tab" | "shift" | "upArrow" | "downArrow" | "escape" | "ctrl">

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
  { command: "help", label: "?", help: "show or hide this help", matches: letter("?") },
  { command: "close", label: "esc", help: "close the help", matches: (_, key) => key.escape },
  { command: "quit", label: "q", help: "quit", matches: letter("q") }
]

/** The command a key press means, or null when the map has none. */
export const commandForKey = (input: string, key: KeyPress): UiCommand | null =>
  KEYMAP.find((binding) => binding.matches(input, key))?.command ?? null
