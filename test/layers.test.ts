/**
 * Imports point down the layer table of docs/architecture.md, and the terminal UI draws only what
 * the control channel and the events say: src/ui imports src/events and src/control, never the
 * machines, devices, lab or store below them (its wording comes from the event or state it draws).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"

const SRC = path.resolve(import.meta.dirname, "..", "src")

/** The table's order, lowest first: a layer imports only layers before it (and itself). */
const LAYERS = ["catalog", "events", "protocols", "net", "machines", "store", "devices", "lab", "control", "placement", "probe", "export", "ui", "cli"] as const

/** What the UI may import: it talks to a lab only through the control channel. */
const UI_MAY_IMPORT = new Set(["ui", "events", "control"])

const sourceFiles = (dir: string): ReadonlyArray<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name)
    return entry.isDirectory() ? sourceFiles(file) : /\.tsx?$/.test(entry.name) ? [file] : []
  })

/** Every relative import of the tree as "from-file -> imported layer". */
const imports = sourceFiles(SRC).flatMap((file) => {
  const text = fs.readFileSync(file, "utf8")
  return [...text.matchAll(/(?:from|import\()\s*"(\.{1,2}\/[^"]+)"/g)].map((match) => ({
    file: path.relative(SRC, file),
    layer: path.relative(SRC, file).split(path.sep)[0] ?? "",
    imported: path.relative(SRC, path.resolve(path.dirname(file), match[1] ?? "")).split(path.sep)[0] ?? ""
  }))
})

describe("layers", () => {
  it("every folder under src/ is in the layer table", () => {
    const folders = fs.readdirSync(SRC, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name)
    expect(folders.filter((folder) => !(LAYERS as ReadonlyArray<string>).includes(folder))).toEqual([])
  })

  it("imports point down only", () => {
    const rank = (layer: string) => (LAYERS as ReadonlyArray<string>).indexOf(layer)
    const upward = imports.filter(({ layer, imported }) => rank(imported) > rank(layer)).map(({ file, imported }) => `${file} -> ${imported}`)
    expect(upward).toEqual([])
  })

  it("the UI imports only the events and the control channel", () => {
    const outside = imports.filter(({ layer, imported }) => layer === "ui" && !UI_MAY_IMPORT.has(imported)).map(({ file, imported }) => `${file} -> ${imported}`)
    expect(outside).toEqual([])
  })
})
