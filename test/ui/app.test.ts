/**
 * The terminal UI rendered at 80×24 (and larger) on a fake terminal: the panels show the
 * snapshot and events, the help overlay lists the command map, lab keys send control
 * commands and put the reply on the explain line, and the layout follows a resize.
 */
import { createElement } from "react"
import { afterEach, describe, expect, it } from "vitest"
import type { LabEvent } from "../../src/events/events.ts"
import { App, type AppProps } from "../../src/ui/app.tsx"
import { KEYMAP } from "../../src/ui/keys.ts"
import { monochromeTheme } from "../../src/ui/theme.ts"
import { type FakeClient, fakeClient } from "./fake-client.ts"
import { KEYS, type Rendered, renderUi } from "./render.ts"

const explain = (event: LabEvent): string | null =>
  event.type === "device-stopped" ? `${event.device} (${event.kind}) stopped` : event.type === "ha-role" ? event.reason : null

const mounted: Rendered[] = []
const show = (client: FakeClient, size?: { columns: number; rows: number }, props: Partial<AppProps> = {}): Rendered => {
  const ui = renderUi(createElement(App, { client, explain, theme: monochromeTheme, keys: true, quitLabel: "quit", flushMs: 10, ...props }), size)
  mounted.push(ui)
  return ui
}

const lines = (frame: string) => frame.split("\n")

/** The commands the keys sent (the logs panel's own queries left out). */
const labCommands = (client: FakeClient) => client.sent.filter((command) => command.name !== "logs")

describe("terminal UI", () => {
  afterEach(() => {
    for (const ui of mounted.splice(0)) ui.unmount()
  })

  it("shows the lab, its devices and its ports at 80×24 within the screen", async () => {
    const ui = show(fakeClient())
    const frame = await ui.waitForFrame((f) => f.includes("topology"))
    expect(frame).toContain("fazlab test-lab")
    expect(frame).toMatch(/faz-1\s+fortianalyzer\s+running/)
    expect(frame).toMatch(/fgt-2\s+fortigate\s+running/)
    expect(frame).toMatch(/faz-1\s+tcp\/514\s+→ 127\.0\.1\.1:40514\s+listening/)
    expect(frame).toContain("attached to lab test-lab; press ? for keys")
    expect(frame).toContain("?:help q:quit")
    expect(lines(frame).length).toBeLessThan(24)
    expect(Math.max(...lines(frame).map((l) => l.length))).toBeLessThanOrEqual(80)
  })

  it("folds events into the panels and the explain line", async () => {
    const client = fakeClient()
    const ui = show(client)
    await ui.waitForFrame((f) => f.includes("topology"))
    client.emit(
      { type: "listener-closed", device: "faz-1", port: "tcp/514", at: 900 },
      { type: "device-stopped", device: "faz-1", kind: "fortianalyzer", at: 1000 }
    )
    const frame = await ui.waitForFrame((f) => f.includes("faz-1 (fortianalyzer) stopped"))
    expect(frame).toMatch(/faz-1\s+fortianalyzer\s+stopped/)
    expect(frame).toMatch(/tcp\/514\s+→ 127\.0\.1\.1:40514\s+closed/)
  })

  it("shows traffic with a sparkline when the traffic panel is focused", async () => {
    const client = fakeClient()
    const ui = show(client)
    await ui.waitForFrame((f) => f.includes("topology"))
    client.emit(
      { type: "logs-sent", device: "fgt-1", to: "faz-1", count: 40, total: 40, at: 100 },
      { type: "logs-stored", device: "faz-1", from: "fgt-1", count: 10, total: 10, at: 500 },
      { type: "logs-stored", device: "faz-1", from: "fgt-1", count: 30, total: 40, at: 1500 }
    )
    ui.press(KEYS.tab)
    ui.press(KEYS.tab)
    const frame = await ui.waitForFrame((f) => f.includes("▸ traffic") && /fgt-1\s+40/.test(f))
    expect(frame).toMatch(/fgt-1\s+40\s+40\s+0\s+0\s+0\s+0\s+10\s+▁*▄█/)
  })

  it("? opens the help overlay with every key of the command map; esc closes it", async () => {
    const ui = show(fakeClient())
    await ui.waitForFrame((f) => f.includes("topology"))
    ui.press("?")
    const help = await ui.waitForFrame((f) => f.includes("keys (? or esc closes this)"))
    for (const binding of KEYMAP) expect(help).toContain(binding.label)
    expect(help).toContain("stop the selected device")
    ui.press(KEYS.escape)
    await ui.waitForFrame((f) => !f.includes("keys (? or esc closes this)") && f.includes("topology"))
  })

  it("selecting a device and pressing s sends stop and shows the reply, after the event it caused", async () => {
    const client: FakeClient = fakeClient((command) => {
      // As the lab does: the command's event comes before its reply.
      client.emit({ type: "device-stopped", device: "fgt-1", kind: "fortigate", at: 2000 })
      return { device: "device" in command ? command.device : "", status: "stopped" }
    })
    const ui = show(client)
    await ui.waitForFrame((f) => f.includes("topology"))
    ui.press(KEYS.down)
    await ui.waitForFrame((f) => /› fgt-1/.test(f))
    ui.press("s")
    const frame = await ui.waitForFrame((f) => f.includes("stopped fgt-1 (now stopped)"))
    expect(frame).toMatch(/fgt-1\s+fortigate\s+stopped/)
    expect(labCommands(client)).toEqual([{ name: "stop", device: "fgt-1" }])
    // The next flush has nothing newer: the reply stays on the explain line.
    expect(ui.lastFrame()).toContain("stopped fgt-1 (now stopped)")
  })

  it("r restarts, k kills, p pauses; a refusal shows on the explain line", async () => {
    const client = fakeClient((command) => {
      if (command.name === "pause") throw new Error("fgt-1 is not a log sender")
      return { device: "device" in command ? command.device : "", status: command.name === "restart" ? "running" : "stopped" }
    })
    const ui = show(client)
    await ui.waitForFrame((f) => f.includes("topology"))
    ui.press("r")
    await ui.waitForFrame((f) => f.includes("restarted faz-1 (now running)"))
    ui.press("k")
    await ui.waitForFrame((f) => f.includes("killed faz-1 (now stopped)"))
    ui.press("p")
    await ui.waitForFrame((f) => f.includes("pause faz-1: fgt-1 is not a log sender"))
    expect(labCommands(client)).toEqual([
      { name: "restart", device: "faz-1" },
      { name: "kill", device: "faz-1" },
      { name: "pause", device: "faz-1" }
    ])
  })

  it("a authorizes the selected device with the serial the analyzer holds", async () => {
    const client = fakeClient((command) =>
      command.name === "devices"
        ? { devices: [{ serial: "FGT2", name: "fgt-2", platform: "FortiGate-60F", version: "7.4", ip: "127.0.1.3", vdoms: ["root"], adom: null, state: "unauthorized", firstSeen: 0, lastSeen: 0, lastSeq: 0, heldLogs: 12, analyzer: "faz-1" }] }
        : { analyzer: "faz-1", serial: "FGT2", adom: "root", released: 12 }
    )
    const ui = show(client)
    await ui.waitForFrame((f) => f.includes("topology"))
    ui.press(KEYS.down)
    ui.press(KEYS.down)
    await ui.waitForFrame((f) => /› fgt-2/.test(f))
    ui.press("a")
    await ui.waitForFrame((f) => f.includes("authorized FGT2 (fgt-2) on faz-1 in ADOM root; released 12 held logs"))
    expect(labCommands(client)).toEqual([{ name: "devices" }, { name: "authorize", serial: "FGT2", analyzer: "faz-1" }])
  })

  it("shows HA roles from events it gets, and says when the lab closes the channel", async () => {
    const client = fakeClient()
    const ui = show(client)
    await ui.waitForFrame((f) => f.includes("topology"))
    client.emit({ type: "ha-role", device: "faz-1", group: "lab", role: "primary", reason: "faz-1 became primary: no other member answered", at: 10 })
    for (let i = 0; i < 3; i++) ui.press(KEYS.tab)
    const frame = await ui.waitForFrame((f) => f.includes("▸ HA") && f.includes("lab: faz-1 primary"))
    expect(frame).toContain("faz-1 became primary")
    client.end({ code: 1001, reason: "the lab stopped", dropped: null })
    await ui.waitForFrame((f) => f.includes("the lab's control channel closed (1001 the lab stopped); press q to quit"))
  })

  it("q quits the UI", async () => {
    const ui = show(fakeClient())
    await ui.waitForFrame((f) => f.includes("topology"))
    ui.press("q")
    await ui.instance.waitUntilExit()
  })

  it("shows every panel at 140×45 and falls back to the stacked layout when resized to 80×24", async () => {
    const ui = show(fakeClient(), { columns: 140, rows: 45 })
    const wide = await ui.waitForFrame((f) => f.includes("timeline"))
    for (const title of ["topology", "ports", "HA", "traffic", "logs", "timeline"]) expect(wide).toContain(` ${title}`)
    expect(wide).toContain("no scenario steps")
    ui.resize(80, 24)
    const narrow = await ui.waitForFrame((f) => !f.includes("no scenario steps") && f.includes("topology"))
    expect(Math.max(...lines(narrow).map((l) => l.length))).toBeLessThanOrEqual(80)
  })
})
