/**
 * The benchmark's receiving side, one process per scenario so each has its own peak RSS:
 * `node bench/receiver.ts --sink bare|analyzer [--data-dir DIR] [--from-dist]`.
 *
 * - `bare`: a plain `node:net` + `node:dgram` server that only counts messages (UDP: one per
 *   datagram; TCP: walks the RFC 6587 octet counts, never looks at a message). It is what the
 *   sender can reach on this machine at best.
 * - `analyzer`: a lab with one emulated FortiAnalyzer (kernel-chosen ports, a file-backed
 *   store in DIR), counted from the `logs-stored` events on the lab bus: parse and store are
 *   included. Loaded from `src/` (type stripping at load time), or with `--from-dist` from the
 *   compiled `dist/` as the `fazlab` command runs it (`npm run build` first).
 *
 * Talks JSON lines: prints `{"type":"ready",udp,tcp}` once bound, then reads
 * `{"expect":N}` on stdin (the count the sender sent), waits until N are counted or nothing
 * new arrived for `IDLE_MS` (bounded by `MAX_WAIT_MS` in all), prints a `ReceiverReport`
 * and exits.
 */
import * as dgram from "node:dgram"
import * as net from "node:net"
import * as readline from "node:readline"
import { parseArgs } from "node:util"

export interface Endpoint {
  readonly address: string
  readonly port: number
}

export interface ReceiverReport {
  readonly type: "result"
  readonly sink: "bare" | "analyzer"
  /** Messages counted (bare) or stored (analyzer). */
  readonly received: number
  /** Events that brought them: datagrams, TCP reads, or `logs-stored` events (store transactions). */
  readonly batches: number
  /** Messages per second from the first batch to the last one (see `rateOf`). */
  readonly rate: number
  /** Wall-clock ms (performance.timeOrigin based) of the first and last batch. */
  readonly firstAt: number
  readonly lastAt: number
  /** Rejected by the analyzer's intake (log-malformed events); always 0 for the bare sink. */
  readonly malformed: number
  /** Peak resident set size of this process, KiB (getrusage ru_maxrss). */
  readonly maxRssKiB: number
  /** Time the lab took to close (flush, stop, close the store), ms; 0 for the bare sink. */
  readonly closeMs: number
}

/** Nothing new for this long after the sender finished means the rest is lost. */
const IDLE_MS = 2000
const MAX_WAIT_MS = 60_000

const now = (): number => performance.timeOrigin + performance.now()

/**
 * Counts batches: a batch is what one event (a datagram, a TCP read, a `logs-stored` event)
 * brought. The rate leaves the first batch out and divides by the time from it to the last
 * one, so it does not depend on when the sender happened to start.
 */
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

interface Sink {
  readonly udp: Endpoint
  readonly tcp: Endpoint
  readonly counter: Counter
  readonly malformed: () => number
  close(): Promise<void>
}

/** Counts the octet-counted frames of one TCP stream without looking inside them. */
const octetCounter = (): ((chunk: Buffer) => number) => {
  let need = -1 // bytes of the current frame still to skip, or -1 while reading MSG-LEN
  let length = 0
  return (chunk) => {
    let frames = 0
    let pos = 0
    while (pos < chunk.length) {
      if (need < 0) {
        const byte = chunk[pos++] as number
        if (byte === 0x20) need = length
        else length = length * 10 + (byte - 0x30)
        continue
      }
      const take = Math.min(need, chunk.length - pos)
      pos += take
      need -= take
      if (need === 0) {
        frames++
        need = -1
        length = 0
      }
    }
    return frames
  }
}

const listen = <T extends net.Server | dgram.Socket>(server: T, bind: (done: () => void) => void): Promise<T> =>
  new Promise((resolve, reject) => {
    server.once("error", reject)
    bind(() => resolve(server))
  })

const startBareSink = async (): Promise<Sink> => {
  const counter = new Counter()
  const udp = dgram.createSocket({ type: "udp4", recvBufferSize: 4 * 1024 * 1024 })
  udp.on("message", () => counter.add(1))
  await listen(udp, (done) => udp.bind(0, "127.0.0.1", done))
  const sockets = new Set<net.Socket>()
  const tcp = net.createServer((socket) => {
    sockets.add(socket)
    const count = octetCounter()
    socket.on("data", (chunk: Buffer) => counter.add(count(chunk)))
    socket.on("error", () => undefined)
    socket.on("close", () => sockets.delete(socket))
  })
  await listen(tcp, (done) => tcp.listen(0, "127.0.0.1", done))
  const udpAddress = udp.address()
  const tcpAddress = tcp.address() as net.AddressInfo
  return {
    udp: { address: udpAddress.address, port: udpAddress.port },
    tcp: { address: tcpAddress.address, port: tcpAddress.port },
    counter,
    malformed: () => 0,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await Promise.all([new Promise<void>((resolve) => udp.close(() => resolve())), new Promise<void>((resolve) => tcp.close(() => resolve()))])
    }
  }
}

const BENCH_LAB = "name: bench\ndevices:\n  faz-1: { kind: fortianalyzer }\n"

/** Loads the lab only here, so the bare sink's RSS is that of a bare Node server. */
const startAnalyzer = async (dataDir: string | null, fromDist: boolean): Promise<Sink> => {
  // The same modules either way; from dist/ they are compiled JavaScript.
  const module = (name: string) => (fromDist ? `../dist/${name}.js` : `../src/${name}.ts`)
  const [{ Effect, Exit, Scope }, { Lab }, { parseScenario }, { RealLabClock }] = await Promise.all([
    import("effect"),
    import(module("lab/lab")) as Promise<typeof import("../src/lab/lab.ts")>,
    import(module("lab/scenario/load")) as Promise<typeof import("../src/lab/scenario/load.ts")>,
    import(module("machines/clock")) as Promise<typeof import("../src/machines/clock.ts")>
  ])
  const counter = new Counter()
  let malformed = 0
  const scope = await Effect.runPromise(Scope.make())
  const lab = await Effect.runPromise(
    Scope.provide(scope)(
      Lab.make({
        scenario: parseScenario(BENCH_LAB, "bench.yaml", { stepsRequired: false }),
        dataDir,
        portBase: "ephemeral",
        addressing: "per-device",
        clock: new RealLabClock(),
        onEvent: (event) => {
          if (event.type === "logs-stored") counter.add(event.count)
          else if (event.type === "log-malformed") malformed++
        }
      })
    )
  )
  const udp = lab.plan.resolve("faz-1", "udp/514")
  const tcp = lab.plan.resolve("faz-1", "tcp/514")
  return {
    udp: { address: udp.address, port: udp.actualPort },
    tcp: { address: tcp.address, port: tcp.actualPort },
    counter,
    malformed: () => malformed,
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

const readExpected = (): Promise<number> =>
  new Promise((resolve) => {
    const lines = readline.createInterface({ input: process.stdin })
    lines.once("line", (line) => {
      lines.close()
      process.stdin.destroy()
      const parsed: unknown = JSON.parse(line)
      const expect = typeof parsed === "object" && parsed !== null && "expect" in parsed ? Number(parsed.expect) : 0
      resolve(expect)
    })
  })

const main = async (): Promise<void> => {
  const { values } = parseArgs({ options: { sink: { type: "string" }, "data-dir": { type: "string" }, "from-dist": { type: "boolean", default: false } } })
  const sinkKind = values.sink
  if (sinkKind !== "bare" && sinkKind !== "analyzer") {
    process.stderr.write("usage: node bench/receiver.ts --sink bare|analyzer [--data-dir DIR]\n")
    process.exitCode = 2
    return
  }
  const sink = sinkKind === "bare" ? await startBareSink() : await startAnalyzer(values["data-dir"] ?? null, values["from-dist"])
  process.stdout.write(`${JSON.stringify({ type: "ready", udp: sink.udp, tcp: sink.tcp })}\n`)
  const expected = await readExpected()
  await sink.counter.waitFor(expected)
  const closeStart = performance.now()
  await sink.close()
  const closeMs = sinkKind === "bare" ? 0 : performance.now() - closeStart
  const { counter } = sink
  const report: ReceiverReport = {
    type: "result",
    sink: sinkKind,
    received: counter.received,
    batches: counter.batches,
    rate: counter.rate,
    firstAt: counter.firstAt,
    lastAt: counter.lastAt,
    malformed: sink.malformed(),
    maxRssKiB: process.resourceUsage().maxRSS,
    closeMs
  }
  process.stdout.write(`${JSON.stringify(report)}\n`)
}

if (import.meta.main) await main()
