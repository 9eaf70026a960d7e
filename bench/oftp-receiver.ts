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
 * Talks JSON lines: prints `{"type":"ready",port}` once bound, then reads
 * `{"expect":{"<device>":N,...}}` on stdin (each sender's device name and how many records it
 * sent), waits until all are counted or nothing new arrived for `IDLE_MS` (bounded by
 * `MAX_WAIT_MS`), closes, checks the analyzer's store with `sequenceReport` for every device
 * (none missing, none twice), prints an `OftpReceiverReport` and exits.
 */
import * as path from "node:path"
import * as readline from "node:readline"
import * as tls from "node:tls"
import { parseArgs } from "node:util"
import { LabPki } from "../src/net/pki.ts"
import { serverTlsOptions } from "../src/net/tls.ts"
import { encodeFrame, OFTP_FRAME_TYPES, OFTP_HEADER_BYTES } from "../src/protocols/oftp/frames.ts"

export interface OftpReceiverReport {
  readonly type: "result"
  readonly sink: "bare" | "analyzer"
  /** Records acknowledged (bare) or stored (analyzer, from `logs-stored`). */
  readonly received: number
  /** Events that brought them: LOGS frames (bare) or `logs-stored` events (analyzer). */
  readonly batches: number
  /** Records per second from the first batch to the last one (the first batch left out). */
  readonly rate: number
  readonly firstAt: number
  readonly lastAt: number
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

/** Nothing new for this long after the senders finished means the rest is lost. */
const IDLE_MS = 2000
const MAX_WAIT_MS = 60_000

const now = (): number => performance.timeOrigin + performance.now()

/** Counts records per batch; the rate leaves the first batch out (see bench/receiver.ts). */
class Counter {
  received = 0
  batches = 0
  firstAt = 0
  firstCount = 0
  lastAt = 0
  #onProgress: (() => void) | null = null

  add(count: number): void {
    if (count === 0) return
    const at = now()
    if (this.received === 0) {
      this.firstAt = at
      this.firstCount = count
    }
    this.received += count
    this.batches++
    this.lastAt = at
    this.#onProgress?.()
  }

  get rate(): number {
    return this.lastAt > this.firstAt ? ((this.received - this.firstCount) * 1000) / (this.lastAt - this.firstAt) : 0
  }

  /** Resolves once `expected` are counted, or nothing new came for `IDLE_MS`, or after `MAX_WAIT_MS`. */
  waitFor(expected: number): Promise<void> {
    return new Promise((resolve) => {
      const hardStop = setTimeout(done, MAX_WAIT_MS)
      let idle = setTimeout(done, IDLE_MS)
      const self = this
      function done(): void {
        clearTimeout(hardStop)
        clearTimeout(idle)
        self.#onProgress = null
        resolve()
      }
      this.#onProgress = () => {
        if (this.received >= expected) return done()
        clearTimeout(idle)
        idle = setTimeout(done, IDLE_MS)
      }
      if (this.received >= expected) done()
    })
  }
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

/** Loads the lab only here, so the bare sink's RSS is that of a TLS server with the lab PKI, no lab. */
const startAnalyzer = async (dataDir: string): Promise<Sink> => {
  const [{ Effect, Exit, Scope }, { Lab }, { parseScenario }, { RealLabClock }, { LogStore }] = await Promise.all([
    import("effect"),
    import("../src/lab/lab.ts"),
    import("../src/lab/scenario/load.ts"),
    import("../src/machines/clock.ts"),
    import("../src/store/log-store.ts")
  ])
  const counter = new Counter()
  const sessions = new Sessions()
  const scope = await Effect.runPromise(Scope.make())
  const lab = await Effect.runPromise(
    Scope.provide(scope)(
      Lab.make({
        scenario: parseScenario(BENCH_LAB, "oftp-bench.yaml", { stepsRequired: false }),
        dataDir,
        portBase: "ephemeral",
        addressing: "shared",
        clock: new RealLabClock(),
        onEvent: (event) => {
          if (event.type === "logs-stored") counter.add(event.count)
          else if (event.type === "oftp-session") {
            if (event.state === "online") sessions.wentOnline(event.serial ?? event.peer)
            else if (event.state === "closed") sessions.end(event.code ?? "link-lost")
          }
        }
      })
    )
  )
  const tcp = lab.plan.resolve("faz-1", "tcp/514")
  return {
    port: tcp.actualPort,
    counter,
    sessions,
    close: async (expect) => {
      await Effect.runPromise(Scope.close(scope, Exit.void))
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

const readExpected = (): Promise<Map<string, number>> =>
  new Promise((resolve) => {
    const lines = readline.createInterface({ input: process.stdin })
    lines.once("line", (line) => {
      lines.close()
      process.stdin.destroy()
      const parsed: unknown = JSON.parse(line)
      const expect = new Map<string, number>()
      if (typeof parsed === "object" && parsed !== null && "expect" in parsed && typeof parsed.expect === "object" && parsed.expect !== null) {
        for (const [device, sent] of Object.entries(parsed.expect)) expect.set(device, Number(sent))
      }
      resolve(expect)
    })
  })

const main = async (): Promise<void> => {
  const { values } = parseArgs({ options: { sink: { type: "string" }, "data-dir": { type: "string" } } })
  const sinkKind = values.sink
  const dataDir = values["data-dir"]
  if ((sinkKind !== "bare" && sinkKind !== "analyzer") || (sinkKind === "analyzer" && dataDir === undefined)) {
    process.stderr.write("usage: node bench/oftp-receiver.ts --sink bare | --sink analyzer --data-dir DIR\n")
    process.exitCode = 2
    return
  }
  let heapUsedMax = 0
  let externalMax = 0
  const sampler = setInterval(() => {
    const memory = process.memoryUsage()
    heapUsedMax = Math.max(heapUsedMax, memory.heapUsed)
    externalMax = Math.max(externalMax, memory.external + memory.arrayBuffers)
  }, 250)
  const sink = sinkKind === "bare" ? await startBareSink() : await startAnalyzer(dataDir as string)
  process.stdout.write(`${JSON.stringify({ type: "ready", port: sink.port })}\n`)
  const expect = await readExpected()
  await sink.counter.waitFor([...expect.values()].reduce((sum, n) => sum + n, 0))
  clearInterval(sampler)
  const closeStart = performance.now()
  const check = await sink.close(expect)
  const closeMs = sinkKind === "bare" ? 0 : performance.now() - closeStart
  const { counter, sessions } = sink
  const report: OftpReceiverReport = {
    type: "result",
    sink: sinkKind,
    received: counter.received,
    batches: counter.batches,
    rate: counter.rate,
    firstAt: counter.firstAt,
    lastAt: counter.lastAt,
    sessionsOnline: sessions.online,
    devicesOnline: sessions.firstOnline.size,
    firstOnlineAt: Math.min(...sessions.firstOnline.values()),
    lastOnlineAt: Math.max(...sessions.firstOnline.values()),
    sessionsEnded: Object.fromEntries(sessions.ended),
    check,
    maxRssKiB: process.resourceUsage().maxRSS,
    heapUsedMaxMb: heapUsedMax / 2 ** 20,
    externalMaxMb: externalMax / 2 ** 20,
    closeMs
  }
  process.stdout.write(`${JSON.stringify(report)}\n`)
}

if (import.meta.main) await main()
