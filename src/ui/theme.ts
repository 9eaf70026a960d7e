/**
 * Semantic colours for the terminal UI: components ask for a role ("ok", "bad", "muted", ...)
 * and get ink `<Text>` props. With `NO_COLOR` set (https://no-color.org) or `TERM=dumb` the
 * theme is monochrome: the same roles become bold, dim or inverse, and every state is also
 * written as a word, so nothing depends on colour alone.
 */
export type Role = "ok" | "bad" | "warn" | "info" | "muted" | "accent" | "title" | "selected"

/** The `<Text>` props a role maps to. */
export interface TextStyle {
  readonly color?: string
  readonly bold?: boolean
  readonly dimColor?: boolean
  readonly inverse?: boolean
}

export interface Theme {
  readonly color: boolean
  /** The border colour of a panel, focused or not (undefined: the terminal's own). */
  readonly border: (focused: boolean) => string | undefined
  readonly style: (role: Role) => TextStyle
}

const COLOURS: Readonly<Record<Role, TextStyle>> = {
  ok: { color: "green" },
  bad: { color: "red", bold: true },
  warn: { color: "yellow" },
  info: { color: "cyan" },
  muted: { dimColor: true },
  accent: { color: "magenta" },
  title: { bold: true },
  selected: { inverse: true }
}

const MONOCHROME: Readonly<Record<Role, TextStyle>> = {
  ok: {},
  bad: { bold: true },
  warn: { bold: true },
  info: {},
  muted: { dimColor: true },
  accent: { bold: true },
  title: { bold: true },
  selected: { inverse: true }
}

export const colourTheme: Theme = {
  color: true,
  border: (focused) => (focused ? "cyan" : "gray"),
  style: (role) => COLOURS[role]
}

export const monochromeTheme: Theme = {
  color: false,
  border: () => undefined,
  style: (role) => MONOCHROME[role]
}

/** The theme the environment asks for: monochrome under NO_COLOR (any non-empty value) or TERM=dumb. */
export const themeFor = (env: Readonly<Record<string, string | undefined>>): Theme =>
  (env["NO_COLOR"] ?? "") !== "" || env["TERM"] === "dumb" ? monochromeTheme : colourTheme
