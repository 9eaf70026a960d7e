/**
 * The UI's cost to the lab (`node bench/run.ts --only ui`): the same lab takes the same syslog
 * load twice, once `fazlab up --headless` (JSON lines on a pipe) and once `fazlab up` drawing the
 * terminal UI in a real terminal (a detached 120×40 tmux session on a private `-L` server, so
 * stdout is a TTY and the UI renders in the lab's own process). The target (issue 5): the lab's
 * intake rate with the UI stays within 10% of headless.
 *
 * The lab: one analyzer (faz-1) and, so the UI has something to show, two FortiGates at 10 logs/s
 * (fgt-1 over OFTP, fgt-2 over reliable syslog). The load: a paced sender child (this file run
 * as a script) offers `rate` logs/s of the syslog blaster's FortiOS logs (`syslog-blaster.ts`
 * templates, RFC 6587 octet counting) to faz-1's tcp/514 for a bounded count and time. The
 * stored rate is read from the analyzer's store after the lab stopped on SIGINT: logs stored from
 * the blaster's device / time from the first one received to the last. Zero loss is checked
 * there too (every sequence number once).
 *
 * As a script: `node bench/ui-throughput.ts --host H --port P --count N --rate R --max-seconds S`
 * sends and prints one `PacedReport` JSON line.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { DatabaseSync } from "node:sqlite"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { type BenchEnv, profileFlags } from "./bench-env.ts"
import { positiveWholeNumbers, usage } from "./cli-args.ts"
import { now, perSecond } from "./measure.ts"
import { FAZLAB_BIN, FAZLAB_MAIN, ROOT } from "./paths.ts"
import { openTcp, pace, type PacedOptions, writeOctetCounted } from "./paced-sender.ts"
import { BLASTER_DEVICE, makeTemplates } from "./syslog-blaster.ts"

const SELF = fileURLToPath(import.meta.url)

const COLUMNS = 120
const ROWS = 40
/** The UI's intake rate must be at least this share of the headless one. */
const TARGET_SHARE = 0.9
const POLL_MS = 100
/** After the sender finished: nothing new stored for this long means the rest is lost. */
const IDLE_MS = 3000
const STORE_WAIT_MS = 60_000
const READY_MS = 20_000
const EXIT_MS = 20_000

const LAB_YAML = `name: ui-bench
description: One analyzer taking a syslog blast, and two FortiGates at a low rate for the UI to show.
devices:
  faz-1:
    kind: fortianalyzer
    serial: FAZ-VM0000000001
    oftp: { psk: lab-secret }
  fgt-1:
    kind: fortigate
    serial: FGT60FTK20000001
    fortianalyzer: { server: faz-1, serial: FAZ-VM0000000001, preshared-key: lab-secret, rate: 10/s }
  fgt-2:
    kind: fortigate
    serial: FGT60FTK20000002
    syslog: { server: faz-1, mode: reliable, rate: 10/s }
`

export interface UiBenchOptions {
  /** Offered logs per second. */
  readonly rate: number
  readonly count: number
}

export const UI_DEFAULTS: UiBenchOptions = { rate: 50_000, count: 500_000 }

export interface PacedReport {
  readonly sent: number
  /** Wall-clock ms (performance.timeOrigin based) of the first and last write. */
  readonly firstSendAt: number
  readonly lastSendAt: number
  /** Logs per second over that span: the offered rate, or less when the analyzer held the sender back. */
  readonly rate: number
  /** Times the socket said "wait for drain", and the ms spent waiting: the analyzer pushing back. */
  readonly drainWaits: number
  readonly drainMs: number
  readonly errors: number
  readonly aborted: boolean
}

export interface StoreCount {
  /** Logs of the blaster's device in the store, and how many distinct sequence numbers among them. */
  readonly stored: number
  readonly distinct: number
  /** received_at (ms since the epoch) of the first and the last of them. */
  readonly firstAt: number
  readonly lastAt: number
}

export interface UiRun {
  readonly mode: "headless" | "terminal"
  readonly portBase: number
  readonly sender: PacedReport
  readonly store: StoreCount
  /** Stored logs per second: stored / (lastAt − firstAt). */
  readonly rate: number
  /** Lines of the UI's screen taken while the load ran (terminal only). */
  readonly screen: ReadonlyArray<string>
}

export interface UiResult {
  readonly options: UiBenchOptions
  readonly headless: UiRun | string
  readonly terminal: UiRun | string
}

// ---------------------------------------------------------------- the paced sender (child)

/** Octet-counted logs at `rate` per second (`pace`), counting the waits for `drain`: the analyzer pushing back. */
const sendPaced = (templates: ReadonlyArray<Buffer>, options: PacedOptions): Promise<PacedReport> =>
  new Promise((resolve) => {
    const longest = Math.max(...templates.map((template) => template.length))
    let sent = 0
    let firstSendAt = 0
    let drainWaits = 0
    let drainMs = 0
    let aborted = false
    const link = openTcp(options, (lastSendAt, errors) =>
      resolve({ sent, firstSendAt, lastSendAt, rate: perSecond(sent, firstSendAt, lastSendAt), drainWaits, drainMs, errors, aborted }))
    const send = (n: number): Promise<void> | undefined => {
      const chunk = Buffer.allocUnsafe(n * (longest + 24))
      let pos = 0
      for (let i = 0; i < n; i++, sent++) pos = writeOctetCounted(chunk, pos, templates[sent % templates.length] as Buffer, sent)
      if (link.socket.write(chunk.subarray(0, pos))) return undefined
      drainWaits++
      const waitFrom = now()
      return new Promise((resume) =>
        link.socket.once("drain", () => {
          drainMs += now() - waitFrom
          resume()
        }))
    }
    link.socket.once("connect", () => {
      firstSendAt = now()
      pace(options, firstSendAt, send, (stopped) => {
        aborted = stopped
        link.end()
      })
    })
  })

const senderMain = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      host: { type: "string" },
      port: { type: "string" },
      count: { type: "string" },
      rate: { type: "string" },
      "max-seconds": { type: "string", default: "60" }
    }
  })
  const numbers = positiveWholeNumbers([values.port, values.count, values.rate, values["max-seconds"]])
  if (values.host === undefined || numbers === null) {
    usage("node bench/ui-throughput.ts --host H --port P --count N --rate R [--max-seconds S]")
    return
  }
  const [port, count, rate, maxSeconds] = numbers as [number, number, number, number]
  const report = await sendPaced(makeTemplates(), { host: values.host, port, count, rate, deadline: now() + maxSeconds * 1000 })
  process.stdout.write(`${JSON.stringify(report)}\n`)
}

// ---------------------------------------------------------------- the store

const countStored = (store: string): StoreCount => {
  const db = new DatabaseSync(store, { readOnly: true })
  try {
    const row = db
      .prepare("SELECT count(*) AS n, count(DISTINCT seq) AS d, min(received_at) AS f, max(received_at) AS l FROM logs WHERE device = ?")
      .get(BLASTER_DEVICE.name) as { n: number; d: number; f: number | null; l: number | null }
    return { stored: row.n, distinct: row.d, firstAt: row.f ?? 0, lastAt: row.l ?? 0 }
  } finally {
    db.close()
  }
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls the running lab's store until `expected` logs are in it, nothing new came for `IDLE_MS`, or `STORE_WAIT_MS` ran out. */
const waitStored = async (store: string, expected: number): Promise<void> => {
  const hardStop = performance.now() + STORE_WAIT_MS
  let last = -1
  let lastChange = performance.now()
  while (performance.now() < hardStop) {
    const { stored } = countStored(store)
    if (stored >= expected) return
    if (stored !== last) {
      last = stored
      lastChange = performance.now()
    } else if (performance.now() - lastChange > IDLE_MS) return
    await delay(POLL_MS * 2)
  }
}

// ---------------------------------------------------------------- the two runs

/** A port base whose ports for this lab (N+443, N+514, N+8443) are unlikely to be taken: random in 20,000-50,000. */
const randomBase = (): number => 20_000 + 1000 * Math.floor(Math.random() * 30)

const upArgs = (labFile: string, base: number, dataDir: string): string[] => [
  FAZLAB_BIN, "up", labFile, "--port-base", String(base), "--addressing", "shared", "--data-dir", dataDir
]

const blast = async (env: BenchEnv, options: UiBenchOptions, port: number, during?: () => Promise<void>): Promise<PacedReport> => {
  const sender = env.spawn([
    SELF,
    "--host", "127.0.0.1",
    "--port", String(port),
    "--count", String(options.count),
    "--rate", String(options.rate),
    "--max-seconds", String(Math.ceil((options.count / options.rate) * 2) + 10)
  ])
  try {
    const report = sender.next<PacedReport>((value) => value["sent"] !== undefined)
    if (during !== undefined) await during()
    return await report
  } finally {
    await env.stop(sender)
  }
}

const finishRun = (mode: UiRun["mode"], portBase: number, sender: PacedReport, store: StoreCount, screen: ReadonlyArray<string>): UiRun => {
  const span = store.lastAt - store.firstAt
  return { mode, portBase, sender, store, rate: span > 0 ? (store.stored * 1000) / span : 0, screen }
}

const runHeadless = async (env: BenchEnv, options: UiBenchOptions, labFile: string): Promise<UiRun> => {
  const base = randomBase()
  const dataDir = path.join(env.tmp, "ui-headless")
  const lab = env.spawn([...upArgs(labFile, base, dataDir), "--headless"], profileFlags(env, "ui-headless"))
  try {
    const bound = await lab.next<{ type: string; actualPort: number; reason?: string }>(
      (value) => value["device"] === "faz-1" && value["port"] === "tcp/514" && (value["type"] === "listener-bound" || value["type"] === "listener-failed"),
      READY_MS
    )
    if (bound.type !== "listener-bound") throw new Error(`faz-1 could not listen on tcp/514 (port base ${base}): ${bound.reason ?? "no reason"}`)
    const sender = await blast(env, options, bound.actualPort)
    const store = path.join(dataDir, "faz-1", "logs.sqlite")
    await waitStored(store, sender.sent)
    lab.process.kill("SIGINT")
    const code = await Promise.race([lab.exited, delay(EXIT_MS).then(() => "timeout" as const)])
    if (code !== 0) throw new Error(`the headless lab did not exit 0 on SIGINT (${String(code)})`)
    return finishRun("headless", base, sender, countStored(store), [])
  } finally {
    await env.stop(lab)
  }
}

/** The tmux server's environment: never one of the user's tmux sessions. */
const tmuxEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env }
  delete env["TMUX"]
  delete env["TMUX_PANE"]
  return env
}

const tmux = (socket: string, args: ReadonlyArray<string>): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile("tmux", ["-L", socket, ...args], { env: tmuxEnv(), timeout: 5000 }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout)
      else reject(new Error(`tmux ${args[0] ?? ""} failed: ${stderr.trim() || error.message}`))
    })
  })

const quote = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** The UI is drawn: its header, and the ports panel showing faz-1's tcp/514 listening on the port base's address. */
const uiDrawn = (screen: string, port: number): boolean =>
  screen.includes("fazlab ui-bench") && new RegExp(`faz-1\\s+tcp/514\\s+→\\s+127\\.0\\.0\\.1:${port}\\s+listening`, "u").test(screen)

const runTerminal = async (env: BenchEnv, options: UiBenchOptions, labFile: string): Promise<UiRun> => {
  const base = randomBase()
  const port = base + 514
  const dataDir = path.join(env.tmp, "ui-terminal")
  const socket = `fazlab-bench-${process.pid}`
  const config = path.join(env.tmp, "tmux.conf")
  // No status line (the pane is the whole 120×40 window); the pane stays after the lab exits, so an error shows.
  fs.writeFileSync(config, "set -g status off\nset -g remain-on-exit on\n")
  const command = [process.execPath, ...profileFlags(env, "ui-terminal"), ...upArgs(labFile, base, dataDir)].map(quote).join(" ")
  await tmux(socket, ["-f", config, "new-session", "-d", "-s", socket, "-x", String(COLUMNS), "-y", String(ROWS), "-c", ROOT, command])
  let pid: number | null = null
  const capture = () => tmux(socket, ["capture-pane", "-p", "-t", socket])
  try {
    let screen = ""
    const deadline = performance.now() + READY_MS
    while (!uiDrawn(screen, port) || pid === null) {
      if (performance.now() > deadline) throw new Error(`the UI did not show faz-1 listening on tcp/514 (127.0.0.1:${port}) within ${READY_MS / 1000} s; last screen:\n${screen}`)
      await delay(POLL_MS)
      screen = await capture()
      const info = path.join(dataDir, "lab.json")
      if (fs.existsSync(info)) pid = (JSON.parse(fs.readFileSync(info, "utf8")) as { pid: number }).pid
    }
    let during: string[] = []
    // Half-way through the load: the UI must still be drawing, and showing the blast.
    const midway = async () => {
      await delay((options.count / options.rate) * 500)
      during = (await capture()).split("\n")
    }
    const sender = await blast(env, options, port, midway)
    const store = path.join(dataDir, "faz-1", "logs.sqlite")
    await waitStored(store, sender.sent)
    if (!during.some((line) => line.includes("fazlab ui-bench"))) throw new Error(`the UI was not on screen during the load:\n${during.join("\n")}`)
    // q, the UI's own "stop the lab" (a SIGINT from outside is not a clean stop under the UI: see docs/performance.md).
    await tmux(socket, ["send-keys", "-t", socket, "q"])
    const exitBy = performance.now() + EXIT_MS
    while (alive(pid)) {
      if (performance.now() > exitBy) throw new Error(`the lab under the UI did not exit within ${EXIT_MS / 1000} s of q; last screen:\n${await capture()}`)
      await delay(POLL_MS)
    }
    pid = null
    return finishRun("terminal", base, sender, countStored(store), during)
  } finally {
    if (pid !== null && alive(pid)) process.kill(pid, "SIGKILL")
    await tmux(socket, ["kill-server"]).catch(() => undefined)
  }
}

/** Both runs, headless first, in this process's turn: one lab at a time. */
export const runUiThroughput = async (env: BenchEnv, options: UiBenchOptions, log: (line: string) => void): Promise<UiResult> => {
  const failed = (error: unknown) => `ERROR: ${error instanceof Error ? error.message : String(error)}`
  if (!fs.existsSync(FAZLAB_MAIN)) {
    const skipped = "SKIPPED: dist/ is missing; run `npm run build` first (npm run bench does)"
    return { options, headless: skipped, terminal: skipped }
  }
  const labFile = path.join(env.tmp, "ui-bench.yaml")
  fs.writeFileSync(labFile, LAB_YAML)
  log(`  headless: fazlab up --headless, ${options.count.toLocaleString("en-US")} logs offered at ${options.rate.toLocaleString("en-US")}/s`)
  const headless = await runHeadless(env, options, labFile).catch(failed)
  log(`  terminal: fazlab up with the UI in tmux ${COLUMNS}×${ROWS}, the same load`)
  const terminal = await runTerminal(env, options, labFile).catch(failed)
  if (env.debug) process.stderr.write(`${JSON.stringify({ headless, terminal })}\n`)
  return { options, headless, terminal }
}

// ---------------------------------------------------------------- output

const int = (value: number): string => Math.round(value).toLocaleString("en-US")

const lossOf = (run: UiRun): string => `${int(run.sender.sent - run.store.stored)} lost, ${int(run.store.stored - run.store.distinct)} twice`

const runLine = (name: string, run: UiRun | string): string =>
  typeof run === "string"
    ? `  ${name.padEnd(9)} ${run}`
    : `  ${name.padEnd(9)} offered ${int(run.sender.rate).padStart(7)}/s (drain waits ${run.sender.drainWaits}, ${int(run.sender.drainMs)} ms)  ` +
      `stored ${int(run.rate).padStart(7)}/s  ${int(run.store.stored)} of ${int(run.sender.sent)} (${lossOf(run)})  port base ${run.portBase}`

export const uiVerdict = (result: UiResult): string => {
  const { headless, terminal } = result
  if (typeof headless === "string") return headless
  if (typeof terminal === "string") return terminal
  const missed: string[] = []
  for (const run of [headless, terminal]) {
    if (run.store.stored !== run.sender.sent || run.store.distinct !== run.sender.sent) missed.push(`${run.mode}: ${lossOf(run)}`)
    if (run.sender.aborted) missed.push(`${run.mode}: the sender ran out of time`)
  }
  const share = terminal.rate / headless.rate
  if (!(share >= TARGET_SHARE)) missed.push(`UI at ${(share * 100).toFixed(1)}% of headless`)
  return missed.length === 0 ? "PASS" : `MISS (${missed.join(", ")})`
}

export const uiLines = (result: UiResult): ReadonlyArray<string> => {
  const { headless, terminal, options } = result
  const lines = [
    `UI cost: the lab's intake with the terminal UI (fazlab up in tmux ${COLUMNS}×${ROWS}) against headless (fazlab up --headless), ` +
      `${int(options.count)} syslog logs over TCP offered at ${int(options.rate)}/s; target UI ≥ ${TARGET_SHARE * 100}% of headless, 0 lost: ${uiVerdict(result)}`,
    runLine("headless", headless),
    runLine("UI", terminal)
  ]
  if (typeof headless !== "string" && typeof terminal !== "string") {
    lines.push(`  ratio     ${(terminal.rate / headless.rate).toFixed(3)} (UI / headless stored rate)`)
    const traffic = terminal.screen.find((line) => line.includes("FGT60F"))
    if (traffic !== undefined) lines.push(`  UI half-way through the load: ${traffic.replace(/\s+/gu, " ").trim()}`)
  }
  return lines
}

if (import.meta.main) await senderMain()
