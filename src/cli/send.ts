/**
 * `fazlab send syslog --to HOST:PORT [--tcp] [--octet-count] [--rfc5424] [--count N] [--rate R] [--device NAME]`
 *
 * Acts as a FortiGate against any syslog receiver (a real FortiAnalyzer, a SIEM, rsyslog, or a
 * fazlab lab): FortiOS 7.x logs in the FortiOS "default" format over UDP by default, TCP with
 * LF framing (`--tcp`, FortiOS legacy-reliable) or octet counting (`--tcp --octet-count`,
 * FortiOS reliable). Prints what it sent; exits 1 if the receiver could not be reached.
 *
 * `--file FILE` replays a real log file instead (src/protocols/syslog/replay.ts): each log line
 * as it is, at its original pace (`--speed N` times faster) or at `--rate R`; lines that are not
 * logs are counted and reported, never sent. With `--oftp` it replays the file's FortiOS records
 * as a FortiGate of a lab over OFTP: the FortiGate's own OFTP path (`devices/fortigate/faz-logger.ts`,
 * the OFTP client machine, TLS with a certificate from the lab's CA, batches acknowledged by the
 * analyzer), on the wall clock; it ends once the analyzer acknowledged the last record.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { parseArgs } from "node:util"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { EventBus } from "../events/bus.ts"
import { FazLogger, FazLoggerSettings } from "../devices/fortigate/faz-logger.ts"
import { fortigate } from "../devices/fortigate/kind.ts"
import { fortiGateLogMaker } from "../devices/fortigate/fortigate.ts"
import { openSyslogLink, type SyslogMode } from "../devices/shared/syslog-link.ts"
import { SyslogSender } from "../devices/shared/syslog-sender.ts"
import { readReplayFile, ReplayFeed, type ReplayFile, replaySchedule } from "../protocols/syslog/replay.ts"
import { RealLabClock } from "../machines/clock.ts"
import { LabPki } from "../net/pki.ts"
import { PortPlan } from "../net/port-plan.ts"
import { type Command, ExitCode, UsageError } from "./io.ts"
import type { CommandHelp } from "./help.ts"
import { findLab } from "./lab-flags.ts"

export const help: CommandHelp = {
  usage: [
    "fazlab send syslog --to HOST:PORT [--tcp [--octet-count]] [--rfc5424] [--count N] [--rate R] [--device NAME] [--serial SN]",
    "fazlab send syslog --to HOST:PORT --file FILE [--speed N | --rate R] [--tcp [--octet-count]]",
    "fazlab send syslog --to HOST:PORT --file FILE --oftp [--lab DIR] [--device NAME] [--serial SN] [--psk KEY] [--analyzer-serial SN] [--speed N | --rate R]"
  ],
  summary: "Acts as a FortiGate against any syslog receiver: sends FortiOS 7.x logs, or replays a real log file (--file), over UDP, or TCP with LF framing or octet counting; or replays a file as a FortiGate of a lab over OFTP (--oftp). Exit 0 sent, 1 receiver unreachable, 2 bad flag or file.",
  flags: [
    ["--to HOST:PORT", "the receiver"],
    ["--tcp", "TCP with LF framing (FortiOS legacy-reliable) instead of UDP"],
    ["--octet-count", "with --tcp: RFC 6587 octet counting (FortiOS reliable)"],
    ["--rfc5424", "RFC 5424 headers instead of the FortiOS default format"],
    ["--count N", "how many logs (default 10)"],
    ["--rate R", "logs per second (default 1000)"],
    ["--file FILE", "replay FILE's logs (FortiOS key=value with or without a syslog header, RFC 3164, RFC 5424; one a line) as they are, at their original pace (from eventtime, or date and time); lines that are not logs are counted, not sent"],
    ["--speed N", "with --file: N times faster than the original pace (default 1); or --rate R: R logs per second"],
    ["--oftp", "with --file: replay the file's FortiOS records over OFTP (TLS on the analyzer's TCP/514) as a FortiGate of a lab, with a certificate from the lab's CA; --to is the analyzer's TCP/514"],
    ["--lab DIR", "with --oftp: the lab's data folder, whose CA it uses (default: the latest lab started here)"],
    ["--psk KEY", "with --oftp: the pre-shared key its HELLO carries (an analyzer with that psk authorizes it at once)"],
    ["--analyzer-serial SN", "with --oftp: check that the analyzer's certificate is the lab CA's for serial SN (FortiOS certificate-verification enable); without it, not checked"],
    ["--device NAME", "the FortiGate's hostname in the logs, and in its OFTP HELLO (default fgt-send)"],
    ["--serial SN", "its serial number (default FGT60FTK29999999)"]
  ],
  examples: [
    "fazlab send syslog --to 127.0.0.1:514 --count 100",
    "fazlab send syslog --to 127.0.0.1:20514 --tcp --octet-count --rate 50",
    "fazlab send syslog --to 127.0.0.1:514 --file fortigate.log --speed 60",
    "fazlab send syslog --to 127.0.1.1:514 --file fortigate.log --oftp --psk lab-secret --rate 500"
  ]
}

const positiveNumber = (flag: string, value: string): number => {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${flag} must be a positive number, got "${value}"`)
  return n
}

export const send: Command = async (args, io) => {
  const [what, ...rest] = args
  if (what !== "syslog") throw new UsageError(`fazlab send knows "syslog" only, got "${what ?? ""}"; try: fazlab send syslog --to 127.0.0.1:514`)
  const { values } = parseArgs({
    args: rest,
    options: {
      to: { type: "string" },
      tcp: { type: "boolean", default: false },
      "octet-count": { type: "boolean", default: false },
      rfc5424: { type: "boolean", default: false },
      count: { type: "string" },
      rate: { type: "string" },
      file: { type: "string" },
      speed: { type: "string" },
      oftp: { type: "boolean", default: false },
      lab: { type: "string" },
      psk: { type: "string" },
      "analyzer-serial": { type: "string" },
      device: { type: "string", default: "fgt-send" },
      serial: { type: "string", default: "FGT60FTK29999999" }
    }
  })
  const to = values.to
  const match = to === undefined ? null : /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(to)
  if (to === undefined || match === null) throw new UsageError(`--to must be HOST:PORT (e.g. --to 127.0.0.1:514), got "${to ?? ""}"`)
  const host = (match[1] as string).replace(/^\[|\]$/g, "")
  const port = Number(match[2])
  if (port < 1 || port > 65535) throw new UsageError(`the port in --to must be 1-65535, got ${port}`)
  if (values["octet-count"] && !values.tcp) throw new UsageError("--octet-count is TCP framing: add --tcp")
  const mode = !values.tcp ? "udp" : values["octet-count"] ? "reliable" : "legacy-reliable"
  const oftpOnly = (["lab", "psk", "analyzer-serial"] as const).find((flag) => values[flag] !== undefined)
  if (!values.oftp && oftpOnly !== undefined) throw new UsageError(`--${oftpOnly} is for a replay over OFTP: add --oftp`)
  if (values.oftp && values.file === undefined) throw new UsageError("--oftp replays a log file as a FortiGate of a lab: add --file FILE")
  if (values.oftp && values.tcp) throw new UsageError("--oftp is its own transport (TLS on the analyzer's TCP/514): drop --tcp and --octet-count")
  if (values.file !== undefined) return replay(io, { file: values.file, host, port, mode, values })
  if (values.speed !== undefined) throw new UsageError("--speed paces a replayed file: add --file FILE, or give --rate R")
  const countText = values.count ?? "10"
  const count = positiveNumber("count", countText)
  if (!Number.isInteger(count)) throw new UsageError(`--count must be a whole number, got "${countText}"`)
  const rate = positiveNumber("rate", values.rate ?? "1000")

  const clock = new RealLabClock()
  const bus = new EventBus(() => clock.now())
  const plan = new PortPlan({ base: 0, addressing: "shared", devices: [] })
  const device = { serial: values.serial, hostname: values.device, vdom: "root" }
  const sender = new SyslogSender({
    id: values.device,
    kind: fortigate.name,
    hostname: values.device,
    serial: values.serial,
    settings: { server: `${host.includes(":") ? `[${host}]` : host}:${port}`, mode, format: values.rfc5424 ? "rfc5424" : "default", facility: "local7", port, rate, count, logs: null },
    context: { bus, plan, clock, dataDir: null, pki: null },
    makeLog: fortiGateLogMaker(device, null)
  })
  let sendingSince: number | null = null
  const outcome = new Promise<string | null>((resolve) => {
    bus.subscribe((event) => {
      if (event.type !== "sender-state") return
      if (event.state === "sending") sendingSince ??= event.at
      if (event.state === "done") resolve(null)
      if (event.state === "backoff") resolve(event.reason)
    })
    io.signal.addEventListener("abort", () => resolve("interrupted"), { once: true })
  })
  await Effect.runPromise(sender.start())
  const failure = await outcome
  // The rate counts from the link being up, not from the process starting.
  const seconds = (clock.now() - (sendingSince ?? 0)) / 1000
  await Effect.runPromise(sender.dispose())
  const summary = `sent ${sender.sent} logs to ${host}:${port} over ${mode === "udp" ? "UDP" : `TCP (${mode === "reliable" ? "octet counting" : "LF framing"})`}, ${values.rfc5424 ? "RFC 5424" : "FortiOS default format"}, in ${seconds.toFixed(2)} s (${Math.round(sender.sent / Math.max(seconds, 0.001))}/s)`
  if (failure !== null) {
    io.stderr(`fazlab send: ${failure}; ${summary}\n`)
    return ExitCode.Failed
  }
  io.stdout(`${summary}\n`)
  return ExitCode.Ok
}

/** The flags a replay reads. */
interface ReplayFlags {
  readonly count?: string | undefined
  readonly rfc5424: boolean
  readonly rate?: string | undefined
  readonly speed?: string | undefined
  readonly oftp: boolean
  readonly lab?: string | undefined
  readonly psk?: string | undefined
  readonly "analyzer-serial"?: string | undefined
  readonly device: string
  readonly serial: string
}

/** A replay's file, its receiver and the flags it was given. */
interface ReplayRequest {
  readonly file: string
  readonly host: string
  readonly port: number
  readonly values: ReplayFlags
}

const paceText = (pace: { readonly speed: number } | { readonly rate: number }): string =>
  "rate" in pace ? `${pace.rate}/s` : pace.speed === 1 ? "original pace" : `${pace.speed}x the original pace`

const transportText = (mode: SyslogMode): string => mode === "udp" ? "UDP" : `TCP (${mode === "reliable" ? "octet counting" : "LF framing"})`

/** `--file`: replays a log file's lines to the receiver at their pace; see the module notes. */
const replay = async (io: Parameters<Command>[1], options: ReplayRequest & { readonly mode: SyslogMode }): Promise<ExitCode> => {
  const { file, host, port, mode, values } = options
  if (values.count !== undefined || values.rfc5424) throw new UsageError("--file sends the file's own logs as they are: drop --count and --rfc5424")
  if (values.rate !== undefined && values.speed !== undefined) throw new UsageError("give --speed N (the original pace, N times faster) or --rate R (R logs per second), not both")
  const pace = values.rate !== undefined ? { rate: positiveNumber("rate", values.rate) } : { speed: positiveNumber("speed", values.speed ?? "1") }
  let text: string
  try {
    text = fs.readFileSync(path.resolve(io.cwd, file), "utf8")
  } catch (error) {
    throw new UsageError(`cannot read ${file} (${error instanceof Error && "code" in error ? String(error.code) : String(error)}); give a log file, one log a line`)
  }
  const read = readReplayFile(text)
  const notLogs = read.skipped === 0 ? "" : `; ${read.skipped} ${read.skipped === 1 ? "line is" : "lines are"} not logs and ${read.skipped === 1 ? "was" : "were"} not sent (the first at line ${read.firstSkipped})`
  if (read.logs.length === 0) throw new UsageError(`${file} holds no logs${notLogs}; give FortiOS key=value, RFC 3164 or RFC 5424 lines, one log a line`)
  if (values.oftp) return replayOverOftp(io, { file, host, port, read, pace, notLogs, values })
  const schedule = replaySchedule(read.logs, pace)
  let link
  try {
    link = await openSyslogLink({ mode, host, port, connectTimeoutMs: 10_000, signal: io.signal })
  } catch (error) {
    io.stderr(`fazlab send: ${host}:${port} cannot be reached (${error instanceof Error ? error.message : String(error)}); sent nothing from ${file}\n`)
    return ExitCode.Failed
  }
  let lost: string | null = null
  link.onClose((reason) => (lost = reason))
  const started = performance.now()
  let sent = 0
  for (const [i, log] of read.logs.entries()) {
    if (lost !== null || io.signal.aborted) break
    const wait = started + (schedule[i] ?? 0) - performance.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    else if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve))
    if (lost !== null) break
    if (!link.send(log.message)) await new Promise<void>((resolve) => link.onDrain(resolve))
    sent++
  }
  // Our own close ends a TCP link too: what it reports then is not a failure.
  const failure: string | null = lost
  await link.close()
  const seconds = (performance.now() - started) / 1000
  const summary = `replayed ${sent} of ${read.logs.length} logs from ${file} to ${host}:${port} over ${transportText(mode)} in ${seconds.toFixed(2)} s (${paceText(pace)})${notLogs}`
  if (failure !== null || sent < read.logs.length) {
    io.stderr(`fazlab send: ${failure ?? "interrupted"}; ${summary}\n`)
    return ExitCode.Failed
  }
  io.stdout(`${summary}\n`)
  return ExitCode.Ok
}

/**
 * `--file --oftp`: the file's FortiOS records through a FortiGate's OFTP logger (the lab's CA
 * issues its certificate), at their pace on the wall clock; done once the analyzer acknowledged
 * the last one. A link that fails (refused, TLS, the analyzer's ERROR) ends it with why.
 */
const replayOverOftp = async (
  io: Parameters<Command>[1],
  options: ReplayRequest & {
    readonly read: ReplayFile
    readonly pace: { readonly speed: number } | { readonly rate: number }
    /** What the summary says of the lines that are not logs. */
    readonly notLogs: string
  }
): Promise<ExitCode> => {
  const { file, host, port, read, pace, values } = options
  const records = read.logs.filter((log) => log.record !== null)
  const notFortiOs = read.logs.length - records.length
  const notSent = `${options.notLogs}${notFortiOs === 0 ? "" : `; ${notFortiOs} ${notFortiOs === 1 ? "log is" : "logs are"} not FortiOS key=value and ${notFortiOs === 1 ? "was" : "were"} not sent (OFTP carries FortiOS logs only)`}`
  if (records.length === 0) throw new UsageError(`${file} holds no FortiOS key=value logs${notSent}; OFTP carries FortiOS logs only: replay it over UDP or --tcp instead`)
  const labDir = values.lab === undefined ? findLab(io.cwd, undefined).dir : path.resolve(io.cwd, values.lab)
  if (!fs.existsSync(path.join(labDir, "pki", "ca.pem"))) {
    throw new UsageError(`${labDir} has no lab CA (pki/ca.pem): start the lab once with fazlab up or fazlab run (not --memory) before replaying over OFTP as one of its FortiGates`)
  }
  // The CA is there: it is loaded, never made (the name is for a new one).
  const pki = await LabPki.load({ dir: labDir, labName: path.basename(labDir) })
  const clock = new RealLabClock()
  const bus = new EventBus(() => clock.now())
  const plan = new PortPlan({ base: 0, addressing: "shared", devices: [] })
  const analyzerSerial = values["analyzer-serial"]
  const settings = Schema.decodeUnknownSync(FazLoggerSettings)({
    server: `${host.includes(":") ? `[${host}]` : host}:${port}`,
    "certificate-verification": analyzerSerial === undefined ? "disable" : "enable",
    ...(analyzerSerial === undefined ? {} : { serial: [analyzerSerial] }),
    ...(values.psk === undefined ? {} : { "preshared-key": values.psk })
  })
  const device = { id: values.device, serial: values.serial, hostname: values.device, vdom: "root", platform: "FortiGate-60F", version: "v7.4.4" }
  const feed = new ReplayFeed(records, pace)
  const logger = new FazLogger(device, settings, { bus, plan, clock, dataDir: null, pki }, feed)
  let session = "not connected"
  let acked = 0
  const outcome = new Promise<string | null>((resolve) => {
    bus.subscribe((event) => {
      if (event.type === "oftp-link") {
        if (event.state === "online") session = event.reason
        if (event.state === "retrying" || event.state === "stopped-by-analyzer") resolve(event.reason)
      }
      if (event.type !== "logs-acked") return
      acked += event.count
      if (event.queued === 0 && feed.done) resolve(null)
    })
    io.signal.addEventListener("abort", () => resolve("interrupted"), { once: true })
  })
  const started = performance.now()
  logger.start()
  const failure = await outcome
  logger.stop()
  logger.dispose()
  const seconds = (performance.now() - started) / 1000
  const summary = `replayed ${acked} of ${records.length} logs from ${file} to ${host}:${port} over OFTP as ${values.device} (${values.serial}; ${session}) in ${seconds.toFixed(2)} s (${paceText(pace)})${notSent}`
  if (failure !== null) {
    io.stderr(`fazlab send: ${failure}; ${summary}\n`)
    return ExitCode.Failed
  }
  io.stdout(`${summary}\n`)
  return ExitCode.Ok
}
