/**
 * `fazlab logs [--follow] [--json] [--device D] [--type T] [--level L] [--host H] [--app A] [--msgid M] [--since TIME] [--until TIME] [--text S] [--lab DIR | --control URL --token T] [--analyzer ID] [--limit N]`
 *
 * Reads the stored logs of a lab from another terminal. Without `--lab` it finds the lab
 * started from the current folder (`.fazlab/<lab>/lab.json`, the most recent one).
 *
 * Without `--follow` it reads the analyzer's store directly (a second reader on the same SQLite
 * file), so it works on a stopped lab's data folder too; without `--analyzer`, it reads the
 * analyzer whose store was written last (an HA group's acting primary). `--follow` (and
 * `--control`) go through the running lab's control channel: the lab picks the analyzer (the HA
 * primary, following it through a failover) and new logs are printed as they are stored, until
 * Ctrl-C or until the lab stops. Both ways filter alike (src/control/log-query.ts): `--host`,
 * `--app` and `--msgid` match the syslog header's HOSTNAME, APP-NAME (RFC 3164 TAG) and MSGID,
 * `--since` and `--until` (ISO 8601) the log's own time (its header timestamp, else when it was
 * received). A text line is the time received, device, type/subtype, level and the raw message
 * (every header field as sent); `--json` prints each stored log with its header fields parsed.
 */
import * as fs from "node:fs"
import { parseArgs } from "node:util"
import { type ControlClient, ControlClientError, connectControl, followLogs, mayHaveNewLogs } from "../control/client.ts"
import { type BeyondLimit, type LogsFilter, readLogs } from "../control/log-query.ts"
import { MAX_LOGS_PER_REPLY } from "../control/protocol.ts"
import { LogStore } from "../store/log-store.ts"
import { controlAddressOf } from "./ctl.ts"
import { type CliIo, type Command, ExitCode, UsageError } from "./io.ts"
import { findLab } from "./lab-flags.ts"
import type { CommandHelp } from "./help.ts"

export const help: CommandHelp = {
  usage: ["fazlab logs [--follow] [--json] [--device D] [--type T] [--level L] [--text S] [--limit N] [--analyzer ID] [--lab DIR | --control URL --token T]"],
  summary: "Prints a lab's stored logs, the newest --limit of them, oldest first; --follow keeps printing new ones from the running lab until Ctrl-C.",
  flags: [
    ["--follow", "keep reading new logs over the running lab's control channel"],
    ["--json", "one JSON object per log"],
    ["--device D", "only logs of device D"],
    ["--type T", "only logs of FortiOS type T (traffic, utm, event)"],
    ["--level L", "only logs of level L"],
    ["--text S", "only logs whose line contains S"],
    ["--limit N", "at most N logs, the newest (default 100); stderr says how many more match"],
    ["--analyzer ID", "read this analyzer's store (default: the one written last)"],
    ["--lab DIR", "the lab's data folder (default: the latest lab started here)"],
    ["--control URL --token T", "a running lab's control channel, as fazlab up prints it"]
  ],
  examples: ["fazlab logs --device fgt-1 --limit 20", "fazlab logs --follow --json"]
}

/** The last time a store was written (its write-ahead log changes first); 0 when it has none yet. */
const lastWrite = (store: string): number =>
  Math.max(...[store, `${store}-wal`].map((file) => (fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0)))

/**
 * The analyzer to read when none is named: the one whose store was written last. In an HA
 * group every member holds the logs, but a member that was stopped or killed holds them only up
 * to then.
 */
const liveliest = <A extends { readonly store: string }>(analyzers: ReadonlyArray<A>): A | undefined =>
  analyzers.reduce<A | undefined>((best, analyzer) => (best === undefined || lastWrite(analyzer.store) > lastWrite(best.store) ? analyzer : best), undefined)

/** A stored log as `fazlab logs` prints it (the store's record, or the same record off the wire). */
interface PrintedLog {
  readonly receivedAt: number
  readonly device: string
  readonly type: string | null
  readonly subtype: string | null
  readonly level: string | null
  readonly raw: string
}

/** What stderr says when `--limit` cut the output: how many more match and how to get them. */
const beyondLimitText = (beyond: BeyondLimit, limit: number): string =>
  `fazlab logs: ${beyond.atLeast ? "at least " : ""}${beyond.count} more ${beyond.count === 1 ? "log matches" : "logs match"} than the ${limit} printed (the newest)` +
  `${beyond.atLeast ? " among the logs a text search looks at" : ""}; raise --limit (e.g. --limit ${limit + beyond.count}) or narrow with --device, --type, --level or --text\n`

const line = (log: PrintedLog): string => {
  const when = new Date(log.receivedAt).toISOString()
  return `${when} ${log.device} ${log.type ?? "-"}/${log.subtype ?? "-"} ${log.level ?? "-"} ${log.raw}`
}

/** Reads a stopped (or running) lab's store directly. */
const readStore = (io: CliIo, lab: string | undefined, analyzerId: string | undefined, filter: LogsFilter, print: (rows: ReadonlyArray<PrintedLog>) => void): ExitCode => {
  const { info } = findLab(io.cwd, lab)
  const analyzer = analyzerId === undefined ? liveliest(info.analyzers) : info.analyzers.find((a) => a.id === analyzerId)
  if (analyzer === undefined) {
    throw new UsageError(`lab ${info.name} has no analyzer ${analyzerId ?? ""}; it has: ${info.analyzers.map((a) => a.id).join(", ") || "none"}`)
  }
  if (!fs.existsSync(analyzer.store)) {
    throw new UsageError(`${analyzer.id} of lab ${info.name} has no store at ${analyzer.store}; it was started with --memory, or its data folder was removed`)
  }
  const store = LogStore.open({ path: analyzer.store })
  try {
    const answer = readLogs(analyzer.id, store, filter)
    print(answer.logs)
    if (answer.beyondLimit !== undefined) io.stderr(beyondLimitText(answer.beyondLimit, filter.limit ?? answer.logs.length))
    return ExitCode.Ok
  } finally {
    store.close()
  }
}

/** Reads through a running lab's control channel: once, or (`follow`) until Ctrl-C or the lab stops. */
const readChannel = async (client: ControlClient, io: CliIo, filter: LogsFilter, follow: boolean, print: (rows: ReadonlyArray<PrintedLog>) => void): Promise<ExitCode> => {
  if (!follow) {
    try {
      const answer = await client.command({ name: "logs", ...filter })
      print(answer.logs)
      if (answer.beyondLimit !== undefined) io.stderr(beyondLimitText(answer.beyondLimit, filter.limit ?? answer.logs.length))
      return ExitCode.Ok
    } catch (error) {
      if (!(error instanceof ControlClientError) || error.kind !== "refused") throw error
      io.stderr(`fazlab logs: ${error.message}\n`)
      return ExitCode.Failed
    }
  }
  let reading: string | null = null
  let lastRefusal: string | null = null
  const follower = followLogs(client, {
    query: filter,
    pageLimit: MAX_LOGS_PER_REPLY,
    latest: false,
    onLogs: (logs, analyzer) => {
      if (reading !== null && analyzer !== reading) io.stderr(`fazlab logs: now reading ${analyzer} (the lab's analyzer for logs changed from ${reading})\n`)
      reading = analyzer
      lastRefusal = null
      print(logs)
    },
    onRefused: (reason) => {
      if (reason !== lastRefusal) io.stderr(`fazlab logs: ${reason}\n`)
      lastRefusal = reason
    }
  })
  const stop = client.onEvent((event) => {
    if (mayHaveNewLogs(event)) follower.poke()
  })
  const aborted = new Promise<"aborted">((resolve) => {
    if (io.signal.aborted) resolve("aborted")
    io.signal.addEventListener("abort", () => resolve("aborted"), { once: true })
  })
  const ended = await Promise.race([aborted, client.closed])
  stop()
  follower.stop()
  if (ended === "aborted") return ExitCode.Ok
  if (ended.dropped !== null) {
    io.stderr(`fazlab logs: the lab dropped this reader: ${ended.dropped}\n`)
    return ExitCode.Failed
  }
  io.stderr("fazlab logs: the lab stopped\n")
  return ExitCode.Ok
}

/** `--since` / `--until` as ms since the epoch; undefined when not given. */
const timeFlag = (flag: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  const time = Date.parse(value)
  if (Number.isNaN(time)) throw new UsageError(`--${flag} must be an ISO 8601 time such as 2026-12-05T06:00:00Z, got "${value}"`)
  return time
}

export const logs: Command = async (args, io) => {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      follow: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      device: { type: "string" },
      type: { type: "string" },
      level: { type: "string" },
      host: { type: "string" },
      app: { type: "string" },
      msgid: { type: "string" },
      since: { type: "string" },
      until: { type: "string" },
      text: { type: "string" },
      lab: { type: "string" },
      control: { type: "string" },
      token: { type: "string" },
      analyzer: { type: "string" },
      limit: { type: "string", default: "100" }
    }
  })
  if (positionals.length > 0) throw new UsageError(`fazlab logs takes no arguments, got ${positionals.join(" ")}; filter with --device, --type, --level or --text`)
  const limit = Number(values.limit)
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive integer, got "${values.limit}"`)
  for (const flag of ["device", "type", "level", "host", "app", "msgid", "since", "until", "text", "analyzer"] as const) {
    if (values[flag] === "") throw new UsageError(`--${flag} needs a value`)
  }
  const since = timeFlag("since", values.since)
  const until = timeFlag("until", values.until)
  const filter: LogsFilter = {
    limit,
    ...(values.device === undefined ? {} : { device: values.device }),
    ...(values.type === undefined ? {} : { type: values.type }),
    ...(values.level === undefined ? {} : { level: values.level }),
    ...(values.host === undefined ? {} : { hostname: values.host }),
    ...(values.app === undefined ? {} : { appName: values.app }),
    ...(values.msgid === undefined ? {} : { msgId: values.msgid }),
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
    ...(values.text === undefined ? {} : { text: values.text })
  }
  // The newest `limit` logs, printed oldest first; then, with --follow, each new one.
  const print = (rows: ReadonlyArray<PrintedLog>) => {
    for (const row of rows) io.stdout(values.json ? `${JSON.stringify(row)}\n` : `${line(row)}\n`)
  }
  const viaChannel = values.follow || values.control !== undefined || values.token !== undefined
  if (!viaChannel) return readStore(io, values.lab, values.analyzer, filter, print)
  if (limit > MAX_LOGS_PER_REPLY) {
    throw new UsageError(`--limit is at most ${MAX_LOGS_PER_REPLY} with --follow or --control (the lab sends at most that many at once), got ${limit}`)
  }
  let client: ControlClient
  try {
    client = await connectControl(controlAddressOf(io, values))
  } catch (error) {
    if (error instanceof ControlClientError) {
      throw new UsageError(values.follow && error.kind === "not-found" ? `${error.message}; without --follow, fazlab logs reads a stopped lab's stored logs` : error.message)
    }
    throw error
  }
  try {
    return await readChannel(client, io, { ...filter, ...(values.analyzer === undefined ? {} : { analyzer: values.analyzer }) }, values.follow, print)
  } finally {
    await client.close()
  }
}
