/** The analyzer's UDP/514 receiver thread: every datagram reaches the main thread once, in order, with its sender; binds fail as the main thread's would. */
import * as dgram from "node:dgram"
import { Worker } from "node:worker_threads"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { describe, expect, it } from "vitest"
import { forEachDatagram, listenSyslogUdp, MAX_BACKLOG_BYTES, type SyslogUdpOptions } from "../../src/devices/fortianalyzer/udp-intake.ts"

const options = (onBatch: SyslogUdpOptions["onBatch"], actualPort = 0): SyslogUdpOptions => ({
  device: "faz-1",
  port: "udp/514",
  host: "127.0.0.1",
  actualPort,
  receiveBufferBytes: 1 << 20,
  thread: "wait",
  onBatch,
  onDatagram: () => expect.unreachable("the receiver thread was asked for")
})

const sender = async (): Promise<dgram.Socket> => {
  const socket = dgram.createSocket("udp4")
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve))
  return socket
}

const send = (socket: dgram.Socket, port: number, text: string) =>
  new Promise<void>((resolve, reject) => socket.send(text, port, "127.0.0.1", (error) => (error ? reject(error) : resolve())))

describe("listenSyslogUdp on the receiver thread", () => {
  it("hands every datagram over once, in the order sent, with its sender", async () => {
    const seen: Array<[string, string]> = []
    let waiting: { count: number; resolve: () => void } | null = null
    const onBatch: SyslogUdpOptions["onBatch"] = (batch) => {
      forEachDatagram(batch, (datagram, peer) => seen.push([peer, datagram.toString("utf8")]))
      if (waiting !== null && seen.length >= waiting.count) waiting.resolve()
    }
    const received = (count: number) =>
      new Promise<void>((resolve) => {
        waiting = { count, resolve }
        if (seen.length >= count) resolve()
      })
    const scope = Effect.runSync(Scope.make())
    const listener = await Effect.runPromise(Scope.provide(scope)(listenSyslogUdp(options(onBatch))))
    const a = await sender()
    const b = await sender()
    const expected: Array<[string, string]> = []
    for (let i = 0; i < 300; i++) {
      const from = i % 7 === 3 ? b : a
      const text = `<14>message ${i}${i % 50 === 0 ? "\n" : ""}`
      await send(from, listener.actualPort, text)
      expected.push([`127.0.0.1:${from.address().port}`, text])
    }
    await received(expected.length)
    await Effect.runPromise(Scope.close(scope, Exit.void))
    a.close()
    b.close()
    expect(seen).toEqual(expected)
    expect(listener.receiveBufferBytes).toBeGreaterThan(0)
  })

  it("fails with the same BindError as any listener when the port is taken", async () => {
    const taken = await sender()
    const exit = await Effect.runPromiseExit(Effect.scoped(listenSyslogUdp(options(() => undefined, taken.address().port))))
    taken.close()
    expect(Exit.isFailure(exit)).toBe(true)
    if (Exit.isFailure(exit)) expect(String(exit.cause)).toMatch(/EADDRINUSE|already in use/)
  })

  it("holds at most MAX_BACKLOG_BYTES for a main thread that does not take them, and says how many it dropped", async () => {
    // A sender on its own thread floods while this thread is blocked inside onBatch; it sends the
    // next datagram only once the socket's kernel queue is nearly empty (/proc/net/udp), so every
    // datagram reaches the receiver thread and none is lost to the kernel: what is not handed over
    // must have been dropped by the bound, and counted.
    const DATAGRAM = 60_000
    const SENT = Math.ceil((1.5 * MAX_BACKLOG_BYTES) / DATAGRAM)
    const flags = new Int32Array(new SharedArrayBuffer(8)) // [0]: main is blocked, [1]: all sent and read
    let handed = 0
    let shed = 0
    let settled: (() => void) | null = null
    const onBatch: SyslogUdpOptions["onBatch"] = (batch) => {
      if (flags[0] === 0) {
        Atomics.store(flags, 0, 1)
        Atomics.notify(flags, 0)
        // Blocked (bounded) until the sender is done, as a busy main thread would be.
        Atomics.wait(flags, 1, 0, 40_000)
        return
      }
      forEachDatagram(batch, (datagram) => {
        if (datagram.length === DATAGRAM) handed++
      })
      shed += batch.shed
      if (handed + shed >= SENT) settled?.()
    }
    const scope = Effect.runSync(Scope.make())
    const listener = await Effect.runPromise(Scope.provide(scope)(listenSyslogUdp({ ...options(onBatch), receiveBufferBytes: 8 << 20 })))
    const port = listener.actualPort
    const flooder = new Worker(new URL("../fixtures/udp-flooder.ts", import.meta.url), { workerData: { flags, port, count: SENT, size: DATAGRAM } })
    await new Promise<void>((resolve) => {
      settled = resolve
    })
    await flooder.terminate()
    await Effect.runPromise(Scope.close(scope, Exit.void))
    expect(handed + shed).toBe(SENT)
    // The kernel queue is empty once the thread read the last datagram, a moment before it took it
    // in: this thread may wake and free room while it does, so a few beyond the bound may be kept.
    const racing = 4
    expect(handed).toBeLessThanOrEqual(Math.floor(MAX_BACKLOG_BYTES / DATAGRAM) + racing)
    expect(shed).toBeGreaterThanOrEqual(SENT - Math.floor(MAX_BACKLOG_BYTES / DATAGRAM) - racing)
  })

  it("counts what the kernel dropped before the thread read it (a full receive buffer), from /proc/net/udp", async () => {
    const SENT = 5_000
    let handed = 0
    let kernelDropped = 0
    let settled: (() => void) | null = null
    const onBatch: SyslogUdpOptions["onBatch"] = (batch) => {
      handed += batch.ends.length
      kernelDropped += batch.kernelDropped
      if (handed + kernelDropped >= SENT) settled?.()
    }
    const scope = Effect.runSync(Scope.make())
    // The smallest receive buffer the kernel grants: a burst overflows it at once.
    const listener = await Effect.runPromise(Scope.provide(scope)(listenSyslogUdp({ ...options(onBatch), receiveBufferBytes: 1 })))
    const socket = await sender()
    const payload = Buffer.alloc(1000, 0x61)
    let failed = 0
    await Promise.all(
      Array.from({ length: SENT }, () => new Promise<void>((resolve) => socket.send(payload, listener.actualPort, "127.0.0.1", (error) => resolve(void (error ? failed++ : 0)))))
    )
    socket.close()
    expect(failed).toBe(0)
    await new Promise<void>((resolve) => {
      settled = resolve
      if (handed + kernelDropped >= SENT) resolve()
    })
    await Effect.runPromise(Scope.close(scope, Exit.void))
    expect(kernelDropped).toBeGreaterThan(0)
    expect(handed + kernelDropped).toBe(SENT)
  })
})
