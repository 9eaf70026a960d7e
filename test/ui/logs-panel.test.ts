/**
 * The logs panel at 80×24 on a fake terminal: it shows the stored log lines the lab answers
 * with (and new ones after a `logs-stored` event), `/` opens the filter (typed text, enter
 * applies it to the query and the title, esc clears it); and the HA and scenario keys (x, h,
 * n) send partition, heal and step.
 */
import { createElement } from "react"
import { afterEach, describe, expect, it } from "vitest"
import { ControlClientError } from "../../src/control/client.ts"
import type { ControlCommand } from "../../src/control/protocol.ts"
import type { LabEvent } from "../../src/events/events.ts"
import type { StoredLog } from "../../src/store/log-record.ts"
import { App } from "../../src/ui/app.tsx"
import { LOG_LINES } from "../../src/ui/state.ts"
import { monochromeTheme } from "../../src/ui/theme.ts"
import { NO_SYSLOG_HEADER } from "../support/records.ts"
import { type FakeClient, fakeClient, SNAPSHOT } from "./fake-client.ts"
import { KEYS, type Rendered, renderUi } from "./render.ts"

const mounted: Rendered[] = []
const show = (client: FakeClient): Rendered => {
  const ui = renderUi(createElement(App, { client, explain: () => null, theme: monochromeTheme, keys: true, quitLabel: "quit", flushMs: 10 }))
  mounted.push(ui)
  return ui
}

let nextId = 1
const log = (device: string, level: string, msg: string): StoredLog => {
  const id = nextId++
  return {
    id,
    receivedAt: Date.UTC(2025, 0, 2, 3, 4, 5) + id * 1000,
    transport: "udp",
    peer: "127.0.1.2:5000",
    format: "fortios",
    facility: 23,
    severity: 5,
    device,
    devid: null,
    logid: "0000000013",
    type: "traffic",
    subtype: "forward",
    level,
    eventtime: null,
    seq: null,
    raw: `devname="${device}" type="traffic" level="${level}" msg="${msg}"`,
    fields: { devname: device, type: "traffic", level, msg },
    ...NO_SYSLOG_HEADER
  }
}

const stored = (total: number): LabEvent => ({ type: "logs-stored", device: "faz-1", from: "fgt-1", count: 1, total, at: total * 100 })

const logsQueries = (client: FakeClient) => client.sent.filter((c): c is Extract<ControlCommand, { name: "logs" }> => c.name === "logs")

/** Focuses the logs panel (the fifth in tab order). */
const focusLogs = async (ui: Rendered) => {
  for (let i = 0; i < 4; i++) ui.press(KEYS.tab)
  return ui.waitForFrame((f) => f.includes("▸ logs"))
}

afterEach(() => {
  for (const ui of mounted.splice(0)) ui.unmount()
})

describe("logs panel", () => {
  it("shows the stored log lines, and new ones after logs are stored", async () => {
    const client = fakeClient()
    client.logs.push(log("fgt-1", "notice", "accepted 10.0.0.1"), log("fgt-2", "warning", "denied 10.0.0.2"))
    const ui = show(client)
    const frame = await focusLogs(ui)
    const shown = await ui.waitForFrame((f) => f.includes("denied 10.0.0.2"))
    expect(shown).toMatch(/03:04:06 fgt-1\s+notice\s+traffic\/forward\s+accepted 10\.0\.0\.1/)
    expect(shown).toContain("logs · faz-1 · all (/ filters)")
    expect(frame.split("\n").length).toBeLessThan(24)

    client.logs.push(log("fgt-1", "notice", "accepted 10.0.0.3"))
    client.emit(stored(3))
    const later = await ui.waitForFrame((f) => f.includes("accepted 10.0.0.3"))
    // Each line once: the follow-up asked for what came after the first answer.
    expect(later.match(/denied 10\.0\.0\.2/g)).toHaveLength(1)
    expect(logsQueries(client)[0]).toEqual({ name: "logs", limit: LOG_LINES })
    expect(logsQueries(client)[1]).toMatchObject({ name: "logs", limit: LOG_LINES, latest: true, after: { analyzer: "faz-1", id: 2 } })
    expect(Math.max(...later.split("\n").map((l) => l.length))).toBeLessThanOrEqual(80)
  })

  it("/ opens the filter; enter applies it to the query and the title; esc clears it", async () => {
    const client = fakeClient()
    client.logs.push(log("fgt-1", "warning", "deny 10.0.0.1"), log("fgt-1", "notice", "accept 10.0.0.2"), log("fgt-2", "warning", "deny 10.0.0.3"))
    const ui = show(client)
    await ui.waitForFrame((f) => f.includes("topology"))
    ui.press("/")
    await ui.waitForFrame((f) => f.includes("▸ logs") && f.includes("/ █  (enter applies, esc clears)"))
    // Keys are text now: s does not stop anything.
    ui.press("device:fgt-1 level:warning dens")
    ui.press("\u007F")
    ui.press("y")
    await ui.waitForFrame((f) => f.includes("/ device:fgt-1 level:warning deny█"))
    ui.press("\r")
    const filtered = await ui.waitForFrame((f) => f.includes("logs · faz-1 · device:fgt-1 level:warning deny") && f.includes("deny 10.0.0.1"))
    expect(filtered).not.toContain("accept 10.0.0.2")
    expect(filtered).not.toContain("deny 10.0.0.3")
    expect(logsQueries(client).at(-1)).toEqual({ name: "logs", limit: LOG_LINES, device: "fgt-1", level: "warning", text: "deny" })
    expect(client.sent.filter((c) => c.name !== "logs")).toEqual([])

    // / again starts from the filter in force; esc clears it and every line comes back.
    ui.press("/")
    await ui.waitForFrame((f) => f.includes("/ device:fgt-1 level:warning deny █"))
    ui.press(KEYS.escape)
    const cleared = await ui.waitForFrame((f) => f.includes("logs · faz-1 · all (/ filters)") && f.includes("deny 10.0.0.3"))
    expect(cleared).toContain("accept 10.0.0.2")
    expect(logsQueries(client).at(-1)).toEqual({ name: "logs", limit: LOG_LINES })
  })

  it("says why when the lab refuses the logs query", async () => {
    const client = fakeClient()
    const refusing: FakeClient = {
      ...client,
      command: (command) =>
        command.name === "logs"
          ? Promise.reject(new ControlClientError("refused", "lab test-lab has no analyzer, so it has no stored logs"))
          : client.command(command)
    }
    const ui = show(refusing)
    await focusLogs(ui)
    await ui.waitForFrame((f) => f.includes("lab test-lab has no analyzer, so it has no stored logs"))
  })
})

describe("HA and scenario keys", () => {
  const haSnapshot = {
    ...SNAPSHOT,
    devices: [
      { id: "faz-a", kind: "fortianalyzer", status: "running", ha: { group: "lab", role: "primary" } },
      { id: "faz-b", kind: "fortianalyzer", status: "running", ha: { group: "lab", role: "secondary" } },
      { id: "fgt-1", kind: "fortigate", status: "running" }
    ]
  }

  it("x partitions the selected member from the rest of its group, h heals what is cut", async () => {
    let cut = false
    const client = fakeClient((command) => {
      if (command.name === "partition") {
        cut = true
        return { members: command.members, partitioned: true }
      }
      if (command.name === "heal") {
        if (!cut) throw new ControlClientError("refused", "heal faz-a faz-b: faz-a and faz-b are neither partitioned nor degraded; nothing to heal")
        cut = false
        return { members: command.members, partitioned: false }
      }
      return {}
    }, haSnapshot)
    const ui = show(client)
    await ui.waitForFrame((f) => f.includes("topology"))
    ui.press("h")
    await ui.waitForFrame((f) => f.includes("nothing to heal: no HA members are partitioned or degraded"))
    ui.press("x")
    await ui.waitForFrame((f) => f.includes("partitioned faz-a from faz-b: HA traffic between them is cut both ways; h heals"))
    ui.press("h")
    await ui.waitForFrame((f) => f.includes("healed faz-a–faz-b: HA traffic flows normally again"))
    // x on a device in no HA group says which ones are members.
    ui.press(KEYS.down)
    ui.press(KEYS.down)
    await ui.waitForFrame((f) => /› fgt-1/.test(f))
    ui.press("x")
    await ui.waitForFrame((f) => f.includes("x partitions an HA member from its group; select one of faz-a, faz-b"))
    expect(client.sent.filter((c) => c.name !== "logs")).toEqual([
      { name: "heal", members: ["faz-a", "faz-b"] },
      { name: "partition", members: ["faz-a", "faz-b"] },
      { name: "heal", members: ["faz-a", "faz-b"] }
    ])
  })

  it("d degrades the selected member's heartbeats with the rest of its group (half lost each way), h heals", async () => {
    let degraded = false
    const client = fakeClient((command) => {
      if (command.name === "degrade") {
        degraded = true
        return { members: command.members, hbDelayMs: command.hbDelayMs, hbLoss: command.hbLoss }
      }
      if (command.name === "heal") {
        if (!degraded) throw new ControlClientError("refused", "nothing to heal")
        degraded = false
        return { members: command.members, partitioned: false }
      }
      return {}
    }, haSnapshot)
    const ui = show(client)
    await ui.waitForFrame((f) => f.includes("topology"))
    ui.press("d")
    await ui.waitForFrame((f) => f.includes("degraded faz-a–faz-b heartbeats: 50% lost each way; h heals"))
    ui.press("h")
    await ui.waitForFrame((f) => f.includes("healed faz-a–faz-b: HA traffic flows normally again"))
    expect(client.sent.filter((c) => c.name !== "logs")).toEqual([
      { name: "degrade", members: ["faz-a", "faz-b"], hbDelayMs: 0, hbLoss: 50 },
      { name: "heal", members: ["faz-a", "faz-b"] }
    ])
  })

  it("n starts the waiting step now, or shows the lab's refusal", async () => {
    let steps = 0
    const client = fakeClient((command) => {
      if (command.name !== "step") return {}
      if (steps++ > 0) throw new ControlClientError("refused", "step: scenario demo has no step left to start (all 1 have started)")
      return { step: 1, title: "kill faz-a" }
    })
    const ui = show(client)
    await ui.waitForFrame((f) => f.includes("topology"))
    ui.press("n")
    await ui.waitForFrame((f) => f.includes("started step 1 now: kill faz-a"))
    ui.press("n")
    await ui.waitForFrame((f) => f.includes("step: scenario demo has no step left to start (all 1 have started)"))
  })
})
