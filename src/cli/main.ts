/**
 * The `fazlab` command: picks the subcommand, gives it the process's I/O, and turns failures
 * into the CLI contract: a user's mistake is one sentence on stderr and exit 2; anything else
 * is an internal error, reported with a stack trace only when FAZLAB_DEBUG is set.
 */
import * as fs from "node:fs"
import { ScenarioError } from "../lab/scenario/error.ts"
import { type CommandHelp, renderHelp, wantsHelp } from "./help.ts"
import { type CliIo, type Command, ExitCode, UsageError } from "./io.ts"

interface LoadedCommand {
  readonly run: Command
  readonly help: CommandHelp
}

/**
 * Each command's module is loaded only when it runs, so `fazlab ports` does not pay for the lab.
 * Every module exports its `help` next to the flags it parses.
 */
export const COMMANDS: Readonly<Record<string, () => Promise<LoadedCommand>>> = {
  ports: () => import("./ports.ts").then((m) => ({ run: m.ports, help: m.help })),
  run: () => import("./run.ts").then((m) => ({ run: m.run, help: m.help })),
  up: () => import("./up.ts").then((m) => ({ run: m.up, help: m.help })),
  logs: () => import("./logs.ts").then((m) => ({ run: m.logs, help: m.help })),
  send: () => import("./send.ts").then((m) => ({ run: m.send, help: m.help })),
  schema: () => import("./schema.ts").then((m) => ({ run: m.schema, help: m.help })),
  ctl: () => import("./ctl.ts").then((m) => ({ run: m.ctl, help: m.help })),
  attach: () => import("./attach.ts").then((m) => ({ run: m.attach, help: m.help })),
  probe: () => import("./probe.ts").then((m) => ({ run: m.probe, help: m.help })),
  export: () => import("./export.ts").then((m) => ({ run: m.exportLab, help: m.help })),
  node: () => import("./node.ts").then((m) => ({ run: m.node, help: m.help })),
  down: () => import("./down.ts").then((m) => ({ run: m.down, help: m.help }))
}

export const USAGE = `fazlab: an emulated FortiAnalyzer lab network on real sockets

usage:
  fazlab ports [--json] [--product P] [--direction in|out]      the vendor port catalog
  fazlab run <scenario.yaml> [--headless | --hold] [--report text|json|junit] [--out FILE] [--speed N | --clock simulated]
  fazlab up [lab.yaml] [--headless] [--speed N]                 start a lab (default lab without a file)
  fazlab logs [--follow] [--json] [--device D] [--type T] [--level L] [--host H] [--app A] [--msgid M]
              [--since TIME] [--until TIME] [--text S] [--limit N] [--lab DIR]
  fazlab send syslog --to HOST:PORT [--tcp] [--octet-count] [--rfc5424] [--count N] [--rate R] [--device NAME]
  fazlab ctl devices | authorize SERIAL [--adom A] | delete SERIAL | stop|start|kill|restart|pause|resume|freeze|thaw DEVICE
             | step | burst DEVICE N | partition|heal MEMBER MEMBER | degrade MEMBER MEMBER [--hb-delay MS] [--hb-loss PCT]
  fazlab attach [--lab DIR] [--control URL --token T]            the terminal UI on a running lab
  fazlab probe [lab.yaml] [--direction in|out] [--from ROLE] [--to ROLE] [--expect FILE] [--json] [--junit FILE]
               | --target HOST | --diff BEFORE.json AFTER.json   the firewall-regression matrix of the port catalog's flows
  fazlab export compose|k8s|containerlab|pki <lab.yaml> [--out FILE] [--image IMAGE]   the lab as containers, one fazlab node each
  fazlab node --kind K --id ID --config LAB.yaml --lab URL       one device of a lab as its own process
  fazlab down --netns NAME                                      remove what a netns lab left behind
  fazlab schema                                                 JSON Schema of scenario files
  fazlab --version                                              the version of fazlab
  fazlab COMMAND --help                                         a command's usage, flags and examples

lab flags: --port-base N|auto|ephemeral  --addressing shared|per-device  --data-dir DIR  --memory  --control-bind HOST:PORT
           --placement in-process|process|netns|external  --netns
docs: docs/README.md
`

/**
 * The version in fazlab's package.json, two folders up from this module wherever it runs from:
 * src/cli/, dist/cli/ or the bundle in dist/bundle/.
 */
const version = (): string => {
  const text = fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8")
  const parsed: unknown = JSON.parse(text)
  return typeof parsed === "object" && parsed !== null && "version" in parsed ? String(parsed.version) : "unknown"
}

/** node:util parseArgs's complaint as one sentence (its own text spans lines and quotes oddly). */
const parseArgsMessage = (error: TypeError & { readonly code: unknown }): string => {
  const option = /'(-[^']*)'/.exec(error.message)?.[1]
  switch (error.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${option ?? error.message}`
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      // Also what parseArgs says for "--port-base -5": a value that starts with "-".
      return option === undefined
        ? (error.message.split("\n")[0] ?? error.message)
        : `${option} needs a value; write values that start with "-" as ${option}=VALUE`
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument ${/'([^']*)'/.exec(error.message)?.[1] ?? ""}`.trimEnd()
    default:
      return error.message.split("\n")[0] ?? error.message
  }
}

/** Runs one command line with the given I/O and returns the exit code; never throws. */
export const runCli = async (args: ReadonlyArray<string>, io: CliIo): Promise<number> => {
  const [first, ...afterFirst] = args
  // `fazlab help COMMAND` is `fazlab COMMAND --help`.
  const [name, ...rest] = first === "help" && afterFirst.length > 0 ? [...afterFirst, "--help"] : args
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    io.stdout(USAGE)
    return name === undefined ? ExitCode.BadInput : ExitCode.Ok
  }
  if (name === "--version" || name === "-V") {
    io.stdout(`fazlab ${version()}\n`)
    return ExitCode.Ok
  }
  const load = COMMANDS[name]
  if (load === undefined) {
    io.stderr(`fazlab: unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(", ")} (fazlab --help)\n`)
    return ExitCode.BadInput
  }
  try {
    const command = await load()
    if (wantsHelp(rest)) {
      io.stdout(renderHelp(command.help))
      return ExitCode.Ok
    }
    return await command.run(rest, io)
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`fazlab ${name}: ${error.message}\n`)
      return ExitCode.BadInput
    }
    if (error instanceof ScenarioError) {
      io.stderr(`${error.message}\n`)
      return ExitCode.BadInput
    }
    if (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS")) {
      io.stderr(`fazlab ${name}: ${parseArgsMessage(error)}; see fazlab --help\n`)
      return ExitCode.BadInput
    }
    const detail = io.env["FAZLAB_DEBUG"] !== undefined && error instanceof Error ? error.stack ?? error.message : String(error)
    io.stderr(`fazlab ${name}: internal error: ${detail}\nthis is a bug in fazlab; please report it with the command line you ran (set FAZLAB_DEBUG=1 for a stack trace)\n`)
    return ExitCode.Failed
  }
}

/** The process entry point used by bin/fazlab.js. */
export const main = async (args: ReadonlyArray<string>): Promise<number> => {
  const controller = new AbortController()
  const stop = () => controller.abort()
  // `on`, not `once`: a `once` listener is gone by the time other listeners run, and ink's
  // signal-exit then finds itself alone and re-raises the signal, killing the process mid-stop.
  process.on("SIGINT", stop)
  process.on("SIGTERM", stop)
  // A reader that goes away (`fazlab up --headless | head`) stops the command quietly; the
  // handler stays for good, since buffered writes can still fail after the command returned.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") stop()
  })
  try {
    return await runCli(args, {
      stdout: (text) => {
        if (process.stdout.writable) process.stdout.write(text)
      },
      stderr: (text) => process.stderr.write(text),
      cwd: process.cwd(),
      env: process.env,
      isTTY: process.stdout.isTTY === true,
      signal: controller.signal
    })
  } finally {
    process.off("SIGINT", stop)
    process.off("SIGTERM", stop)
  }
}

