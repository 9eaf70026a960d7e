/**
 * The primary's side of log sync, driven by a fake secondary that speaks the HA frames from
 * outside: a JOIN for another group is refused; an OFTP batch is acknowledged to the FortiGate
 * only once the secondary has confirmed its LOG_SYNC with SYNC_ACK.
 */
import type * as net from "node:net"
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import type { FortiGate } from "../../src/devices/fortigate/fortigate.ts"
import { dialTcp } from "../../src/net/tcp.ts"
import { encodeFrame, type HaFrame, HaDecoder } from "../../src/protocols/ha/frames.ts"
import { type StartedLab, useLab, waitForEvent, waitForRole } from "../support/lab.ts"

const YAML = `name: ha-sync-ack
devices:
  faz-a: { kind: fortianalyzer, serial: FAZ-VM0000000001, oftp: { auto-authorize: true }, ha: { priority: 120 } }
  faz-b: { kind: fortianalyzer, serial: FAZ-VM0000000002, oftp: { auto-authorize: true } }
  fgt-1: { kind: fortigate, autostart: false, fortianalyzer: { server: lab, serial: [FAZ-VM0000000001, FAZ-VM0000000002], rate: 500/s } }
ha:
  lab: { members: [faz-a, faz-b], group-id: 9, hb-interval: 1s }
`

/** A TCP/5199 client that collects the frames it receives. */
class FakeMember {
  readonly frames: HaFrame[] = []
  readonly #socket: net.Socket
  readonly #waiting: Array<{ readonly test: (frame: HaFrame, index: number) => boolean; readonly resolve: (frame: HaFrame) => void }> = []

  constructor(socket: net.Socket) {
    this.#socket = socket
    const decoder = new HaDecoder()
    socket.on("data", (chunk: Buffer) => {
      for (const frame of decoder.push(chunk).frames) {
        this.frames.push(frame)
        // Answers heartbeats, so the primary keeps waiting for it.
        if (frame.type === "heartbeat") this.send({ type: "heartbeat", body: { serial: "FAZ-VM0000000002", role: "secondary", at: 0 } })
        for (const waiter of [...this.#waiting]) {
          if (waiter.test(frame, this.frames.length - 1)) {
            this.#waiting.splice(this.#waiting.indexOf(waiter), 1)
            waiter.resolve(frame)
          }
        }
      }
    })
  }

  send(frame: HaFrame): void {
    this.#socket.write(encodeFrame(frame))
  }

  /** The first frame (received so far or later) that passes `test`. */
  next(test: (frame: HaFrame, index: number) => boolean): Promise<HaFrame> {
    const seen = this.frames.find(test)
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise((resolve) => this.#waiting.push({ test, resolve }))
  }

  close(): void {
    this.#socket.destroy()
  }
}

describe("HA log sync: the primary's ACK waits for the secondaries", () => {
  /** Once faz-b has joined, it leaves and a fake member of group `groupId` takes its place. */
  const join = async (started: StartedLab, groupId: number): Promise<FakeMember> => {
    const { lab } = started
    await waitForRole(started, "faz-b", "secondary")
    // faz-b leaves; the fake takes its place in the group.
    await Effect.runPromise(lab.analyzer("faz-b")?.stop() ?? Effect.void)
    const target = lab.plan.resolve("faz-a", "tcp/5199")
    const fake = new FakeMember(await dialTcp({ host: target.address, port: target.actualPort, timeoutMs: 1000 }))
    fake.send({ type: "join", body: { serial: "FAZ-VM0000000002", groupId, priority: 100, preferredRole: "secondary", lastSyncId: 0 } })
    fake.send({ type: "config-sync", body: { devices: [] } })
    return fake
  }

  it("refuses a JOIN for another group-id with ERROR wrong-group", async () => {
    const fake = await join(await useLab(YAML), 10)
    const error = await fake.next((frame) => frame.type === "error")
    expect(error).toEqual({ type: "error", body: { code: "wrong-group", reason: "faz-a is in group-id 9, the JOIN says 10" } })
    fake.close()
  })

  it("acknowledges an OFTP batch only after the secondary's SYNC_ACK", async () => {
    const started = await useLab(YAML)
    const { lab, events } = started
    const fake = await join(started, 9)
    await fake.next((frame) => frame.type === "welcome")
    await fake.next((frame) => frame.type === "config-sync")
    const fortigate = lab.device("fgt-1") as FortiGate
    await Effect.runPromise(fortigate.start())

    // The first batch synced, then the next heartbeat (up to an hb-interval later): without
    // the SYNC_ACK nothing was acknowledged, so every generated record is still queued.
    const first = await fake.next((frame) => frame.type === "log-sync" && frame.body.records.length > 0)
    const firstAt = fake.frames.indexOf(first)
    await fake.next((frame, index) => index > firstAt && frame.type === "heartbeat")
    expect(fortigate.faz?.sent).toBeGreaterThan(0)
    expect(fortigate.faz?.queued).toBe(fortigate.faz?.sent)
    expect(events.some((event) => event.type === "logs-acked" && event.device === "fgt-1")).toBe(false)

    if (first.type !== "log-sync") throw new Error("not a LOG_SYNC")
    const upTo = first.body.firstSyncId + first.body.records.length - 1
    fake.send({ type: "sync-ack", body: { upTo } })
    const acked = await waitForEvent(started, "logs-acked", (event) => event.device === "fgt-1")
    expect(acked.total).toBeGreaterThanOrEqual(first.body.records.length)
    expect(fortigate.faz?.queued).toBeLessThan(fortigate.faz?.sent ?? 0)
    fake.close()
  })
})
