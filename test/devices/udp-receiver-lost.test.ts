/**
 * An analyzer whose UDP receiver thread ends: its UDP/514 is bound again on the main thread at the
 * same address and port and says so (`listener-moved`), or, when that port was taken meanwhile,
 * reports `listener-failed`; either way stopping the lab leaves the port free. The thread is ended
 * for real (`Worker.terminate()`): `node:worker_threads` is wrapped here only to record the
 * receiver's Worker as it is created.
 */
import * as dgram from "node:dgram"
import type { Worker } from "node:worker_threads"
import { describe, expect, it, vi } from "vitest"
import { eventText } from "../../src/cli/event-text.ts"
import { isEvent, useLab, waitForEvent, waitForStored } from "../support/lab.ts"

const receivers = vi.hoisted((): Worker[] => [])

vi.mock("node:worker_threads", async (importOriginal) => {
  const original = await importOriginal<typeof import("node:worker_threads")>()
  class RecordedWorker extends original.Worker {
    constructor(...args: ConstructorParameters<typeof original.Worker>) {
      super(...args)
      if (String(args[0]).includes("udp-worker")) receivers.push(this)
    }
  }
  return { ...original, Worker: RecordedWorker }
})

const LAB = `
name: udp-receiver-lost
devices:
  faz-1: { kind: fortianalyzer }
`

const line = (devname: string, n: number) =>
  `<189>date=2026-11-27 time=06:00:0${n} devname="${devname}" devid="FGT60FTK20000009" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" msg="log ${n}"`

const send = async (to: { readonly address: string; readonly actualPort: number }, text: string): Promise<void> => {
  const socket = dgram.createSocket("udp4")
  try {
    await new Promise<void>((resolve, reject) => socket.send(text, to.actualPort, to.address, (error) => (error ? reject(error) : resolve())))
  } finally {
    socket.close()
  }
}

/** Binds `to` (exclusive) and resolves with the socket, or with the error code. */
const bindUdp = (to: { readonly address: string; readonly actualPort: number }): Promise<dgram.Socket | string> =>
  new Promise((resolve) => {
    const socket = dgram.createSocket("udp4")
    socket.once("error", (error: NodeJS.ErrnoException) => {
      socket.close()
      resolve(error.code ?? "UNKNOWN")
    })
    socket.bind({ address: to.address, port: to.actualPort, exclusive: true }, () => resolve(socket))
  })

const exited = (worker: Worker) => new Promise<number>((resolve) => worker.once("exit", resolve))

/** The receiver thread the lab's analyzer bound its UDP/514 on. */
const receiverOf = (): Worker => {
  const worker = receivers.at(-1)
  if (worker === undefined) throw new Error("no UDP receiver thread was started")
  return worker
}

describe("the analyzer's UDP/514 when its receiver thread ends", () => {
  it("is bound again on the main thread at the same address and port, says so, stores what comes next, and closes with the lab", async () => {
    const started = await useLab(LAB)
    const udp = started.lab.plan.resolve("faz-1", "udp/514")
    await send(udp, line("fgt-moved", 1))
    await waitForStored(started, "fgt-moved", 1)

    const worker = receiverOf()
    const gone = exited(worker)
    await worker.terminate()
    const moved = await waitForEvent(started, "listener-moved")
    expect(await gone).toBe(1)
    expect(moved).toMatchObject({ device: "faz-1", port: "udp/514", address: udp.address, actualPort: udp.actualPort })
    expect(moved.reason).toBe("the UDP receiver thread ended (exit code 1); udp/514 is read on the main thread now")
    expect(eventText(moved)).toContain(`faz-1 still listens on udp/514 at ${udp.address}:${udp.actualPort}: the UDP receiver thread ended`)
    expect(started.lab.plan.resolve("faz-1", "udp/514")).toEqual(udp)

    await send(udp, line("fgt-moved", 2))
    await waitForStored(started, "fgt-moved", 2)
    expect(started.lab.analyzers()[0]!.store.query({ device: "fgt-moved", limit: 10 }).map((row) => row.fields?.["msg"]).sort()).toEqual(["log 1", "log 2"])
    expect(started.events.filter(isEvent("listener-failed"))).toEqual([])

    await started.close()
    expect(started.events.filter(isEvent("listener-closed")).map((event) => event.port)).toContain("udp/514")
    const again = await bindUdp(udp)
    expect(typeof again).not.toBe("string")
    if (typeof again !== "string") again.close()
  })

  it("a later analyzer gets a new receiver thread", async () => {
    const first = await useLab(LAB)
    const dead = receiverOf()
    const gone = exited(dead)
    await dead.terminate()
    await gone
    await waitForEvent(first, "listener-moved")

    const second = await useLab(LAB)
    expect(receiverOf()).not.toBe(dead)
    const udp = second.lab.plan.resolve("faz-1", "udp/514")
    await send(udp, line("fgt-fresh", 1))
    await waitForStored(second, "fgt-fresh", 1)
    expect(second.events.filter(isEvent("listener-moved"))).toEqual([])
  })

  it("is reported failed when its port was taken before it could be bound again, and the lab still stops", async () => {
    const started = await useLab(LAB)
    const udp = started.lab.plan.resolve("faz-1", "udp/514")
    const worker = receiverOf()
    // Runs before the receiver's own "exit" handler: the port is free (the thread's socket went with it) and this takes it first.
    const taken = new Promise<dgram.Socket | string>((resolve) => worker.prependOnceListener("exit", () => resolve(bindUdp(udp))))
    await worker.terminate()
    const failed = await waitForEvent(started, "listener-failed")
    const holder = await taken
    expect(typeof holder).not.toBe("string")
    expect(failed).toMatchObject({ device: "faz-1", port: "udp/514", address: udp.address, actualPort: udp.actualPort, code: "EADDRINUSE" })
    expect(failed.reason).toMatch(/^the UDP receiver thread ended \(exit code 1\) and udp\/514 could not be bound again: the address is already in use/)
    expect(started.events.filter(isEvent("listener-moved"))).toEqual([])

    await started.close()
    if (typeof holder !== "string") holder.close()
  })
})
