/**
 * The analyzer's connection limits on real sockets (docs/errors.md, "Named limits"):
 *
 * - `syslog.first-byte-timeout`: a TCP/514 connection that sends nothing is closed when the
 *   timeout runs out on the lab clock (simulated here, so nothing waits), counted and reported;
 *   a connection that sent something stays open however quiet it is afterwards, and the slots the
 *   idle connections held take new connections again.
 * - `https.max-connections`: TCP/8443 and TLS/443 have their own limit, apart from TCP/514's
 *   `syslog.max-connections`.
 */
import * as net from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import type { FortiAnalyzer } from "../../src/devices/fortianalyzer/analyzer.ts"
import type { Lab } from "../../src/lab/lab.ts"
import { SimulatedLabClock } from "../../src/machines/clock.ts"
import { type StartedLab, useLab, waitForEvent } from "../support/lab.ts"

const analyzer = (lab: Lab): FortiAnalyzer => {
  const found = lab.analyzer("faz-1")
  if (found === undefined) throw new Error("no analyzer faz-1")
  return found
}

/** A raw TCP connection to one of faz-1's ports, open once this resolves. */
const connect = (lab: Lab, port: "tcp/514" | "tcp/8443" | "tcp/443"): Promise<net.Socket> => {
  const target = lab.plan.resolve("faz-1", port)
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.address, port: target.actualPort }, () => resolve(socket))
    socket.once("error", reject)
  })
}

const closed = (socket: net.Socket): Promise<void> =>
  socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once("close", () => resolve()))

const peerOf = (socket: net.Socket): string => `${socket.localAddress ?? "?"}:${socket.localPort ?? 0}`

const closedEvent = (started: StartedLab, socket: net.Socket) =>
  waitForEvent(started, "connection-closed", (e) => e.peer === peerOf(socket), { timeoutMs: 5000 })

const storedFrom = (started: StartedLab, from: string, total: number) =>
  waitForEvent(started, "logs-stored", (e) => e.from === from && e.total >= total, { timeoutMs: 5000 })

describe("analyzer connection limits (real sockets)", () => {
  const sockets: net.Socket[] = []
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy()
  })

  it("closes a TCP/514 connection that sends nothing within first-byte-timeout, never one that sent", async () => {
    const clock = new SimulatedLabClock()
    const started = await useLab(
      `name: first-byte-test
devices:
  faz-1: { kind: fortianalyzer, syslog: { max-connections: 2, max-connections-per-source: 2, first-byte-timeout: 10s } }
`,
      { clock }
    )
    const { lab, events } = started
    const idle = await connect(lab, "tcp/514")
    const sender = await connect(lab, "tcp/514")
    sockets.push(idle, sender)
    // The sender's log is stored: both connections were accepted (in order) and their timers run.
    sender.write("<134>Nov 27 08:00:00 quiet-sender test: first\n")
    await storedFrom(started, "quiet-sender", 1)
    // Both slots are taken: a third connection is refused.
    const third = await connect(lab, "tcp/514")
    sockets.push(third)
    expect((await closedEvent(started, third)).reason).toMatch(/^max-connections 2 reached/u)

    clock.advance(9_999)
    expect(idle.destroyed || events.some((e) => e.type === "connection-closed" && e.peer === peerOf(idle))).toBe(false)
    clock.advance(1)
    const event = await closedEvent(started, idle)
    expect(event).toMatchObject({
      device: "faz-1",
      port: "tcp/514",
      reason: "sent nothing within first-byte-timeout 10 s of connecting; closed to free its connection slot"
    })
    await closed(idle)
    expect(analyzer(lab).firstByteTimeouts).toBe(1)

    // The freed slot takes a new connection; the quiet sender is still connected long after.
    clock.advance(60_000)
    const next = await connect(lab, "tcp/514")
    sockets.push(next)
    next.write("<134>Nov 27 08:00:01 next-sender test: hello\n")
    await storedFrom(started, "next-sender", 1)
    sender.write("<134>Nov 27 08:01:00 quiet-sender test: still here\n")
    await storedFrom(started, "quiet-sender", 2)
    expect(analyzer(lab).firstByteTimeouts).toBe(1)
    expect(events.filter((e) => e.type === "connection-closed" && e.peer === peerOf(sender))).toEqual([])
  })

  it("counts TCP/8443 and TLS/443 connections against https.max-connections, not syslog's", async () => {
    const started = await useLab(`name: https-limit-test
devices:
  faz-1: { kind: fortianalyzer, syslog: { max-connections: 1 }, https: { max-connections: 2, max-connections-per-source: 2 } }
`)
    const { lab } = started
    for (const port of ["tcp/8443", "tcp/443"] as const) {
      const open = [await connect(lab, port), await connect(lab, port)]
      const over = await connect(lab, port)
      sockets.push(...open, over)
      // Refused in accept order: the two before it were taken.
      expect(await closedEvent(started, over)).toMatchObject({
        device: "faz-1",
        port,
        reason: "max-connections 2 reached; raise devices.faz-1.https.max-connections to allow more"
      })
      expect(open.map((socket) => socket.destroyed)).toEqual([false, false])
    }
    // TCP/514 still has its one slot while four HTTPS connections are open.
    const syslog = await connect(lab, "tcp/514")
    const over = await connect(lab, "tcp/514")
    sockets.push(syslog, over)
    expect((await closedEvent(started, over)).reason).toMatch(/^max-connections 1 reached/u)
    expect(syslog.destroyed).toBe(false)
    expect(analyzer(lab).refusedConnections).toBe(3)
  })
})
