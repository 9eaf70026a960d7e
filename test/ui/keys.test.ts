/**
 * The one command map and the theme choice: each key means one command, modifiers are not
 * ignored, and NO_COLOR (or TERM=dumb) gives a theme without colours.
 */
import { describe, expect, it } from "vitest"
import { commandForKey, filterEditForKey, KEYMAP, type KeyPress } from "../../src/ui/keys.ts"
import { colourTheme, monochromeTheme, type Role, themeFor } from "../../src/ui/theme.ts"

const plain: KeyPress = {
  tab: false,
  shift: false,
  upArrow: false,
  downArrow: false,
  escape: false,
  ctrl: false,
  meta: false,
  return: false,
  backspace: false,
  delete: false
}

describe("command map", () => {
  it("binds each command once and maps keys to commands", () => {
    expect(new Set(KEYMAP.map((b) => b.command)).size).toBe(KEYMAP.length)
    expect(commandForKey("", { ...plain, tab: true })).toBe("next-panel")
    expect(commandForKey("", { ...plain, tab: true, shift: true })).toBe("prev-panel")
    expect(commandForKey("", { ...plain, upArrow: true })).toBe("select-up")
    expect(commandForKey("", { ...plain, escape: true })).toBe("close")
    expect(commandForKey("s", plain)).toBe("stop")
    expect(commandForKey("?", plain)).toBe("help")
    expect(commandForKey("q", plain)).toBe("quit")
    expect(commandForKey("x", plain)).toBe("isolate")
    expect(commandForKey("d", plain)).toBe("degrade")
    expect(commandForKey("h", plain)).toBe("heal")
    expect(commandForKey("n", plain)).toBe("step")
    expect(commandForKey("/", plain)).toBe("filter-logs")
  })

  it("leaves other keys and ctrl combinations alone", () => {
    expect(commandForKey("z", plain)).toBeNull()
    expect(commandForKey("S", plain)).toBeNull()
    expect(commandForKey("s", { ...plain, ctrl: true })).toBeNull()
  })
})

describe("keys while the logs filter is typed", () => {
  it("are text, except enter (apply), esc (clear) and backspace (erase)", () => {
    expect(filterEditForKey("s", plain)).toEqual({ kind: "type", text: "s" })
    expect(filterEditForKey("level:warning", plain)).toEqual({ kind: "type", text: "level:warning" })
    expect(filterEditForKey("\r", { ...plain, return: true })).toEqual({ kind: "apply" })
    expect(filterEditForKey("", { ...plain, escape: true })).toEqual({ kind: "clear" })
    expect(filterEditForKey("", { ...plain, backspace: true })).toEqual({ kind: "erase" })
    expect(filterEditForKey("", { ...plain, delete: true })).toEqual({ kind: "erase" })
    expect(filterEditForKey("c", { ...plain, ctrl: true })).toBeNull()
    expect(filterEditForKey("", { ...plain, upArrow: true })).toBeNull()
    expect(filterEditForKey("\t", { ...plain, tab: true })).toBeNull()
  })
})

describe("theme", () => {
  const roles: ReadonlyArray<Role> = ["ok", "bad", "warn", "info", "muted", "accent", "title", "selected"]

  it("is monochrome under NO_COLOR or TERM=dumb, in colour otherwise", () => {
    expect(themeFor({ NO_COLOR: "1" })).toBe(monochromeTheme)
    expect(themeFor({ TERM: "dumb" })).toBe(monochromeTheme)
    expect(themeFor({ NO_COLOR: "" })).toBe(colourTheme)
    expect(themeFor({})).toBe(colourTheme)
  })

  it("monochrome uses no colour at all, and still marks bad and selected", () => {
    for (const role of roles) expect(monochromeTheme.style(role).color).toBeUndefined()
    expect(monochromeTheme.border(true)).toBeUndefined()
    expect(monochromeTheme.style("bad").bold).toBe(true)
    expect(monochromeTheme.style("selected").inverse).toBe(true)
    expect(colourTheme.style("bad").color).toBe("red")
  })
})
