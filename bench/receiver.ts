/**
 * The benchmark's receiving side, one process per scenario so each has its own peak RSS:
 * `node bench/receiver.ts --sink bare|analyzer|rsyslog [--data-dir DIR] [--from-dist [--cpu-prof-dir D]]`.
 *
 * - `bare`: a plain `node:net` + `node:dgram` server that only counts messages (UDP: one per
 *   datagram; TCP: walks the RFC 6587 octet counts, or counts LF bytes when the stream does not
 *   start with a digit; never looks at a message). It is what the sender can reach on this
 *   machine at best.
 * - `rsyslog`: rsyslogd (`syslog-tools.ts`) writing every message to a file in DIR, counted by
 *   its lines as they are written; the peak RSS is rsyslogd's.
 * - `analyzer`: a lab with one emulated FortiAnalyzer (kernel-chosen ports, a file-backed
 *   store in DIR), counted from its `logs-stored` events: parse and store are included. Started
 *   in this process from `src/` (type stripping at load time), or with `--from-dist` as the
 *   product runs: `fazlab up LAB --headless` (the bundle in `dist/`; `npm run build` first) as a
 *   child process, its JSON event lines read from its stdout; the peak RSS is then the child's
 *   (`VmHWM`), and `--cpu-prof-dir` writes the child's CPU profile there.
 *
 * Talks JSON lines (`receiver-protocol.ts`): prints `{"type":"ready",udp,tcp}` once bound,
 * then reads `{"expect":N}` on stdin (the count the sender sent), waits until N are counted or
 * nothing new arrived for a while, prints a `ReceiverReport` and exits.
 */
import { spawn } from "node:child_process"
import * as dgram from "node:dgram"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import * as readline from "node:readline"
import { parseArgs } from "node:util"
import { startBenchLab } from "./bench-lab.ts"
import { usage } from "./cli-args.ts"
import { FAZLAB_BIN } from "./paths.ts"
import { announceReady, type Counted, Counter, printReport, readExpect } from "./receiver-protocol.ts"
import { findRsyslogd, startRsyslog } from "./syslog-tools.ts"
import { cpuSince, sampleThreadCpu } from "./thread-cpu.ts"

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
  readonly sink: "bare" | "analyzer" | "rsyslog"
  /** Rejected by the analyzer's intake (log-malformed events); always 0 for the bare sink. */
  readonly malformed: number
  /** Peak resident set size of this process (rsyslog: of rsyslogd), KiB (getrusage ru_maxrss, VmHWM). */
  readonly maxRssKiB: number
  /** Time the lab took to close (flush, stop, close the store), ms; 0 for the bare sink. */
  readonly closeMs: number
  /** CPU seconds by thread name of the receiving process (rsyslog: rsyslogd) from ready to the last message counted. */
  readonly cpuByThread: ReadonlyArray<readonly [string, number]>
}

interface Sink {
  readonly udp: Endpoint
  readonly tcp: Endpoint
  readonly counter: Counter
  readonly malformed: () => number
  /** The peak RSS to report, KiB, when it is not this process's (rsyslogd's). */
  readonly maxRssKiB?: () => number
  /** The process that receives and stores (this one when absent). */
  readonly pid?: number | undefined
  close(): Promise<void>
}

/** Counts the frames of one TCP stream without looking inside them: RFC 6587 octet counts, or LF bytes when the stream does not start with a digit. */
const frameCounter = (): ((chunk: Buffer) => number) => {
  let need = -1 // bytes of the current frame still to skip, or -1 while reading MSG-LEN
  let length = 0
  let lf: boolean | null = null
  const lines = (chunk: Buffer): number => {
    let frames = 0
    for (let at = chunk.indexOf(0x0a); at >= 0; at = chunk.indexOf(0x0a, at + 1)) frames++
    return frames
  }
  return (chunk) => {
    if (chunk.length === 0) return 0
    lf ??= !((chunk[0] as number) >= 0x30 && (chunk[0] as number) <= 0x39)
    if (lf) return lines(chunk)
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
    const count = frameCounter()
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
const startAnalyzer = async (dataDir: string | null): Promise<Sink> => {
  const counter = new Counter()
  let malformed = 0
  const { lab, close } = await startBenchLab({
    yaml: BENCH_LAB,
    file: "bench.yaml",
    dataDir,
    addressing: "per-device",
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

/** `VmHWM` of a process, KiB (0 once it ended). */
const peakRssKiB = (pid: number | undefined): number => {
  try {
    return Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0)
  } catch {
    return 0
  }
}

const STOP_WAIT_MS = 30_000

/** `fazlab up` as the product runs it, in a child process; its events come as JSON lines. */
const startFazlabUp = async (dataDir: string, profileDir: string | null): Promise<Sink> => {
  fs.mkdirSync(dataDir, { recursive: true })
  const labFile = path.join(dataDir, "bench.yaml")
  fs.writeFileSync(labFile, BENCH_LAB)
  const profile = profileDir === null ? [] : ["--cpu-prof", "--cpu-prof-dir", profileDir]
  const child = spawn(process.execPath, [...profile, FAZLAB_BIN, "up", labFile, "--headless", "--port-base", "ephemeral", "--data-dir", dataDir], {
    stdio: ["ignore", "pipe", "pipe"]
  })
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()))
  let stderr = ""
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr = (stderr + text).slice(-2000)))
  const counter = new Counter()
  let malformed = 0
  let peak = 0
  const bound = new Map<string, Endpoint>()
  const ready = new Promise<void>((resolve, reject) => {
    child.on("close", (code) => reject(new Error(`fazlab up exited (${code}) before it listened: ${stderr.trim().split("\n").at(-1) ?? ""}`)))
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      let event: Record<string, unknown>
      try {
        event = JSON.parse(line) as Record<string, unknown>
      } catch {
        return
      }
      if (event["device"] !== "faz-1") return
      if (event["type"] === "logs-stored") counter.add(Number(event["count"]))
      else if (event["type"] === "log-malformed") malformed++
      else if (event["type"] === "listener-bound") {
        bound.set(String(event["port"]), { address: String(event["address"]), port: Number(event["actualPort"]) })
        if (bound.has("udp/514") && bound.has("tcp/514")) resolve()
      }
    })
  })
  await ready
  const sample = setInterval(() => (peak = Math.max(peak, peakRssKiB(child.pid))), 100)
  return {
    udp: bound.get("udp/514") as Endpoint,
    tcp: bound.get("tcp/514") as Endpoint,
    counter,
    malformed: () => malformed,
    maxRssKiB: () => Math.max(peak, peakRssKiB(child.pid)),
    pid: child.pid,
    close: async () => {
      clearInterval(sample)
      child.kill("SIGINT")
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_WAIT_MS)
      await exited
      clearTimeout(timer)
    }
  }
}

/** A port free on 127.0.0.1 for both TCP and UDP just now (rsyslogd needs one given). */
const freePort = async (): Promise<number> => {
  for (;;) {
    const server = net.createServer()
    const tcp = await listen(server, (done) => server.listen(0, "127.0.0.1", done))
    const port = (tcp.address() as net.AddressInfo).port
    await new Promise((resolve) => tcp.close(resolve))
    const udp = dgram.createSocket("udp4")
    const free = await new Promise<boolean>((resolve) => {
      udp.once("error", () => resolve(false))
      udp.bind(port, "127.0.0.1", () => resolve(true))
    })
    await new Promise<void>((resolve) => udp.close(() => resolve()))
    if (free) return port
  }
}

const POLL_MS = 20

const startRsyslogSink = async (dataDir: string): Promise<Sink> => {
  const tool = findRsyslogd()
  if (tool === null) throw new Error("rsyslogd is not installed (bench/setup-tools.sh installs it)")
  const port = await freePort()
  const rsyslog = await startRsyslog(tool, dataDir, port)
  const counter = new Counter()
  let counted = 0
  const poll = setInterval(() => {
    const stored = rsyslog.stored()
    counter.add(stored - counted)
    counted = stored
    rsyslog.maxRssKiB()
  }, POLL_MS)
  const endpoint = { address: "127.0.0.1", port }
  return {
    udp: endpoint,
    tcp: endpoint,
    counter,
    malformed: () => 0,
    maxRssKiB: () => rsyslog.maxRssKiB(),
    pid: rsyslog.pid,
    close: async () => {
      clearInterval(poll)
      await rsyslog.stop()
    }
  }
}

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: { sink: { type: "string" }, "data-dir": { type: "string" }, "from-dist": { type: "boolean", default: false }, "cpu-prof-dir": { type: "string" } }
  })
  const sinkKind = values.sink
  if (sinkKind !== "bare" && sinkKind !== "analyzer" && sinkKind !== "rsyslog") {
    usage("node bench/receiver.ts --sink bare|analyzer|rsyslog [--data-dir DIR] [--from-dist [--cpu-prof-dir D]]")
    return
  }
  const dataDir = values["data-dir"] ?? null
  if ((sinkKind === "rsyslog" || values["from-dist"]) && dataDir === null) {
    usage("node bench/receiver.ts --sink rsyslog|analyzer --data-dir DIR [--from-dist]")
    return
  }
  const sink = sinkKind === "bare"
    ? await startBareSink()
    : sinkKind === "analyzer"
      ? values["from-dist"] ? await startFazlabUp(dataDir ?? "", values["cpu-prof-dir"] ?? null) : await startAnalyzer(dataDir)
      : await startRsyslogSink(dataDir ?? "")
  const pid = sink.pid ?? process.pid
  const cpuAtReady = sampleThreadCpu(pid)
  announceReady({ udp: sink.udp, tcp: sink.tcp })
  await sink.counter.waitFor(Number((await readExpect()) ?? 0))
  const cpuByThread = [...cpuSince(cpuAtReady, sampleThreadCpu(pid))]
  const maxRssKiB = sink.maxRssKiB?.() ?? process.resourceUsage().maxRSS
  const closeStart = performance.now()
  await sink.close()
  const closeMs = sinkKind === "analyzer" ? performance.now() - closeStart : 0
  const report: ReceiverReport = {
    type: "result",
    sink: sinkKind,
    ...sink.counter.counted(),
    malformed: sink.malformed(),
    maxRssKiB,
    closeMs,
    cpuByThread
  }
  printReport(report)
}

if (import.meta.main) await main()
