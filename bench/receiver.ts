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
 * Talks JSON lines (`receiver-protocol.ts`): prints `{"type":"ready",udp,tcp}` once bound,
 * then reads `{"expect":N}` on stdin (the count the sender sent), waits until N are counted or
 * nothing new arrived for a while, prints a `ReceiverReport` and exits.
 */
import * as dgram from "node:dgram"
import * as net from "node:net"
import { parseArgs } from "node:util"
import { startBenchLab } from "./bench-lab.ts"
import { usage } from "./cli-args.ts"
import { announceReady, type Counted, Counter, printReport, readExpect } from "./receiver-protocol.ts"

export interface Endpoint {
  readonly address: string
  readonly port: number
}

/**
 * `received`: messages counted (bare) or stored (analyzer); `batches`: the datagrams, TCP reads,
 * or `logs-stored` events (store transactions) that brought them.
 */
export interface ReceiverReport extends Counted {
  readonly type: "result"
  readonly sink: "bare" | "analyzer"
  /** Rejected by the analyzer's intake (log-malformed events); always 0 for the bare sink. */
  readonly malformed: number
  /** Peak resident set size of this process, KiB (getrusage ru_maxrss). */
  readonly maxRssKiB: number
  /** Time the lab took to close (flush, stop, close the store), ms; 0 for the bare sink. */
  readonly closeMs: number
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

/** Starts the lab only here, so the bare sink's RSS is that of a bare Node server. */
const startAnalyzer = async (dataDir: string | null, fromDist: boolean): Promise<Sink> => {
  const counter = new Counter()
  let malformed = 0
  const { lab, close } = await startBenchLab({
    yaml: BENCH_LAB,
    file: "bench.yaml",
    dataDir,
    addressing: "per-device",
    fromDist,
    onEvent: (event) => {
      if (event.type === "logs-stored") counter.add(event.count)
      else if (event.type === "log-malformed") malformed++
    }
  })
  const udp = lab.plan.resolve("faz-1", "udp/514")
  const tcp = lab.plan.resolve("faz-1", "tcp/514")
  return {
    udp: { address: udp.address, port: udp.actualPort },
    tcp: { address: tcp.address, port: tcp.actualPort },
    counter,
    malformed: () => malformed,
    close
  }
}

const main = async (): Promise<void> => {
  const { values } = parseArgs({ options: { sink: { type: "string" }, "data-dir": { type: "string" }, "from-dist": { type: "boolean", default: false } } })
  const sinkKind = values.sink
  if (sinkKind !== "bare" && sinkKind !== "analyzer") {
    usage("node bench/receiver.ts --sink bare|analyzer [--data-dir DIR]")
    return
  }
  const sink = sinkKind === "bare" ? await startBareSink() : await startAnalyzer(values["data-dir"] ?? null, values["from-dist"])
  announceReady({ udp: sink.udp, tcp: sink.tcp })
  await sink.counter.waitFor(Number((await readExpect()) ?? 0))
  const closeStart = performance.now()
  await sink.close()
  const closeMs = sinkKind === "bare" ? 0 : performance.now() - closeStart
  const report: ReceiverReport = {
    type: "result",
    sink: sinkKind,
    ...sink.counter.counted(),
    malformed: sink.malformed(),
    maxRssKiB: process.resourceUsage().maxRSS,
    closeMs
  }
  printReport(report)
}

if (import.meta.main) await main()
