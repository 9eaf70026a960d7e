/**
 * The OFTP benchmark's receiving side, its own process so its peak RSS is its own:
 * `node bench/oftp-receiver.ts --sink bare|analyzer [--data-dir DIR]`.
 *
 * - `bare`: a TLS server with the analyzer's own TLS settings and a certificate from a lab PKI
 *   that only walks frame headers: it answers HELLO with `authorized` and acknowledges each LOGS
 *   batch from its 12-byte prefix, without looking at the records. It is what an OFTP sender can
 *   reach over TLS on this machine at best.
 * - `analyzer`: a lab with one emulated FortiAnalyzer (`auto-authorize`, kernel-chosen ports, a
 *   file-backed store in DIR), counted from the `logs-stored` events on the lab bus: TLS, decode,
 *   parse, store and acknowledge are all included.
 *
 * Talks JSON lines (`receiver-protocol.ts`): prints `{"type":"ready",port}` once bound, then
 * reads `{"expect":{"<device>":N,...}}` on stdin (each sender's device name and how many records
 * it sent), waits until all are counted or nothing new arrived for a while, closes, checks the analyzer's store with `sequenceReport` for every device
 * (none missing, none twice), prints an `OftpReceiverReport` and exits.
 */
import * as path from "node:path"
import * as tls from "node:tls"
import { parseArgs } from "node:util"
import { LabPki } from "../src/net/pki.ts"
import { serverTlsOptions } from "../src/net/tls.ts"
import { encodeFrame, OFTP_FRAME_TYPES, OFTP_HEADER_BYTES } from "../src/protocols/oftp/frames.ts"
import { startBenchLab } from "./bench-lab.ts"
import { usage } from "./cli-args.ts"
import { MemoryPeaks, now } from "./measure.ts"
import { announceReady, type Counted, Counter, printReport, readExpect } from "./receiver-protocol.ts"

/**
 * `received`: records acknowledged (bare) or stored (analyzer, from `logs-stored`); `batches`:
 * the LOGS frames (bare) or `logs-stored` events (analyzer) that brought them.
 */
export interface OftpReceiverReport extends Counted {
  readonly type: "result"
  readonly sink: "bare" | "analyzer"
  /** Sessions that reached `online` (reconnections included), and distinct devices among them. */
  readonly sessionsOnline: number
  readonly devicesOnline: number
  /** Wall-clock ms of the first device's first session online, and of the last device's. */
  readonly firstOnlineAt: number
  readonly lastOnlineAt: number
  /** Sessions that ended, by code ("device-closed", "link-lost", "hello-timeout", ...). */
  readonly sessionsEnded: Readonly<Record<string, number>>
  /** From the store after close (analyzer only; null for the bare sink): summed over the devices. */
  readonly check: SequenceCheck | null
  /** Peak resident set size of this process, KiB (getrusage ru_maxrss). */
  readonly maxRssKiB: number
  /** Peaks of V8's used heap and of memory outside it (Buffers, TLS), MB, sampled every 250 ms. */
  readonly heapUsedMaxMb: number
  readonly externalMaxMb: number
  /** Time the lab took to close, ms; 0 for the bare sink. */
  readonly closeMs: number
}

export interface SequenceCheck {
  readonly devices: number
  readonly stored: number
  readonly missing: number
  readonly duplicated: number
  /** Up to 5 devices with something missing or duplicated, for the report. */
  readonly worst: ReadonlyArray<string>
}

class Sessions {
  online = 0
  /** When each device (by serial) first had a session online. */
  readonly firstOnline = new Map<string, number>()
  readonly ended = new Map<string, number>()

  wentOnline(serial: string): void {
    this.online++
    if (!this.firstOnline.has(serial)) this.firstOnline.set(serial, now())
  }

  end(code: string): void {
    this.ended.set(code, (this.ended.get(code) ?? 0) + 1)
  }
}

interface Sink {
  readonly port: number
  readonly counter: Counter
  readonly sessions: Sessions
  /** Closes the sink; the analyzer then checks its store. */
  close(expect: ReadonlyMap<string, number>): Promise<SequenceCheck | null>
}

const SERVER_SERIAL = "FAZ-VM0000BENCH1"

/** Walks OFTP frames without decoding records: HELLO gets `authorized`, each LOGS batch its ACK. */
const bareSession = (socket: tls.TLSSocket, counter: Counter, sessions: Sessions): void => {
  // Chunks not yet part of a whole frame; joined only once the frame they start is complete.
  let chunks: Buffer[] = []
  let buffered = 0
  let need = OFTP_HEADER_BYTES
  socket.on("data", (chunk: Buffer) => {
    chunks.push(chunk)
    buffered += chunk.length
    if (buffered < need) return
    const buffer = chunks.length === 1 ? chunk : Buffer.concat(chunks, buffered)
    let pos = 0
    need = OFTP_HEADER_BYTES
    while (buffer.length - pos >= OFTP_HEADER_BYTES) {
      const frameBytes = OFTP_HEADER_BYTES + buffer.readUInt32BE(pos + 8)
      if (buffer.length - pos < frameBytes) {
        need = frameBytes
        break
      }
      const type = buffer[pos + 5]
      if (type === OFTP_FRAME_TYPES.hello) {
        socket.write(encodeFrame({
          type: "hello-reply",
          reply: { status: "authorized", analyzerSerial: SERVER_SERIAL, adom: "root", lastSeq: 0, keepaliveMs: 5000 }
        }))
        sessions.wentOnline(`bare-${sessions.online}`)
      } else if (type === OFTP_FRAME_TYPES.logs) {
        const body = pos + OFTP_HEADER_BYTES
        const firstSeq = Number(buffer.readBigUInt64BE(body))
        const count = buffer.readUInt32BE(body + 8)
        socket.write(encodeFrame({ type: "ack", upTo: firstSeq + count - 1 }))
        counter.add(count)
      } else if (type === OFTP_FRAME_TYPES.keepalive) {
        socket.write(encodeFrame({ type: "keepalive-reply" }))
      }
      pos += frameBytes
    }
    chunks = pos === buffer.length ? [] : [buffer.subarray(pos)]
    buffered = buffer.length - pos
  })
  socket.on("error", () => undefined)
  socket.on("close", () => sessions.end("link-lost"))
}

const startBareSink = async (): Promise<Sink> => {
  const pki = await LabPki.load({ dir: null, labName: "oftp-bench" })
  const identity = await pki.issue({ serial: SERVER_SERIAL, role: "server", ips: ["127.0.0.1"], hostnames: ["localhost"] })
  const counter = new Counter()
  const sessions = new Sessions()
  const sockets = new Set<tls.TLSSocket>()
  const server = tls.createServer(
    serverTlsOptions({ identity, caPem: pki.caPem, encAlgorithm: "high", sslMinProtoVersion: "default", requestClientCert: false }),
    (socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
      bareSession(socket, counter, sessions)
    }
  )
  server.on("tlsClientError", () => undefined)
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen({ host: "127.0.0.1", port: 0, backlog: 4096 }, resolve)
  })
  const port = (server.address() as { port: number }).port
  return {
    port,
    counter,
    sessions,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      return null
    }
  }
}

/** One analyzer that takes every OFTP device at once, on as many connections as the fleet needs. */
const BENCH_LAB = `name: oftp-bench
devices:
  faz-1: { kind: fortianalyzer, serial: ${SERVER_SERIAL}, oftp: { auto-authorize: true }, syslog: { max-connections: 8192 } }
`

/** Starts the lab only here, so the bare sink's RSS is that of a TLS server with the lab PKI, no lab. */
const startAnalyzer = async (dataDir: string): Promise<Sink> => {
  const counter = new Counter()
  const sessions = new Sessions()
  const [{ lab, close }, { LogStore }] = await Promise.all([
    startBenchLab({
      yaml: BENCH_LAB,
      file: "oftp-bench.yaml",
      dataDir,
      addressing: "shared",
      onEvent: (event) => {
        if (event.type === "logs-stored") counter.add(event.count)
        else if (event.type === "oftp-session") {
          if (event.state === "online") sessions.wentOnline(event.serial ?? event.peer)
          else if (event.state === "closed") sessions.end(event.code ?? "link-lost")
        }
      }
    }),
    import("../src/store/log-store.ts")
  ])
  const tcp = lab.plan.resolve("faz-1", "tcp/514")
  return {
    port: tcp.actualPort,
    counter,
    sessions,
    close: async (expect) => {
      await close()
      const store = LogStore.open({ path: path.join(dataDir, "faz-1", "logs.sqlite") })
      try {
        let stored = 0
        let missing = 0
        let duplicated = 0
        const worst: string[] = []
        for (const [device, sent] of expect) {
          const report = store.sequenceReport(device, sent)
          stored += report.stored
          missing += report.missing
          duplicated += report.duplicated
          if ((report.missing > 0 || report.duplicated > 0) && worst.length < 5) {
            worst.push(`${device}: ${report.missing} missing (first ${report.firstMissing.slice(0, 3).join(", ")}), ${report.duplicated} twice`)
          }
        }
        return { devices: expect.size, stored, missing, duplicated, worst }
      } finally {
        store.close()
      }
    }
  }
}

/** Each sender's device and how many records it sent, from `{"expect":{"<device>":N,...}}`. */
const expectedByDevice = (expect: unknown): Map<string, number> => {
  const byDevice = new Map<string, number>()
  if (typeof expect === "object" && expect !== null) {
    for (const [device, sent] of Object.entries(expect)) byDevice.set(device, Number(sent))
  }
  return byDevice
}

const main = async (): Promise<void> => {
  const { values } = parseArgs({ options: { sink: { type: "string" }, "data-dir": { type: "string" } } })
  const sinkKind = values.sink
  const dataDir = values["data-dir"]
  if ((sinkKind !== "bare" && sinkKind !== "analyzer") || (sinkKind === "analyzer" && dataDir === undefined)) {
    usage("node bench/oftp-receiver.ts --sink bare | --sink analyzer --data-dir DIR")
    return
  }
  const memory = new MemoryPeaks().every(250)
  const sink = sinkKind === "bare" ? await startBareSink() : await startAnalyzer(dataDir as string)
  announceReady({ port: sink.port })
  const expect = expectedByDevice(await readExpect())
  await sink.counter.waitFor([...expect.values()].reduce((sum, n) => sum + n, 0))
  memory.stop()
  const closeStart = performance.now()
  const check = await sink.close(expect)
  const closeMs = sinkKind === "bare" ? 0 : performance.now() - closeStart
  const { counter, sessions } = sink
  const report: OftpReceiverReport = {
    type: "result",
    sink: sinkKind,
    ...counter.counted(),
    sessionsOnline: sessions.online,
    devicesOnline: sessions.firstOnline.size,
    firstOnlineAt: Math.min(...sessions.firstOnline.values()),
    lastOnlineAt: Math.max(...sessions.firstOnline.values()),
    sessionsEnded: Object.fromEntries(sessions.ended),
    check,
    maxRssKiB: process.resourceUsage().maxRSS,
    heapUsedMaxMb: memory.heapUsedMaxMb,
    externalMaxMb: memory.externalMaxMb,
    closeMs
  }
  printReport(report)
}

if (import.meta.main) await main()
