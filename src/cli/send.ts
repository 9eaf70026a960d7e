/**
 * `fazlab send syslog --to HOST:PORT [--tcp] [--octet-count] [--rfc5424] [--count N] [--rate R] [--device NAME]`
 *
 * Acts as a FortiGate against any syslog receiver (a real FortiAnalyzer, a SIEM, rsyslog, or a
 * fazlab lab): FortiOS 7.x logs in the FortiOS "default" format over UDP by default, TCP with
 * LF framing (`--tcp`, FortiOS legacy-reliable) or octet counting (`--tcp --octet-count`,
 * FortiOS reliable). Prints what it sent; exits 1 if the receiver could not be reached.
 */
import { parseArgs } from "node:util"
import * as Effect from "effect/Effect"
import { EventBus } from "../events/bus.ts"
import { fortigate } from "../devices/fortigate/kind.ts"
import { fortiGateLogMaker } from "../devices/fortigate/fortigate.ts"
import { SyslogSender } from "../devices/shared/syslog-sender.ts"
import { RealLabClock } from "../machines/clock.ts"
import { PortPlan } from "../net/port-plan.ts"
import { type Command, ExitCode, UsageError } from "./io.ts"
import type { CommandHelp } from "./help.ts"

export const help: CommandHelp = {
  usage: ["fazlab send syslog --to HOST:PORT [--tcp [--octet-count]] [--rfc5424] [--count N] [--rate R] [--device NAME] [--serial SN]"],
  summary: "Acts as a FortiGate against any syslog receiver: sends FortiOS 7.x logs over UDP, or TCP with LF framing or octet counting. Exit 0 sent, 1 receiver unreachable, 2 bad flag.",
  flags: [
    ["--to HOST:PORT", "the receiver"],
    ["--tcp", "TCP with LF framing (FortiOS legacy-reliable) instead of UDP"],
    ["--octet-count", "with --tcp: RFC 6587 octet counting (FortiOS reliable)"],
    ["--rfc5424", "RFC 5424 headers instead of the FortiOS default format"],
    ["--count N", "how many logs (default 10)"],
    ["--rate R", "logs per second (default 1000)"],
    ["--device NAME", "the FortiGate's hostname in the logs (default fgt-send)"],
    ["--serial SN", "its serial number (default FGT60FTK29999999)"]
  ],
  examples: ["fazlab send syslog --to 127.0.0.1:514 --count 100", "fazlab send syslog --to 127.0.0.1:20514 --tcp --octet-count --rate 50"]
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
      count: { type: "string", default: "10" },
      rate: { type: "string", default: "1000" },
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
  const count = positiveNumber("count", values.count)
  if (!Number.isInteger(count)) throw new UsageError(`--count must be a whole number, got "${values.count}"`)
  const rate = positiveNumber("rate", values.rate)
  const mode = !values.tcp ? "udp" : values["octet-count"] ? "reliable" : "legacy-reliable"

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
