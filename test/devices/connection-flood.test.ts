/**
 * The connection rules every TCP listener enforces (src/net/tcp.ts), against real sockets:
 * - a flood of 1,100 idle connections from one address takes at most `max-connections-per-source`
 *   slots of TCP/514, and another address is served (util-linux `logger -T`) while they are held;
 *   the refusals are counted and published, thinned past the 16th;
 * - the FortiManager's TCP/541 limits one address the same way;
 * - `first-byte-timeout` closes a silent TCP/8443 connection, `idle-timeout` a syslog connection
 *   that went quiet (simulated clock), and neither touches a connection that keeps talking.
 */
import { execFile } from "node:child_process"
import * as net from "node:net"
import { promisify } from "node:util"
import { afterEach, describe, expect, it } from "vitest"
import type { PortKey } from "../../src/events/events.ts"
import type { FortiAnalyzer } from "../../src/devices/fortianalyzer/analyzer.ts"
import type { FortiManager } from "../../src/devices/fortimanager/fortimanager.ts"
import type { Lab } from "../../src/lab/lab.ts"
import { SimulatedLabClock } from "../../src/machines/clock.ts"
import { isEvent, useLab, waitForEvent, waitForStored } from "../support/lab.ts"

const run = promisify(execFile)

const FLOOD = 1_100

const dial = (target: { readonly address: string; readonly actualPort: number }, localAddress?: string): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.address, port: target.actualPort, ...(localAddress === undefined ? {} : { localAddress }) }, () => resolve(socket))
    socket.once("error", reject)
  })

const isOpen = (socket: net.Socket) => !socket.destroyed && socket.readyState === "open"

const analyzer = (lab: Lab) => lab.analyzers()[0] as FortiAnalyzer

describe("connection rules on every TCP listener (real sockets)", () => {
  const sockets: net.Socket[] = []
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy()
  })

  it(`a second address is served on TCP/514 while ${FLOOD} idle connections from a first one are held`, async () => {
    const started = await useLab("name: flood-test\ndevices:\n  faz-1: { kind: fortianalyzer }\n")
    const { lab } = started
    const target = lab.plan.resolve("faz-1", "tcp/514")
    const flood: net.Socket[] = []
    // The kernel completes every handshake; the analyzer then keeps 256 (a quarter of
    // max-connections 1024) and closes the rest at once: wait for those closes to arrive.
    let closedByServer = 0
    const refusedAll = new Promise<void>((resolve) => {
      for (let i = 0; i < FLOOD; i++) {
        void dial(target, "127.0.0.2").then((socket) => {
          socket.on("error", () => undefined)
          socket.once("close", () => {
            if (++closedByServer === FLOOD - 256) resolve()
          })
          flood.push(socket)
          sockets.push(socket)
        })
      }
    })
    await refusedAll
    const rules = analyzer(lab).connections.closed
    expect(rules["max-connections-per-source"]).toBe(FLOOD - 256)

    // Another address: logger over TCP, from the host's own 127.0.0.1.
    const message = 'date=2026-11-27 time=07:00:00 devname="flood-survivor" devid="FGT60FTK20000078" type="event" subtype="system" level="notice" msg="served during a flood"'
    await run("logger", ["-n", target.address, "-P", String(target.actualPort), "-T", "--octet-count", "--rfc5424", "-t", "fgt", message])
    await waitForStored(started, "flood-survivor", 1)

    // The flood still holds its 256 connections, each idle: nothing was sent on them.
    expect(flood.filter(isOpen)).toHaveLength(256)
    expect(rules["max-connections"]).toBe(0)
    const refusals = started.events.filter(isEvent("connection-closed", (e) => e.rule === "max-connections-per-source"))
    // 16 reported one by one, then at 32, 64, 128, 256 and 512: 844 refusals, 21 events.
    expect(refusals).toHaveLength(21)
    expect(refusals[0]?.reason).toBe("max-connections-per-source 256 reached for 127.0.0.2; raise devices.faz-1.syslog.max-connections-per-source to allow more from one address")
    expect(refusals.at(-1)?.reason).toMatch(/\(512 connections closed by max-connections-per-source on this port so far; past 16, reported at powers of two\)$/u)
  }, 60_000)

  it("the FortiManager's TCP/541 limits one address and serves another", async () => {
    const started = await useLab("name: fgfm-flood\ndevices:\n  fmg-1: { kind: fortimanager, fgfm: { max-connections: 4, max-connections-per-source: 2 } }\n")
    const { lab } = started
    const target = lab.plan.resolve("fmg-1", "tcp/541")
    const held = [await dial(target, "127.0.0.2"), await dial(target, "127.0.0.2")]
    const over = await dial(target, "127.0.0.2")
    const other = await dial(target, "127.0.0.3")
    sockets.push(...held, over, other)
    const refused = await waitForEvent(started, "connection-closed", (e) => e.peer === `127.0.0.2:${over.localPort}`)
    expect(refused).toMatchObject({ device: "fmg-1", port: "tcp/541", rule: "max-connections-per-source" })
    expect(refused.reason).toBe("max-connections-per-source 2 reached for 127.0.0.2; raise devices.fmg-1.fgfm.max-connections-per-source to allow more from one address")
    expect((lab.devices.get("fmg-1") as FortiManager).connections.closed["max-connections-per-source"]).toBe(1)
    expect([...held, other].map(isOpen)).toEqual([true, true, true])
  })

  it("first-byte-timeout closes a silent TCP/8443 connection; idle-timeout a syslog connection that went quiet, not one that talks", async () => {
    const clock = new SimulatedLabClock()
    const started = await useLab(
      "name: timeouts\ndevices:\n  faz-1: { kind: fortianalyzer, syslog: { first-byte-timeout: 0s, idle-timeout: 60s }, https: { first-byte-timeout: 5s } }\n",
      { clock }
    )
    const { lab } = started
    const at = (port: PortKey) => lab.plan.resolve("faz-1", port)
    const silent = await dial(at("tcp/8443"))
    const quiet = await dial(at("tcp/514"))
    const talker = await dial(at("tcp/514"))
    sockets.push(silent, quiet, talker)
    const quietPeer = `${quiet.localAddress}:${quiet.localPort}`
    quiet.write("<134>Nov 27 08:00:00 quiet test: first\n")
    talker.write("<134>Nov 27 08:00:00 talker test: first\n")
    await waitForStored(started, "quiet", 1)
    await waitForStored(started, "talker", 1)

    clock.advance(5_000)
    const firstByte = await waitForEvent(started, "connection-closed", (e) => e.rule === "first-byte-timeout")
    expect(firstByte).toMatchObject({ port: "tcp/8443", reason: "sent nothing within first-byte-timeout 5 s of connecting; closed to free its connection slot" })

    // The talker sends every 30 s; the quiet one says nothing more.
    for (let second = 30; second <= 90; second += 30) {
      clock.advance(30_000)
      talker.write(`<134>Nov 27 08:0${Math.floor(second / 60)}:${String(second % 60).padStart(2, "0")} talker test: at ${second}\n`)
      await waitForStored(started, "talker", 1 + second / 30)
    }
    const idle = await waitForEvent(started, "connection-closed", (e) => e.rule === "idle-timeout")
    expect(idle).toMatchObject({ port: "tcp/514", peer: quietPeer })
    expect(idle.reason).toBe("sent nothing for idle-timeout 60 s; closed (raise devices.faz-1.syslog.idle-timeout, or 0s to keep quiet connections)")
    expect(isOpen(talker)).toBe(true)
    expect(analyzer(lab).connections.closed).toEqual({ "max-connections": 0, "max-connections-per-source": 0, "first-byte-timeout": 1, "idle-timeout": 1 })
  })
})
