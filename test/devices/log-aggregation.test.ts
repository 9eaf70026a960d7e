/**
 * Log aggregation on TCP/3000 between two emulated analyzers: faz-src (a `log-forward` entry of
 * mode aggregation) sends what it stored to faz-agg (`accept-aggregation enable`), which stores
 * each log once however often it runs; a batch sent again is counted as duplicates; an analyzer
 * that does not accept aggregation, a wrong password and a line that is not a frame are refused
 * with a sentence and counted.
 */
import * as tls from "node:tls"
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import { encodeAggregationFrame } from "../../src/protocols/aggregation/frames.ts"
import { analyzer, sharedLab, useLab, waitForEvent, waitForStored } from "../support/lab.ts"

const YAML = `
name: aggregation
devices:
  faz-agg:
    kind: fortianalyzer
    admin: { user: { admin: { password: fortinet } } }
    log-forward-service: { accept-aggregation: enable }
  faz-closed:
    kind: fortianalyzer
  faz-src:
    kind: fortianalyzer
    log-forward:
      - { id: 1, server-name: central, mode: aggregation, server-addr: faz-agg, agg-user: admin, agg-password: fortinet, agg-interval: 1s }
      - { id: 2, server-name: closed, mode: aggregation, server-addr: faz-closed, agg-schedule: on-demand }
      - { id: 3, server-name: wrong, mode: aggregation, server-addr: faz-agg, agg-password: nope, agg-schedule: on-demand }
  fgt-1:
    kind: fortigate
    syslog: { server: faz-src, rate: 200/s, count: 40 }
`

const started = sharedLab(YAML)

/** A raw aggregation session to faz-agg: sends the lines, resolves with every line it answered until it closed. */
const rawSession = (lines: ReadonlyArray<string>): Promise<ReadonlyArray<string>> =>
  new Promise((resolve, reject) => {
    const { address, actualPort } = started().lab.plan.resolve("faz-agg", "tcp/3000")
    const socket = tls.connect({ host: address, port: actualPort, ca: started().lab.pki.caPem, checkServerIdentity: () => undefined }, () => socket.write(lines.join("")))
    let text = ""
    socket.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")))
    socket.on("error", reject)
    socket.on("close", () => resolve(text.split("\n").filter((line) => line !== "")))
  })

describe("log aggregation between two analyzers on TCP/3000", () => {
  it("stores every log of faz-src on faz-agg exactly once, run after run", async () => {
    await waitForStored(started(), "fgt-1", 40)
    const src = analyzer(started().lab, "faz-src")
    const agg = analyzer(started().lab, "faz-agg")
    const first = await waitForEvent(started(), "log-aggregation", (e) => e.device === "faz-src" && e.peer === "faz-agg" && e.role === "client" && agg.store.count() >= 40)
    expect(first.state).toBe("sent")
    // Two more runs after it: nothing new to send, nothing stored twice.
    const from = started().events.indexOf(first) + 1
    const later = await waitForEvent(started(), "log-aggregation", (e) => e.device === "faz-src" && e.peer === "faz-agg" && e.state === "sent", { from })
    await waitForEvent(started(), "log-aggregation", (e) => e.device === "faz-src" && e.peer === "faz-agg" && e.state === "sent", { from: started().events.indexOf(later) + 1 })
    expect(src.store.count()).toBe(40)
    expect(agg.store.count()).toBe(40)
    expect(agg.aggregation?.duplicates).toBe(0)
    const hostnames = new Set(agg.store.query({ limit: 100 }).map((log) => log.device))
    expect([...hostnames]).toEqual(["fgt-1"])
  })

  it("counts a batch sent again as duplicates: stored once, acknowledged twice", async () => {
    const src = analyzer(started().lab, "faz-src")
    const logs = src.store.logsToSync(0, src.store.lastId(), [], 2, "visible").map(({ id: _id, originId, ...log }) => ({ origin: "test-origin", originId, log }))
    const batch = encodeAggregationFrame({ type: "logs", records: logs })
    const answers = await rawSession([encodeAggregationFrame({ type: "hello", serial: "FAZ-TEST", user: "admin", password: "fortinet" }), batch, batch, encodeAggregationFrame({ type: "done" })])
    expect(answers.map((line) => JSON.parse(line) as { type: string })).toEqual([
      expect.objectContaining({ type: "ready" }),
      { type: "stored", stored: 2, duplicates: 0 },
      { type: "stored", stored: 0, duplicates: 2 },
      { type: "bye" }
    ])
  })

  it("says why a run failed: the server does not accept aggregation, or the password is wrong", async () => {
    const closed = await waitForEvent(started(), "log-aggregation", (e) => e.device === "faz-src" && e.peer === "faz-closed")
    expect(closed).toMatchObject({ state: "failed", reason: "aggregation to faz-closed failed: refused (not-accepted): faz-closed does not accept aggregated logs; set log-forward-service accept-aggregation enable on it" })
    const wrong = await waitForEvent(started(), "log-aggregation", (e) => e.device === "faz-src" && e.role === "client" && e.state === "failed" && e.reason.includes("auth-failed"))
    expect(wrong.reason).toBe("aggregation to faz-agg failed: refused (auth-failed): agg-user admin cannot log in to faz-agg: wrong password for admin")
    expect(analyzer(started().lab, "faz-closed").aggregation?.refused.get("not-accepted")).toBe(1)
  })

  it("refuses a line that is not a frame with an error frame, a counter and a sentence", async () => {
    const answers = await rawSession(["hello\n"])
    expect(answers).toEqual([JSON.stringify({ type: "error", code: "bad-frame", reason: "\"hello\" is not an aggregation frame (docs/protocols/log-aggregation.md)" })])
    const refused = await waitForEvent(started(), "log-aggregation", (e) => e.device === "faz-agg" && e.state === "refused" && e.reason.startsWith("refused (bad-frame)"))
    expect(refused.reason).toBe("refused (bad-frame): \"hello\" is not an aggregation frame (docs/protocols/log-aggregation.md)")
    expect(analyzer(started().lab, "faz-agg").aggregation?.refused.get("bad-frame")).toBe(1)
  })
})

describe("log aggregation of held logs", () => {
  it("sends the logs of a device authorized after a run passed their ids, each once", async () => {
    const started = await useLab(`
name: aggregation-held
devices:
  faz-agg:
    kind: fortianalyzer
    admin: { user: { admin: { password: fortinet } } }
    log-forward-service: { accept-aggregation: enable }
  faz-src:
    kind: fortianalyzer
    serial: FAZ-VM0000000003
    log-forward:
      - { id: 1, server-name: central, mode: aggregation, server-addr: faz-agg, agg-user: admin, agg-password: fortinet, agg-interval: 1s }
  fgt-held:
    kind: fortigate
    serial: FGT60FTK20000009
    fortianalyzer: { server: faz-src, serial: FAZ-VM0000000003, rate: 100/s, count: 20 }
  fgt-1:
    kind: fortigate
    syslog: { server: faz-src, rate: 20/s }
`)
    const src = analyzer(started.lab, "faz-src")
    const agg = analyzer(started.lab, "faz-agg")
    const held = () => src.store.devices.get("FGT60FTK20000009")?.heldLogs ?? 0
    await waitForEvent(started, "logs-acked", (e) => e.device === "fgt-held" && held() === 20)
    // A run that sent logs of fgt-1 stored after the held ones: faz-agg's position is past their ids.
    const heldUpTo = src.store.lastId()
    const passed = await waitForEvent(started, "log-aggregation", (e) =>
      e.device === "faz-src" && e.role === "client" && e.state === "sent" &&
      agg.store.syncPositions().some((position) => position.origin === src.store.uid && position.upTo > heldUpTo))
    expect(agg.store.count({ device: "fgt-held" })).toBe(0)
    const authorized = await Effect.runPromise(src.authorizeDevice("FGT60FTK20000009", null))
    expect(authorized.released).toBe(20)
    // The next run after the release sends them.
    await waitForEvent(started, "log-aggregation", (e) => e.device === "faz-src" && e.role === "client" && e.state === "sent" && agg.store.count({ device: "fgt-held" }) === 20, {
      from: started.events.indexOf(passed) + 1
    })
    // And no run after it sends them again.
    const from = started.events.length
    await waitForEvent(started, "log-aggregation", (e) => e.device === "faz-src" && e.role === "client" && e.state === "sent", { from })
    expect(agg.store.count({ device: "fgt-held" })).toBe(20)
    expect(agg.aggregation?.duplicates).toBe(0)
  })
})
