/**
 * Syslog catch-up of a returning HA member, on real sockets (docs/protocols/ha.md, "Catch-up"):
 * util-linux `logger` sends syslog over TCP to the group's virtual IP. faz-a (preferred-role
 * primary) stores a first lot and forwards it live; it is killed; faz-b takes over and stores a
 * second lot (more than one catch-up batch) while faz-a is down. faz-a restarts, rejoins as
 * secondary and catches up: exactly the second lot, each log once. Only then does it take over
 * by planned handover; what the VIP receives next reaches faz-b, live or in its next catch-up,
 * once. With memory stores (syslog stored on the main thread) and file stores (on each
 * analyzer's store thread, which hands the stored records back for the live sync).
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import { describe, expect, it, onTestFinished } from "vitest"
import { HA_SYNC_BATCH } from "../../src/devices/fortianalyzer/ha-primary.ts"
import type { EventOf } from "../../src/events/events.ts"
import type { Lab } from "../../src/lab/lab.ts"
import { analyzer, type StartedLab, useLab, waitForEvent, waitForRole } from "../support/lab.ts"

const YAML = `name: ha-syslog-catch-up-test
devices:
  faz-a: { kind: fortianalyzer, serial: FAZ-VM0000000001, ha: { preferred-role: primary } }
  faz-b: { kind: fortianalyzer, serial: FAZ-VM0000000002 }
ha:
  lab: { members: [faz-a, faz-b], group-id: 12, hb-interval: 200ms, hb-lost-threshold: 3 }
`

/** Sends one syslog message per line to the VIP's TCP/514 with util-linux `logger`. */
const logTo = (lab: Lab, lines: ReadonlyArray<string>): Promise<void> => {
  const target = lab.plan.resolve("lab", "tcp/514")
  return new Promise((resolve, reject) => {
    const child = execFile("logger", ["-T", "--octet-count", "-n", target.address, "-P", String(target.actualPort), "-t", "catchup"], (error) =>
      error === null ? resolve() : reject(error)
    )
    child.stdin?.end(lines.map((line) => `${line}\n`).join(""))
  })
}

const lot = (name: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${name}-${i + 1}`)

/** How often each message of the test is in `member`'s store, by its text. */
const copies = (lab: Lab, member: string): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const log of analyzer(lab, member).store.query({ limit: 100_000 })) {
    const text = /(lot\w+-\d+)/.exec(log.raw)?.[1]
    if (text !== undefined) counts.set(text, (counts.get(text) ?? 0) + 1)
  }
  return counts
}

const storedOn = (started: StartedLab, member: string, total: number, from: number) =>
  waitForEvent(started, "logs-stored", (event) => event.device === member && event.total >= total, { from })

describe.each(["memory", "file"] as const)("HA syslog catch-up (real sockets, %s stores)", (stores) => {
  it("gives a returning member the syslog it missed, each log once, before it may take over", async () => {
    const dataDir = stores === "file" ? fs.mkdtempSync(path.join(os.tmpdir(), "fazlab-ha-syslog-")) : null
    // Removed after the lab has closed (onTestFinished runs the last registered first).
    if (dataDir !== null) onTestFinished(() => fs.rmSync(dataDir, { recursive: true, force: true }))
    const started = await useLab(YAML, { dataDir })
    const { lab, events } = started
    const role = (from: number, device: string, want: EventOf<"ha-role">["role"]) => waitForRole(started, device, want, { from, timeoutMs: 5000 })
    /** The first catch-up `member` finishes among the events from index `from` on. */
    const caughtUp = (from: number, member: string) =>
      waitForEvent(started, "ha-synced", (e) => e.device === member, { from })

    await role(0, "faz-a", "primary")
    await caughtUp(0, "faz-b")

    // Lot 1 reaches faz-a through the VIP and faz-b live.
    const first = lot("lotone", 50)
    let mark = events.length
    await logTo(lab, first)
    await storedOn(started, "faz-a", first.length, mark)

    // faz-a is killed; faz-b takes over the VIP and stores lot 2 while faz-a is down.
    mark = events.length
    await Effect.runPromise(lab.perform({ kill: "faz-a" }))
    await role(mark, "faz-b", "primary")
    await waitForEvent(started, "listener-bound", (e) => e.device === "lab" && e.port === "tcp/514", { timeoutMs: 5000, from: mark })
    const second = lot("lottwo", HA_SYNC_BATCH * 2 + 500)
    mark = events.length
    await logTo(lab, second)
    await storedOn(started, "faz-b", second.length, mark)
    expect([...copies(lab, "faz-b").values()].every((n) => n === 1)).toBe(true)
    expect(copies(lab, "faz-b").size).toBe(first.length + second.length)

    // faz-a returns: at its catch-up and at its takeover, its store holds every log once.
    const seen: string[] = []
    const atTakeover: Array<Map<string, number>> = []
    const unsubscribe = lab.bus.subscribe((event) => {
      if (event.type === "ha-synced" && event.device === "faz-a") seen.push("faz-a caught up")
      if (event.type === "ha-role" && event.device === "faz-a") {
        seen.push(`faz-a ${event.role}`)
        if (event.role === "primary") atTakeover.push(copies(lab, "faz-a"))
      }
    })
    mark = events.length
    await Effect.runPromise(lab.perform({ start: "faz-a" }))
    const done = await caughtUp(mark, "faz-a")
    await role(mark, "faz-a", "primary")
    unsubscribe()

    expect(seen).toEqual(["faz-a secondary", "faz-a caught up", "faz-a primary"])
    // Exactly what it missed came in the catch-up: lot 1 was not sent again.
    expect(done).toMatchObject({
      device: "faz-a",
      group: "lab",
      primary: "faz-b",
      stored: second.length,
      reason: `faz-a caught up with faz-b: ${second.length} logs stored; it is in sync and may take over`
    })
    const held = atTakeover[0]
    expect(held?.size).toBe(first.length + second.length)
    expect([...(held?.values() ?? [])].every((n) => n === 1)).toBe(true)

    // After the handover, lot 3 reaches faz-a through the VIP and faz-b live: still once each, on both.
    await waitForEvent(started, "listener-bound", (e) => e.device === "lab" && e.port === "tcp/514", { timeoutMs: 5000, from: mark })
    await caughtUp(mark, "faz-b")
    const third = lot("lotthree", 30)
    mark = events.length
    await logTo(lab, third)
    await storedOn(started, "faz-a", third.length, mark)
    // A barrier: faz-b restarts and catches up what the live sync had not brought yet, if anything.
    const restartedAt = events.length
    await Effect.runPromise(lab.perform({ restart: "faz-b" }))
    await caughtUp(restartedAt, "faz-b")
    for (const member of ["faz-a", "faz-b"]) {
      const counts = copies(lab, member)
      expect(counts.size, member).toBe(first.length + second.length + third.length)
      expect([...counts.values()].every((n) => n === 1), member).toBe(true)
    }
    // The syslog header columns came along, live (lots 1 and 3) and in catch-ups (lot 2): every
    // log is found by its tag on both members.
    for (const member of ["faz-a", "faz-b"]) {
      expect(analyzer(lab, member).store.count({ appName: "catchup" }), member).toBe(first.length + second.length + third.length)
    }
  }, 40_000)
})
