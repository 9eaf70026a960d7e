/**
 * `fazlab logs [--follow] [--json] [--device D] [--type T] [--lab DIR] [--analyzer ID] [--limit N]`
 *
 * Reads the stored logs of a lab from another terminal. Without `--lab` it finds the lab
 * started from the current folder (`.fazlab/<lab>/lab.json`, the most recent one); without
 * `--analyzer`, the analyzer whose store was written last (an HA group's acting primary). It reads the
 * analyzer's store directly (a second reader on the same SQLite file); once the control channel
 * exists it will go through it. `--follow` keeps printing new logs until Ctrl-C.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { LogStore, type StoredLog } from "../store/log-store.ts"
import { type Command, ExitCode, UsageError } from "./io.ts"
import { LAB_INFO_FILE, type LabInfo } from "./lab-flags.ts"

/** How often `--follow` looks for new logs. */
export const FOLLOW_POLL_MS = 200

const findLab = (cwd: string, explicit: string | undefined): { dir: string; info: LabInfo } => {
  const candidates = explicit !== undefined
    ? [path.resolve(cwd, explicit)]
    : fs.existsSync(path.join(cwd, ".fazlab"))
    ? fs.readdirSync(path.join(cwd, ".fazlab")).map((name) => path.join(cwd, ".fazlab", name))
    : []
  const labs = candidates
    .map((dir) => ({ dir, file: path.join(dir, LAB_INFO_FILE) }))
    .filter(({ file }) => fs.existsSync(file))
    .sort((a, b) => fs.statSync(b.file).mtimeMs - fs.statSync(a.file).mtimeMs)
  const found = labs[0]
  if (found === undefined) {
    throw new UsageError(
      explicit !== undefined
        ? `${explicit} is not a lab data folder (no ${LAB_INFO_FILE}); pass the folder a lab was started with (--data-dir)`
        : `no lab found under ${path.join(cwd, ".fazlab")}; start one here with fazlab up, or pass --lab DIR`
    )
  }
  return { dir: found.dir, info: JSON.parse(fs.readFileSync(found.file, "utf8")) as LabInfo }
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

const line = (log: StoredLog): string => {
  const when = new Date(log.receivedAt).toISOString()
  return `${when} ${log.device} ${log.type ?? "-"}/${log.subtype ?? "-"} ${log.level ?? "-"} ${log.raw}`
}

export const logs: Command = async (args, io) => {
  const { values } = parseArgs({
    args: [...args],
    options: {
      follow: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      device: { type: "string" },
      type: { type: "string" },
      lab: { type: "string" },
      analyzer: { type: "string" },
      limit: { type: "string", default: "100" }
    }
  })
  const limit = Number(values.limit)
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive integer, got "${values.limit}"`)
  const { info } = findLab(io.cwd, values.lab)
  const analyzer = values.analyzer === undefined ? liveliest(info.analyzers) : info.analyzers.find((a) => a.id === values.analyzer)
  if (analyzer === undefined) {
    throw new UsageError(`lab ${info.name} has no analyzer ${values.analyzer ?? ""}; it has: ${info.analyzers.map((a) => a.id).join(", ") || "none"}`)
  }
  if (!fs.existsSync(analyzer.store)) {
    throw new UsageError(`${analyzer.id} of lab ${info.name} has no store at ${analyzer.store}; it was started with --memory, or its data folder was removed`)
  }
  const store = LogStore.open({ path: analyzer.store })
  try {
    const filter = {
      ...(values.device === undefined ? {} : { device: values.device }),
      ...(values.type === undefined ? {} : { type: values.type })
    }
    const print = (rows: ReadonlyArray<StoredLog>) => {
      for (const row of rows) io.stdout(values.json ? `${JSON.stringify(row)}\n` : `${line(row)}\n`)
    }
    // The newest `limit` logs, printed oldest first.
    const latest = store.query({ ...filter, limit, order: "desc" }).reverse()
    print(latest)
    if (!values.follow) return ExitCode.Ok
    let afterId = latest.at(-1)?.id ?? 0
    while (!io.signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, FOLLOW_POLL_MS)
        io.signal.addEventListener("abort", () => {
          clearTimeout(timer)
          resolve()
        }, { once: true })
      })
      const rows = store.query({ ...filter, afterId, limit: 1000, order: "asc" })
      print(rows)
      afterId = rows.at(-1)?.id ?? afterId
    }
    return ExitCode.Ok
  } finally {
    store.close()
  }
}
