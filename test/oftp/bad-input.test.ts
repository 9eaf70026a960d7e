/**
 * Bad input on the analyzer's TCP/514, over real loopback sockets: garbage instead of a TLS
 * ClientHello, a handshake that stalls, oversized and unknown OFTP frames, a HELLO without a
 * serial, LOGS before HELLO, a second session for a connected serial, silence after TLS, a
 * device deleted during its session, and more connections than `max-connections`. Each case has
 * its named limit or rule, its counter, its event and the reason the device is told; a normal
 * FortiGate streaming over OFTP (or `logger` sending syslog) keeps working all along.
 */
import { execFile } from "node:child_process"
import { once } from "node:events"
import * as net from "node:net"
import * as tls from "node:tls"
import { promisify } from "node:util"
import * as Effect from "effect/Effect"
import { beforeAll, describe, expect, it, vi } from "vitest"
import type { FortiAnalyzer } from "../../src/devices/fortianalyzer/analyzer.ts"
import type { OftpServer } from "../../src/devices/fortianalyzer/oftp-server.ts"
import type { EventOf } from "../../src/events/events.ts"
import type { OftpSessionEnd } from "../../src/machines/oftp-session.ts"
import { encodeFrame, type Hello, OftpDecoder, type OftpFrame } from "../../src/protocols/oftp/frames.ts"
import { isEvent, sharedLab, waitForEvent, waitForStored } from "../support/lab.ts"

const run = promisify(execFile)

const GATE_SERIAL = "FGT60FTK20000001"
const MAX_FRAME_BYTES = 65_536

const LAB = `name: bad-input
devices:
  faz-1:
    kind: fortianalyzer
    serial: FAZ-VM0000000007
    oftp: { auto-authorize: true, handshake-timeout: 500ms, hello-timeout: 500ms, max-frame-bytes: ${MAX_FRAME_BYTES} }
  fgt-1:
    kind: fortigate
    serial: ${GATE_SERIAL}
    fortianalyzer: { server: faz-1, serial: FAZ-VM0000000007, rate: 50/s }
`

const hello = (serial: string): Hello => ({
  serial,
  hostname: `hand-${serial}`,
  platform: "FortiGate-60F",
  version: "v7.4.3",
  vdoms: ["root"],
  uploadOption: "realtime",
  keepaliveMs: 5000
})

let analyzer: FortiAnalyzer
let oftp: OftpServer

const started = sharedLab(LAB)
beforeAll(async () => {
  analyzer = started().lab.analyzers()[0]!
  oftp = analyzer.oftp!
  await waitForEvent(started(), "oftp-session", (e) => e.serial === GATE_SERIAL && e.state === "online")
  await waitForStored(started(), "fgt-1", 1)
})

const endpoint = () => started().lab.plan.resolve("faz-1", "tcp/514")

const peerOf = (socket: net.Socket): string => `${socket.localAddress}:${socket.localPort}`

/** The analyzer's `oftp-session` "closed" event for the connection from `peer`. */
const sessionClosed = (peer: string): Promise<EventOf<"oftp-session">> =>
  waitForEvent(started(), "oftp-session", (e) => e.peer === peer && e.state === "closed")

const count = (code: OftpSessionEnd): number => oftp.ended.get(code) ?? 0

/** The well-behaved FortiGate is still online and more of its logs arrive. */
const gateStillStreaming = async (): Promise<void> => {
  expect(oftp.connectedSerials()).toContain(GATE_SERIAL)
  const stored = started().events.filter((e) => e.type === "logs-stored" && e.from === "fgt-1")
  const last = stored.at(-1)
  await waitForStored(started(), "fgt-1", (last?.type === "logs-stored" ? last.total : 0) + 1)
}

/** A raw TCP client that writes `bytes` once connected; `closed` resolves when the analyzer drops it. */
const rawClient = async (bytes: Buffer): Promise<{ readonly peer: string; readonly closed: Promise<void> }> => {
  const { address, actualPort } = endpoint()
  const socket = net.connect({ host: address, port: actualPort })
  socket.on("error", () => undefined)
  const closed = once(socket, "close").then(() => undefined)
  await once(socket, "connect")
  socket.write(bytes)
  return { peer: peerOf(socket), closed }
}

interface HandClient {
  readonly socket: tls.TLSSocket
  readonly peer: string
  /** Every frame the analyzer sent, once it closed the connection. */
  readonly closed: Promise<ReadonlyArray<OftpFrame>>
  /** The next frame the analyzer sends (or one it already sent, in order). */
  readonly next: () => Promise<OftpFrame>
}

/** An OFTP client driven by hand: TLS with the lab CA, then whatever frames the test writes. */
const handClient = async (): Promise<HandClient> => {
  const { address, actualPort } = endpoint()
  const socket = tls.connect({ host: address, port: actualPort, ca: [started().lab.pki.caPem], rejectUnauthorized: true, checkServerIdentity: () => undefined })
  socket.on("error", () => undefined)
  const decoder = new OftpDecoder({ maxFrameBytes: 1024 * 1024 })
  const frames: OftpFrame[] = []
  let read = 0
  const waiting: Array<() => void> = []
  socket.on("data", (chunk: Buffer) => {
    frames.push(...decoder.push(chunk).frames)
    for (const wake of waiting.splice(0)) wake()
  })
  const closed = once(socket, "close").then(() => frames)
  await once(socket, "secureConnect")
  const next = async (): Promise<OftpFrame> => {
    while (frames[read] === undefined) {
      await Promise.race([new Promise<void>((resolve) => waiting.push(resolve)), closed.then(() => {
        throw new Error(`the analyzer closed the connection; frames so far: ${JSON.stringify(frames)}`)
      })])
    }
    return frames[read++]!
  }
  return { socket, peer: peerOf(socket), closed, next }
}

/** A hand client that said HELLO and was answered. */
const onlineClient = async (serial: string): Promise<HandClient> => {
  const client = await handClient()
  client.socket.write(encodeFrame({ type: "hello", hello: hello(serial) }))
  expect(await client.next()).toMatchObject({ type: "hello-reply", reply: { status: "authorized" } })
  return client
}

/**
 * Writes `bytes` on a fresh (or given) client and checks the whole story: the analyzer answers
 * with one ERROR frame and closes, publishes the same code and reason, and counts it once.
 */
const expectRefusal = async (
  bytes: Buffer,
  code: OftpSessionEnd,
  reason: string | RegExp,
  given?: HandClient
): Promise<EventOf<"oftp-session">> => {
  const before = count(code)
  const client = given ?? await handClient()
  client.socket.write(bytes)
  const event = await sessionClosed(client.peer)
  expect(event).toMatchObject({ device: "faz-1", code, reason })
  const frames = await client.closed
  expect(frames.filter((frame) => frame.type === "error")).toEqual([{ type: "error", code, reason: event.reason }])
  expect(frames.at(-1)?.type).toBe("error")
  expect(count(code)).toBe(before + 1)
  return event
}

describe("TLS on TCP/514", () => {
  it("fails garbage after 0x16 at once with tls-error, not after the handshake timeout", async () => {
    const before = count("tls-error")
    const timeouts = count("handshake-timeout")
    const client = await rawClient(Buffer.from("\x16 this is not a TLS ClientHello\r\n", "latin1"))
    const event = await sessionClosed(client.peer)
    expect(event).toMatchObject({ device: "faz-1", serial: null, code: "tls-error", reason: expect.stringMatching(/^TLS handshake failed: \S/) })
    await client.closed
    expect(count("tls-error")).toBe(before + 1)
    expect(count("handshake-timeout")).toBe(timeouts)
    await gateStillStreaming()
  })

  it("closes a ClientHello that stalls halfway with handshake-timeout", async () => {
    const before = count("handshake-timeout")
    // A TLS handshake record announcing 512 bytes, of which only the first few come.
    const client = await rawClient(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]))
    const event = await sessionClosed(client.peer)
    expect(event).toMatchObject({ code: "handshake-timeout", reason: "no TLS handshake within handshake-timeout (0.5 s)" })
    await client.closed
    expect(count("handshake-timeout")).toBe(before + 1)
    await gateStillStreaming()
  })

  it("closes a client that sets up TLS and says nothing with hello-timeout", async () => {
    await expectRefusal(Buffer.alloc(0), "hello-timeout", "no HELLO within hello-timeout (0.5 s)")
    await gateStillStreaming()
  })
})

describe("OFTP frames", () => {
  it("refuses a frame over max-frame-bytes with frame-too-large", async () => {
    const client = await onlineClient("FGT-BAD-TOO-LARGE")
    const oversized = encodeFrame({ type: "logs", firstSeq: 1, records: ["x".repeat(MAX_FRAME_BYTES)] })
    await expectRefusal(
      oversized,
      "frame-too-large",
      `the frame declares a ${oversized.length - 12}-byte body, more than max-frame-bytes (${MAX_FRAME_BYTES})`,
      client
    )
    expect(analyzer.store.query({ device: "hand-FGT-BAD-TOO-LARGE", limit: 1 })).toEqual([])
    await gateStillStreaming()
  })

  it("refuses an unknown frame type with unknown-type", async () => {
    const frame = encodeFrame({ type: "keepalive" })
    frame[5] = 0x0a
    await expectRefusal(frame, "unknown-type", "frame type 0x0a is not one of 0x01-0x09")
    await gateStillStreaming()
  })

  it("refuses a HELLO without a serial with hello-missing-serial", async () => {
    await expectRefusal(
      encodeFrame({ type: "hello", hello: hello("") }),
      "hello-missing-serial",
      "the HELLO has no serial (a non-empty string): the analyzer cannot tell which device this is"
    )
    await gateStillStreaming()
  })

  it("refuses LOGS before HELLO with hello-required and stores nothing", async () => {
    await expectRefusal(
      encodeFrame({ type: "logs", firstSeq: 1, records: ['devname="before-hello" msg="too early"'] }),
      "hello-required",
      "the device sent LOGS before HELLO"
    )
    expect(analyzer.store.query({ device: "before-hello", limit: 1 })).toEqual([])
    await gateStillStreaming()
  })
})

describe("sessions", () => {
  it("refuses a second session for a connected serial; the first keeps streaming", async () => {
    const event = await expectRefusal(
      encodeFrame({ type: "hello", hello: hello(GATE_SERIAL) }),
      "duplicate-session",
      new RegExp(`^${GATE_SERIAL} already has a session from \\S+:\\d+; refusing the second one from \\S+:\\d+$`)
    )
    expect(event.serial).toBe(GATE_SERIAL)
    await gateStillStreaming()
    await gateStillStreaming()
  })

  it("ends a deleted device's session without sending to a stopped session machine", async () => {
    const warn = vi.spyOn(console, "warn")
    try {
      const before = count("device-deleted")
      const client = await onlineClient("FGT-DELETED")
      await Effect.runPromise(analyzer.deleteDevice("FGT-DELETED"))
      expect(await client.next()).toEqual({ type: "status", status: "deleted", adom: null })
      expect(await sessionClosed(client.peer)).toMatchObject({ code: "device-deleted", reason: "device deleted on the analyzer" })
      await client.closed
      expect(count("device-deleted")).toBe(before + 1)
      // A full HELLO round trip on a new connection: by then the analyzer has seen the old one close.
      const after = await onlineClient("FGT-AFTER-DELETE")
      after.socket.end(encodeFrame({ type: "close", reason: "done" }))
      await sessionClosed(after.peer)
      expect(warn.mock.calls.map((args) => String(args[0])).filter((text) => text.includes("stopped actor"))).toEqual([])
    } finally {
      warn.mockRestore()
    }
    await gateStillStreaming()
  })

  it("the well-behaved FortiGate never lost its session", () => {
    const gateEnds = started().events.filter(isEvent("oftp-session", (e) => e.serial === GATE_SERIAL && e.state === "closed"))
    expect(gateEnds.map((e) => e.code)).toEqual(["duplicate-session"])
    expect(started().events.filter((e) => e.type === "oftp-link" && e.device === "fgt-1" && e.state !== "online" && e.state !== "connecting" && e.state !== "hello")).toEqual([])
  })
})

describe("max-connections on TCP/514", () => {
  const limited = sharedLab("name: bad-input-limit\ndevices:\n  faz-2: { kind: fortianalyzer, syslog: { max-connections: 2, max-connections-per-source: 2 } }\n")

  const closedEvent = (peer: string) =>
    waitForEvent(limited(), "connection-closed", (e) => e.peer === peer)

  const open = async (first: string): Promise<{ readonly socket: net.Socket; readonly peer: string; readonly closed: Promise<void> }> => {
    const { address, actualPort } = limited().lab.plan.resolve("faz-2", "tcp/514")
    const socket = net.connect({ host: address, port: actualPort })
    socket.on("error", () => undefined)
    const closed = once(socket, "close").then(() => undefined)
    await once(socket, "connect")
    socket.write(first)
    return { socket, peer: peerOf(socket), closed }
  }

  it("refuses a third connection naming the limit, and takes a new one once a slot is free", async () => {
    const a = await open("<")
    const b = await open("<")
    for (const held of [a, b]) {
      await waitForEvent(limited(), "connection-accepted", (e) => e.peer === held.peer)
    }
    const third = await open("<134>refused\n")
    expect(await closedEvent(third.peer)).toMatchObject({ device: "faz-2", port: "tcp/514", reason: "max-connections 2 reached; raise devices.faz-2.syslog.max-connections to allow more", rule: "max-connections" })
    await third.closed

    a.socket.end()
    await closedEvent(a.peer)
    const { address, actualPort } = limited().lab.plan.resolve("faz-2", "tcp/514")
    const message = 'date=2026-11-27 time=07:00:00 devname="after-limit" devid="FGT60FTK20000077" type="event" subtype="system" level="notice" msg="a slot is free again"'
    await run("logger", ["-n", address, "-P", String(actualPort), "-T", "--octet-count", "--rfc5424", "-t", "fgt", message])
    await waitForStored(limited(), "after-limit", 1)
    expect(limited().events.filter((e) => e.type === "connection-closed" && e.reason.startsWith("max-connections"))).toHaveLength(1)
    expect(limited().lab.analyzers()[0]?.refusedConnections).toBe(1)
    b.socket.destroy()
  })
})
