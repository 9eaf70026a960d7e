/**
 * `fazlab ctl <command> [args] [--lab DIR] [--control URL --token T] [--json]`
 *
 * Sends one command to a running lab over its control channel and prints the result in one
 * line (`--json`: the result object; for `devices`, one object per device). Without `--lab` or
 * `--control` it finds the lab started most recently from the current folder.
 *
 *   ctl devices [--analyzer ID]                  the analyzer's device registry
 *   ctl authorize SERIAL [--adom A] [--analyzer ID]
 *   ctl delete SERIAL [--analyzer ID]
 *   ctl stop|start|pause|resume DEVICE
 *   ctl kill|restart|freeze|thaw DEVICE          faults: crash, clean restart, HA member silent / back
 *   ctl partition|heal MEMBER MEMBER             cut / restore HA traffic between two members
 *   ctl degrade MEMBER MEMBER [--hb-delay MS] [--hb-loss PCT]   late / lost heartbeats between two members, until heal
 *   ctl burst DEVICE COUNT
 *   ctl step                                     `fazlab run`: start the step waiting for its time now
 *
 * Stored logs have their own command: `fazlab logs --follow` reads them over the same channel.
 * Exit 0 when the lab did it, 1 when the lab refused (its sentence on stderr), 2 on bad input
 * or when no running lab can be reached.
 */
import { parseArgs } from "node:util"
import * as Result from "effect/Result"
import { type ControlBind, parseControlBind } from "../control/access.ts"
import { type ControlAddress, type ControlClient, ControlClientError, connectControl, findControl } from "../control/client.ts"
import type { CommandResults, ControlCommand, LogsCommand, RegisteredDevice } from "../control/protocol.ts"
import { type CliIo, type Command, ExitCode, UsageError } from "./io.ts"
import type { CommandHelp } from "./help.ts"

export const help: CommandHelp = {
  usage: [
    "fazlab ctl devices | authorize SERIAL [--adom A] | delete SERIAL | stop|start|pause|resume DEVICE | burst DEVICE COUNT",
    "          | kill|restart|freeze|thaw DEVICE | partition|heal MEMBER MEMBER | degrade MEMBER MEMBER [--hb-delay MS] [--hb-loss PCT] | step",
    "          [--lab DIR | --control URL --token T] [--json]"
  ],
  summary: "Sends one command to a running lab over its control channel and prints what the lab did. Exit 0 done, 1 the lab refused, 2 bad input or no lab.",
  flags: [
    ["--analyzer ID", "devices, authorize, delete: the analyzer to ask (default: the lab's)"],
    ["--adom A", "authorize: the ADOM to put the device in"],
    ["--hb-delay MS", "degrade: heartbeats arrive MS milliseconds late"],
    ["--hb-loss PCT", "degrade: PCT percent of heartbeats are lost"],
    ["--json", "print the result as JSON (devices: one object per device)"],
    ["--lab DIR", "the lab's data folder (default: the latest lab started here)"],
    ["--control URL --token T", "a running lab's control channel, as fazlab up prints it"]
  ],
  examples: ["fazlab ctl devices", "fazlab ctl authorize FGT60FTK20000001 --adom root", "fazlab ctl kill faz-a"]
}

const COMMANDS_HELP =
  "devices, authorize SERIAL [--adom A], delete SERIAL, stop|start|pause|resume DEVICE, burst DEVICE COUNT, kill|restart|freeze|thaw DEVICE, partition|heal MEMBER MEMBER, degrade MEMBER MEMBER [--hb-delay MS] [--hb-loss PCT], step"

/** The largest burst one command may ask for (the protocol's limit). */
const MAX_BURST = 1_000_000

/** `--control-bind HOST:PORT` for the commands that start a lab; undefined when the flag is absent. */
export const parseControlBindFlag = (value: string | undefined): ControlBind | undefined => {
  if (value === undefined) return undefined
  const parsed = parseControlBind(value)
  if (Result.isFailure(parsed)) throw new UsageError(parsed.failure)
  return parsed.success
}

interface Flags {
  readonly adom: string | undefined
  readonly analyzer: string | undefined
  readonly "hb-delay": string | undefined
  readonly "hb-loss": string | undefined
}

/** A `--hb-delay` (milliseconds) or `--hb-loss` (percent) value, checked. */
const flagNumber = (flag: string, text: string | undefined, maximum: number): number => {
  if (text === undefined) return 0
  const n = Number(text)
  if (!/^\d+$/u.test(text) || n > maximum) throw new UsageError(`--${flag} must be a whole number from 0 to ${maximum}, got "${text}"`)
  return n
}

/** What `fazlab ctl` sends: every command but `logs` (`fazlab logs`) and those only a program or a device node sends. */
type CtlCommand = Exclude<ControlCommand, LogsCommand | { readonly name: "sent" | "address" | "node-hello" | "node-events" }>

/** The command line's words as a protocol command; a UsageError names what is missing or wrong. */
const commandOf = (words: ReadonlyArray<string>, flags: Flags): CtlCommand => {
  const [verb, ...rest] = words
  const expect = (names: ReadonlyArray<string>): ReadonlyArray<string> => {
    if (rest.length !== names.length) {
      throw new UsageError(`ctl ${verb} takes ${names.length === 0 ? "no arguments" : names.join(" ")}, got ${rest.length === 0 ? "none" : rest.join(" ")}`)
    }
    return rest
  }
  const only = (allowed: ReadonlyArray<keyof Flags>) => {
    for (const flag of ["adom", "analyzer", "hb-delay", "hb-loss"] as const) {
      if (flags[flag] !== undefined && !allowed.includes(flag)) throw new UsageError(`--${flag} does not apply to ctl ${verb}`)
    }
  }
  const analyzer = flags.analyzer === undefined ? {} : { analyzer: flags.analyzer }
  switch (verb) {
    case undefined:
      throw new UsageError(`give a command: ${COMMANDS_HELP}`)
    case "devices":
      only(["analyzer"])
      expect([])
      return { name: "devices", ...analyzer }
    case "authorize": {
      only(["adom", "analyzer"])
      const [serial = ""] = expect(["SERIAL"])
      return { name: "authorize", serial, ...analyzer, ...(flags.adom === undefined ? {} : { adom: flags.adom }) }
    }
    case "delete": {
      only(["analyzer"])
      const [serial = ""] = expect(["SERIAL"])
      return { name: "delete-device", serial, ...analyzer }
    }
    case "stop":
    case "start":
    case "pause":
    case "resume":
    case "kill":
    case "restart":
    case "freeze":
    case "thaw": {
      only([])
      const [device = ""] = expect(["DEVICE"])
      return { name: verb, device }
    }
    case "partition":
    case "heal": {
      only([])
      const [a = "", b = ""] = expect(["MEMBER", "MEMBER"])
      return { name: verb, members: [a, b] }
    }
    case "degrade": {
      only(["hb-delay", "hb-loss"])
      const [a = "", b = ""] = expect(["MEMBER", "MEMBER"])
      return { name: "degrade", members: [a, b], hbDelayMs: flagNumber("hb-delay", flags["hb-delay"], 600_000), hbLoss: flagNumber("hb-loss", flags["hb-loss"], 100) }
    }
    case "burst": {
      only([])
      const [device = "", text = ""] = expect(["DEVICE", "COUNT"])
      const count = Number(text)
      if (!/^\d+$/u.test(text) || count < 1 || count > MAX_BURST) {
        throw new UsageError(`ctl burst COUNT must be a whole number from 1 to ${MAX_BURST}, got "${text}"`)
      }
      return { name: "burst", device, count }
    }
    case "step":
      only([])
      expect([])
      return { name: "step" }
    default:
      throw new UsageError(`unknown ctl command "${verb}"; commands: ${COMMANDS_HELP}`)
  }
}

/** The channel `--control URL --token T` names, else that of the lab `--lab DIR` (or the latest one here) runs. */
export const controlAddressOf = (io: CliIo, values: { readonly lab?: string | undefined; readonly control?: string | undefined; readonly token?: string | undefined }): ControlAddress => {
  if (values.control !== undefined || values.token !== undefined) {
    if (values.control === undefined || values.token === undefined) throw new UsageError("--control URL and --token T go together; give both, or neither to find the lab started here")
    if (values.lab !== undefined) throw new UsageError("give either --lab DIR or --control URL --token T, not both")
    return { url: values.control, token: values.token }
  }
  return findControl(io.cwd, values.lab)
}

const when = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/u, "Z")

const table = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? []
  return rows.map((row) => row.map((cell, column) => column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)).join("  ")).join("\n")
}

const deviceTable = (devices: ReadonlyArray<RegisteredDevice & { readonly analyzer: string }>): string => {
  const several = new Set(devices.map((device) => device.analyzer)).size > 1
  const header = ["SERIAL", "NAME", "PLATFORM", "IP", "STATE", "ADOM", "HELD", "FIRST-SEEN", ...(several ? ["ANALYZER"] : [])]
  const rows = devices.map((device) => [
    device.serial,
    device.name,
    device.platform,
    device.ip,
    device.state,
    device.adom ?? "-",
    String(device.heldLogs),
    when(device.firstSeen),
    ...(several ? [device.analyzer] : [])
  ])
  return table([header, ...rows])
}

/** One line (or, for `devices`, a table) saying what the lab did. */
const describe = (command: CtlCommand, result: CommandResults[CtlCommand["name"]]): string => {
  switch (command.name) {
    case "stop":
    case "start": {
      const { device, status } = result as CommandResults["stop"]
      return `${command.name === "stop" ? "stopped" : "started"} ${device} (now ${status})`
    }
    case "pause":
    case "resume":
      return `${command.name === "pause" ? "paused" : "resumed"} ${command.device}'s logging`
    case "kill":
    case "restart": {
      const { device, status } = result as CommandResults["kill"]
      return `${command.name === "kill" ? "killed" : "restarted"} ${device} (now ${status})`
    }
    case "freeze":
      return `froze ${command.device}: alive but silent until thawed`
    case "thaw":
      return `thawed ${command.device}: it looks for a primary again`
    case "partition":
    case "heal": {
      const [a, b] = command.members
      return command.name === "partition" ? `partitioned ${a} from ${b}: HA traffic between them is cut both ways` : `healed the network between ${a} and ${b}`
    }
    case "degrade": {
      const [a, b] = command.members
      return `degraded the heartbeats between ${a} and ${b}: ${command.hbDelayMs} ms late, ${command.hbLoss}% lost, until ctl heal ${a} ${b}`
    }
    case "burst": {
      const { device, count } = result as CommandResults["burst"]
      return `${device} sends a burst of ${count} logs`
    }
    case "devices": {
      const { devices } = result as CommandResults["devices"]
      return devices.length === 0 ? "no devices have registered yet" : deviceTable(devices)
    }
    case "authorize": {
      const { serial, analyzer, adom, released } = result as CommandResults["authorize"]
      return `authorized ${serial} on ${analyzer}${adom === null ? "" : ` in ADOM ${adom}`}; released ${released} held logs`
    }
    case "delete-device": {
      const { serial, analyzer, dropped } = result as CommandResults["delete-device"]
      return `deleted ${serial} from ${analyzer}; dropped ${dropped} held logs`
    }
    case "step": {
      const { step, title } = result as CommandResults["step"]
      return `started step ${step} now: ${title}`
    }
  }
}

export const ctl: Command = async (args, io) => {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      lab: { type: "string" },
      control: { type: "string" },
      token: { type: "string" },
      json: { type: "boolean", default: false },
      adom: { type: "string" },
      analyzer: { type: "string" },
      "hb-delay": { type: "string" },
      "hb-loss": { type: "string" }
    }
  })
  const command = commandOf(positionals, { adom: values.adom, analyzer: values.analyzer, "hb-delay": values["hb-delay"], "hb-loss": values["hb-loss"] })
  let client: ControlClient | null = null
  const abort = () => void client?.close()
  io.signal.addEventListener("abort", abort, { once: true })
  try {
    client = await connectControl(controlAddressOf(io, values))
    const result = await client.command(command)
    if (!values.json) io.stdout(`${describe(command, result)}\n`)
    else if (command.name === "devices") {
      for (const device of (result as CommandResults["devices"]).devices) io.stdout(`${JSON.stringify(device)}\n`)
    } else io.stdout(`${JSON.stringify(result)}\n`)
    return ExitCode.Ok
  } catch (error) {
    if (!(error instanceof ControlClientError)) throw error
    if (error.kind !== "refused") throw new UsageError(error.message)
    io.stderr(`fazlab ctl: ${error.message}\n`)
    return ExitCode.Failed
  } finally {
    io.signal.removeEventListener("abort", abort)
    await client?.close()
  }
}
