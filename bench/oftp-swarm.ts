/**
 * Many light OFTP devices in one process, spoken straight with the codec, so that holding 1,000
 * sessions measures the analyzer and not fazlab's FortiGate emulation:
 * `node bench/oftp-swarm.ts --port P [--devices N] [--rate R] [--count C] [--max-seconds S]`.
 *
 * Each device (`swarm-0001`, ... serials `FGT60FTK22nnnnnn`) connects with TLS at once (as a lab
 * of FortiGates does at start), sends HELLO and, once authorized, sends `count` records at `rate`
 * per second: every 100 ms one LOGS frame with what is due. Records are 10 of the blaster's
 * FortiOS logs with the device's own name and serial. A session that fails is counted, not
 * retried. It stops when every device has all its records acknowledged, or after `max-seconds`,
 * and prints one `OftpFleetReport` JSON line (the same shape as `oftp-fleet.ts`), then sends
 * CLOSE on every session and exits.
 */
import { monitorEventLoopDelay } from "node:perf_hooks"
import * as tls from "node:tls"
import { parseArgs } from "node:util"
import { encodeFrame, OftpDecoder } from "../src/protocols/oftp/frames.ts"
import { FLEET_OPTIONS, positiveWholeNumbers, usage } from "./cli-args.ts"
import { MemoryPeaks, now, processLoad } from "./measure.ts"
import { makeRecords, OFTP_BLASTER } from "./oftp-blaster.ts"
import type { FleetOptions, OftpFleetReport } from "./oftp-fleet.ts"

const TICK_MS = 100
/** A device that sent nothing for this long sends KEEPALIVE (FortiOS `monitor-keepalive-period`). */
const KEEPALIVE_MS = 5000
const RECORDS_PER_DEVICE = 10

type Options = Omit<FleetOptions, "queueSize" | "port" | "analyzerDir" | "first"> & { readonly port: number }

class Device {
  readonly name: string
  readonly serial: string
  readonly #records: ReadonlyArray<string>
  readonly #socket: tls.TLSSocket
  onlineAt = 0
  sent = 0
  acked = 0
  failed = false
  #closing = false
  #lastSentAt = 0

  constructor(index: number, templates: ReadonlyArray<string>, port: number, events: { online(): void; acked(device: Device, count: number): void; failed(): void }) {
    this.name = `swarm-${String(index + 1).padStart(4, "0")}`
    this.serial = `FGT60FTK22${String(index + 1).padStart(6, "0")}`
    this.#records = templates.slice(0, RECORDS_PER_DEVICE).map((text) => text.replaceAll(OFTP_BLASTER.hostname, this.name).replaceAll(OFTP_BLASTER.serial, this.serial))
    const decoder = new OftpDecoder({ maxFrameBytes: 1024 * 1024 })
    const socket = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false, checkServerIdentity: () => undefined })
    this.#socket = socket
    const fail = () => {
      if (this.failed || this.#closing) return
      this.failed = true
      events.failed()
    }
    socket.on("error", fail)
    socket.on("close", fail)
    socket.once("secureConnect", () => {
      socket.write(encodeFrame({
        type: "hello",
        hello: { serial: this.serial, hostname: this.name, platform: "FortiGate-60F", version: "v7.4.4", vdoms: ["root"], uploadOption: "realtime", keepaliveMs: 5000 }
      }))
    })
    socket.on("data", (chunk: Buffer) => {
      const result = decoder.push(chunk)
      for (const frame of result.frames) {
        if (frame.type === "hello-reply" && frame.reply.status === "authorized" && this.onlineAt === 0) {
          this.onlineAt = now()
          events.online()
        } else if (frame.type === "ack" && frame.upTo > this.acked) {
          const count = frame.upTo - this.acked
          this.acked = frame.upTo
          events.acked(this, count)
        } else if (frame.type === "keepalive") {
          socket.write(encodeFrame({ type: "keepalive-reply" }))
        }
      }
      if (result.error !== undefined) socket.destroy()
    })
  }

  /** Sends what is due by the clock since the device came online, or a KEEPALIVE when idle. */
  tick(at: number, rate: number, count: number): void {
    if (this.onlineAt === 0 || this.failed) return
    if (this.sent >= count) {
      if (at - this.#lastSentAt >= KEEPALIVE_MS) {
        this.#socket.write(encodeFrame({ type: "keepalive" }))
        this.#lastSentAt = at
      }
      return
    }
    const due = Math.min(count, Math.floor(((at - this.onlineAt) * rate) / 1000) + 1) - this.sent
    if (due <= 0) return
    const records: string[] = []
    for (let i = 0; i < due; i++) records.push(this.#records[(this.sent + i) % this.#records.length] as string)
    this.#socket.write(encodeFrame({ type: "logs", firstSeq: this.sent + 1, records }))
    this.sent += due
    this.#lastSentAt = at
  }

  close(): void {
    this.#closing = true
    if (this.#socket.destroyed) return
    this.#socket.end(encodeFrame({ type: "close", reason: "benchmark done" }))
  }
}

const run = (options: Options): Promise<OftpFleetReport> =>
  new Promise((resolve) => {
    const templates = makeRecords()
    const loop = monitorEventLoopDelay({ resolution: 10 })
    loop.enable()
    const memory = new MemoryPeaks()
    let online = 0
    let failures = 0
    let complete = 0
    let firstAckAt = 0
    let firstAckCount = 0
    let lastAckAt = 0
    let ackedTotal = 0
    let finished = false
    const startedAt = now()
    const devices: Device[] = []
    const finish = (aborted: boolean) => {
      if (finished) return
      finished = true
      clearInterval(ticker)
      clearTimeout(deadline)
      loop.disable()
      const onlineTimes = devices.filter((device) => device.onlineAt > 0).map((device) => device.onlineAt)
      const span = lastAckAt - firstAckAt
      resolve({
        type: "oftp-fleet",
        devices: options.devices,
        startedAt,
        count: options.count,
        online,
        labStartMs: 0,
        firstOnlineMs: onlineTimes.length === 0 ? 0 : Math.min(...onlineTimes) - startedAt,
        allOnlineMs: onlineTimes.length < options.devices ? 0 : Math.max(...onlineTimes) - startedAt,
        retries: failures,
        generated: devices.reduce((sum, device) => sum + device.sent, 0),
        generatedBy: Object.fromEntries(devices.map((device) => [device.name, device.sent])),
        acked: ackedTotal,
        complete,
        dropped: 0,
        rate: span > 0 ? ((ackedTotal - firstAckCount) * 1000) / span : 0,
        firstAckAt,
        lastAckAt,
        ...processLoad(memory, loop),
        aborted,
        check: null
      })
      for (const device of devices) device.close()
    }
    const events = {
      online: () => online++,
      failed: () => failures++,
      acked: (device: Device, count: number) => {
        const at = now()
        ackedTotal += count
        if (firstAckAt === 0) {
          firstAckAt = at
          firstAckCount = count
        }
        lastAckAt = at
        if (device.acked >= options.count && device.acked - count < options.count) {
          complete++
          if (complete === options.devices) finish(false)
        }
      }
    }
    for (let i = 0; i < options.devices; i++) devices.push(new Device(i, templates, options.port, events))
    const ticker = setInterval(() => {
      memory.sample()
      const at = now()
      for (const device of devices) device.tick(at, options.rate, options.count)
    }, TICK_MS)
    const deadline = setTimeout(() => finish(true), options.maxSeconds * 1000)
  })

const main = async (): Promise<void> => {
  const { values } = parseArgs({ options: FLEET_OPTIONS })
  const numbers = positiveWholeNumbers([values.port, values.devices, values.rate, values.count, values["max-seconds"]])
  if (numbers === null) {
    usage("node bench/oftp-swarm.ts --port P [--devices N] [--rate R] [--count C] [--max-seconds S] (positive whole numbers)")
    return
  }
  const [port, devices, rate, count, maxSeconds] = numbers as [number, number, number, number, number]
  const report = await run({ port, devices, rate, count, maxSeconds })
  process.stdout.write(`${JSON.stringify(report)}\n`)
}

if (import.meta.main) await main()
