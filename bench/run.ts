/**
 * `npm run bench`: the analyzer's syslog intake throughput, loss and memory, its OFTP intake
 * (one session, and a fleet of 1,000 FortiGates: `oftp-run.ts`), HA failover (`ha-failover.ts`,
 * in this process), the terminal UI's cost to the lab (`ui-throughput.ts`), and the lab's start
 * time, printed as tables. Writes nothing but its output (the analyzer's store goes
 * to a temporary folder that is removed at the end), and exits 0 whatever the figures: it is
 * a benchmark, not a test. See docs/performance.md for what each figure means.
 *
 * Every scenario runs twice with the same sender (`syslog-blaster.ts`, its own process): once
 * against a bare counting sink, which gives the sender's raw rate on this machine at this
 * moment, then against an emulated FortiAnalyzer (`receiver.ts`, its own process, so its peak
 * RSS is its own). The ratio of the two is what stays meaningful on a noisy machine.
 *
 * Options: `--only tcp,udp,flood,oftp,oftp-fleet,oftp-swarm,failover,ui,start` (default all),
 * `--tcp-count N`, `--udp-count N`, `--udp-rate R`, `--oftp-count N`, `--fortigate-count N`,
 * `--fleet-devices N`, `--fleet-seconds S`, `--failover-rounds N`, `--failover-seconds S`, `--ui-rate R`, `--ui-count N`, `--cpu-prof DIR` (writes V8 CPU profiles of the analyzer processes there,
 * and of the OFTP FortiGates' processes), `--from-dist` (the syslog scenarios' analyzer loads the
 * compiled `dist/`, as the `fazlab` command does, instead of `src/`: `npm run build` first).
 * With `BENCH_DEBUG=1` each run's raw sender and receiver reports go to stderr as JSON.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as readline from "node:readline"
import { parseArgs } from "node:util"
import type { BlasterReport } from "./syslog-blaster.ts"
import type { Endpoint, ReceiverReport } from "./receiver.ts"
import { type OftpOptions, type OftpRow, printOftpTable, runOftpFleet, runOftpSession } from "./oftp-run.ts"
import { FAILOVER_DEFAULTS, type FailoverResult, failoverLines, failoverVerdict, runFailoverBench } from "./ha-failover.ts"
import { BENCH_DIR, FAZLAB_BIN, FAZLAB_MAIN, ROOT } from "./paths.ts"
import { formatTable } from "./table.ts"
import { runUiThroughput, UI_DEFAULTS, type UiResult, uiLines, uiVerdict } from "./ui-throughput.ts"

const BLASTER = path.join(BENCH_DIR, "syslog-blaster.ts")
const RECEIVER = path.join(BENCH_DIR, "receiver.ts")

/** Child processes get this long to report before they are killed and the scenario is reported as failed. */
const CHILD_TIMEOUT_MS = 90_000
const LAB_START_RUNS = 5
const LAB_START_TARGET_MS = 500
const RSS_TARGET_MB = 200

interface Target {
  /** Stored logs per second the analyzer must reach (with `rateTolerance` for pacing jitter). */
  readonly rate: number
  readonly rateTolerance: number
  /** Largest loss accepted, as a fraction of what was sent. */
  readonly maxLoss: number
  readonly text: string
}

interface Scenario {
  readonly key: "tcp" | "udp" | "flood"
  readonly name: string
  readonly transport: "tcp" | "udp"
  readonly count: number
  /** Offered logs per second; 0 = as fast as the sender can. */
  readonly rate: number
  readonly target: Target | null
}

interface Run {
  readonly sender: BlasterReport
  readonly receiver: ReceiverReport
}

interface Row {
  readonly scenario: string
  readonly sink: string
  readonly senderRate: number | null
  readonly receiverRate: number | null
  readonly ratio: number | null
  readonly lossPct: number | null
  readonly rssMb: number | null
  readonly target: string
  readonly verdict: string
}

// ---------------------------------------------------------------- child processes

interface Child {
  readonly process: ChildProcess
  /** The next stdout line that parses as JSON and matches, or rejects after `timeoutMs` / on exit. */
  next<T>(match: (value: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<T>
  stderr(): string
  exited: Promise<number | null>
}

const spawnNode = (args: ReadonlyArray<string>, nodeFlags: ReadonlyArray<string> = []): Child => {
  const child = spawn(process.execPath, [...nodeFlags, ...args], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] })
  const queue: Record<string, unknown>[] = []
  const waiters = new Set<() => void>()
  let stderr = ""
  let ended = false
  child.stderr?.setEncoding("utf8")
  child.stderr?.on("data", (text: string) => {
    stderr = (stderr + text).slice(-4000)
  })
  readline.createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      const value: unknown = JSON.parse(line)
      if (typeof value === "object" && value !== null) queue.push(value as Record<string, unknown>)
    } catch {
      return
    }
    for (const wake of waiters) wake()
  })
  const exited = new Promise<number | null>((resolve) => {
    child.on("close", (code) => {
      ended = true
      for (const wake of waiters) wake()
      resolve(code)
    })
    child.on("error", () => {
      ended = true
      resolve(null)
    })
  })
  const next = <T>(match: (value: Record<string, unknown>) => boolean, timeoutMs = CHILD_TIMEOUT_MS): Promise<T> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`no answer from ${path.basename(args[0] ?? "child")} within ${timeoutMs / 1000} s`)), timeoutMs)
      const check = () => {
        const index = queue.findIndex(match)
        if (index >= 0) return finish(null, queue.splice(index, 1)[0] as T)
        if (ended) finish(new Error(`${path.basename(args[0] ?? "child")} exited early: ${lastLine(stderr) || "no message"}`))
      }
      const finish = (error: Error | null, value?: T) => {
        clearTimeout(timer)
        waiters.delete(check)
        if (error === null) resolve(value as T)
        else reject(error)
      }
      waiters.add(check)
      check()
    })
  return { process: child, next, stderr: () => stderr, exited }
}

const lastLine = (text: string): string => text.trim().split("\n").filter((line) => line.trim().length > 0).at(-1) ?? ""

const stop = async (child: Child): Promise<void> => {
  if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill("SIGKILL")
  await child.exited
}

// ---------------------------------------------------------------- throughput

/** How the analyzer receiver runs: CPU profiles into `profileDir`, and loaded from `dist/` (`fromDist`) or `src/`. */
interface ReceiverOptions {
  readonly profileDir: string | null
  readonly fromDist: boolean
}

const runOnce = async (scenario: Scenario, sink: "bare" | "analyzer", dataDir: string, options: ReceiverOptions): Promise<Run> => {
  const { profileDir } = options
  const receiverArgs = [RECEIVER, "--sink", sink, "--data-dir", dataDir, ...(options.fromDist ? ["--from-dist"] : [])]
  const receiver = spawnNode(receiverArgs, profileDir === null || sink === "bare" ? [] : ["--cpu-prof", "--cpu-prof-dir", profileDir])
  try {
    const ready = await receiver.next<{ udp: Endpoint; tcp: Endpoint }>((value) => value["type"] === "ready", 30_000)
    const to = scenario.transport === "tcp" ? ready.tcp : ready.udp
    const blaster = spawnNode([
      BLASTER,
      "--transport", scenario.transport,
      "--host", to.address,
      "--port", String(to.port),
      "--count", String(scenario.count),
      "--rate", String(scenario.rate),
      "--max-seconds", "60"
    ])
    let sender: BlasterReport
    try {
      sender = await blaster.next<BlasterReport>((value) => value["transport"] !== undefined)
    } finally {
      await stop(blaster)
    }
    receiver.process.stdin?.end(`${JSON.stringify({ expect: sender.sent })}\n`)
    const result = await receiver.next<ReceiverReport>((value) => value["type"] === "result")
    if (process.env["BENCH_DEBUG"] !== undefined) process.stderr.write(`${JSON.stringify({ sender, result })}\n`)
    // Let it exit by itself (a CPU profile is written on exit), but not forever.
    await Promise.race([receiver.exited, new Promise((resolve) => setTimeout(resolve, 10_000).unref())])
    return { sender, receiver: result }
  } finally {
    await stop(receiver)
  }
}

const lossOf = (run: Run): number => (run.sender.sent === 0 ? 1 : Math.max(0, run.sender.sent - run.receiver.received) / run.sender.sent)

const judge = (scenario: Scenario, run: Run): string => {
  const target = scenario.target
  if (target === null) return "info"
  const missed: string[] = []
  if (scenario.rate > 0 && run.sender.rate < scenario.rate * (1 - target.rateTolerance)) {
    missed.push(`sender offered only ${rate(run.sender.rate)}/s`)
  }
  if (run.receiver.rate < target.rate * (1 - target.rateTolerance)) missed.push("rate")
  if (lossOf(run) > target.maxLoss) missed.push("loss")
  if (run.receiver.malformed > 0) missed.push(`${run.receiver.malformed} malformed`)
  if (run.receiver.maxRssKiB / 1024 >= RSS_TARGET_MB) missed.push("RSS")
  return missed.length === 0 ? "PASS" : `MISS (${missed.join(", ")})`
}

const runScenario = async (scenario: Scenario, tmp: string, options: ReceiverOptions): Promise<Row[]> => {
  const rows: Row[] = []
  let raw: Run | null = null
  try {
    raw = await runOnce(scenario, "bare", path.join(tmp, `${scenario.key}-bare`), { profileDir: null, fromDist: false })
    rows.push({
      scenario: scenario.name,
      sink: "bare sink",
      senderRate: raw.sender.rate,
      receiverRate: raw.receiver.rate,
      ratio: raw.receiver.rate / raw.sender.rate,
      lossPct: lossOf(raw) * 100,
      rssMb: raw.receiver.maxRssKiB / 1024,
      target: "(reference)",
      verdict: ""
    })
  } catch (error) {
    rows.push(failedRow(scenario, "bare sink", error))
  }
  try {
    const run = await runOnce(scenario, "analyzer", path.join(tmp, `${scenario.key}-analyzer`), options)
    // The ratio compares with the sender's raw rate of the same run: against the bare sink.
    const rawRate = raw === null ? run.sender.rate : raw.sender.rate
    rows.push({
      scenario: scenario.name,
      sink: "analyzer",
      senderRate: run.sender.rate,
      receiverRate: run.receiver.rate,
      ratio: run.receiver.rate / rawRate,
      lossPct: lossOf(run) * 100,
      rssMb: run.receiver.maxRssKiB / 1024,
      target: scenario.target === null ? "-" : `${scenario.target.text}, RSS < ${RSS_TARGET_MB} MB`,
      verdict: judge(scenario, run)
    })
  } catch (error) {
    rows.push(failedRow(scenario, "analyzer", error))
  }
  return rows
}

const failedRow = (scenario: Scenario, sink: string, error: unknown): Row => ({
  scenario: scenario.name,
  sink,
  senderRate: null,
  receiverRate: null,
  ratio: null,
  lossPct: null,
  rssMb: null,
  target: scenario.target?.text ?? "-",
  verdict: `ERROR: ${error instanceof Error ? error.message : String(error)}`
})

// ---------------------------------------------------------------- lab start

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

const nodeStartMs = async (): Promise<number> => {
  const started = performance.now()
  const child = spawnNode(["-e", "0"])
  await child.exited
  return performance.now() - started
}

/**
 * Spawn to the default lab's last `listener-bound` line (the HA primary's virtual IP, "lab", on
 * udp/514 and tcp/514, and faz-a on tcp/5199), then SIGINT.
 */
const labStartMs = async (): Promise<{ ms: number; exitCode: number | null }> => {
  const started = performance.now()
  const child = spawnNode([FAZLAB_BIN, "up", "--headless", "--memory", "--port-base", "ephemeral"])
  try {
    const wanted = new Set(["lab udp/514", "lab tcp/514", "faz-a tcp/5199"])
    while (wanted.size > 0) {
      const event = await child.next<{ device: string; port: string }>((value) => value["type"] === "listener-bound", 10_000)
      wanted.delete(`${event.device} ${event.port}`)
    }
    const ms = performance.now() - started
    child.process.kill("SIGINT")
    const exitCode = await Promise.race([child.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 5000).unref())])
    return { ms, exitCode }
  } finally {
    await stop(child)
  }
}

interface StartResult {
  /** Printed lines, one per measurement. */
  readonly lines: ReadonlyArray<string>
  /** "PASS", "MISS (...)", "ERROR: ..." or "SKIPPED: ...". */
  readonly verdict: string
}

const runs = (values: ReadonlyArray<number>): string => `median ${median(values).toFixed(0)} ms (runs: ${values.map((v) => v.toFixed(0)).join(", ")})`

const measureLabStart = async (): Promise<StartResult> => {
  const nodeRuns: number[] = []
  for (let i = 0; i < LAB_START_RUNS; i++) nodeRuns.push(await nodeStartMs())
  const lines = [`  node -e 0        ${runs(nodeRuns)}`]
  if (!fs.existsSync(FAZLAB_MAIN)) return { lines, verdict: "SKIPPED: dist/ is missing; run `npm run build` first (npm run bench does)" }
  const labRuns: number[] = []
  const badExits: Array<number | null> = []
  try {
    for (let i = 0; i < LAB_START_RUNS; i++) {
      const { ms, exitCode } = await labStartMs()
      labRuns.push(ms)
      if (exitCode !== 0) badExits.push(exitCode)
    }
  } catch (error) {
    return { lines, verdict: `ERROR: ${error instanceof Error ? error.message : String(error)}` }
  }
  const ms = median(labRuns)
  const missed: string[] = []
  if (ms >= LAB_START_TARGET_MS) missed.push(`${ms.toFixed(0)} ms`)
  if (badExits.length > 0) missed.push(`exit ${badExits.map((code) => code ?? "none (killed)").join("/")} after SIGINT, expected 0`)
  lines.push(`  fazlab up        ${runs(labRuns)}, ${(ms / median(nodeRuns)).toFixed(1)}x node -e 0`)
  return { lines, verdict: missed.length === 0 ? "PASS" : `MISS (${missed.join(", ")})` }
}

// ---------------------------------------------------------------- output

const rate = (value: number): string => Math.round(value).toLocaleString("en-US")

const printTable = (rows: ReadonlyArray<Row>): void => {
  const header = ["scenario", "sink", "sender msg/s", "received msg/s", "ratio", "loss %", "peak RSS MB", "target", "result"]
  const cells = rows.map((row) => [
    row.scenario,
    row.sink,
    row.senderRate === null ? "" : rate(row.senderRate),
    row.receiverRate === null ? "" : rate(row.receiverRate),
    row.ratio === null ? "" : row.ratio.toFixed(2),
    row.lossPct === null ? "" : row.lossPct.toFixed(3),
    row.rssMb === null ? "" : row.rssMb.toFixed(0),
    row.target,
    row.verdict
  ])
  for (const line of formatTable(header, cells, new Set([2, 3, 4, 5, 6]))) process.stdout.write(line)
}

const machine = (): string => {
  let rmemMax = "?"
  try {
    rmemMax = fs.readFileSync("/proc/sys/net/core/rmem_max", "utf8").trim()
  } catch {
    // not Linux: the kernel's receive-buffer cap is not shown
  }
  return `${new Date().toISOString().slice(0, 10)}, ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? "unknown CPU"}), ` +
    `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}, ${os.platform()} ${os.release()}, net.core.rmem_max ${rmemMax}`
}

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      only: { type: "string", default: "tcp,udp,flood,oftp,oftp-fleet,oftp-swarm,failover,ui,start" },
      "tcp-count": { type: "string", default: "300000" },
      "udp-count": { type: "string", default: "200000" },
      "udp-rate": { type: "string", default: "100000" },
      "oftp-count": { type: "string", default: "300000" },
      "fortigate-count": { type: "string", default: "100000" },
      "fleet-devices": { type: "string", default: "1000" },
      "fleet-seconds": { type: "string", default: "25" },
      "failover-rounds": { type: "string", default: String(FAILOVER_DEFAULTS.rounds) },
      "failover-seconds": { type: "string", default: String(FAILOVER_DEFAULTS.maxSeconds) },
      "ui-rate": { type: "string", default: String(UI_DEFAULTS.rate) },
      "ui-count": { type: "string", default: String(UI_DEFAULTS.count) },
      "cpu-prof": { type: "string" },
      "from-dist": { type: "boolean", default: false }
    }
  })
  const only = new Set(values.only.split(","))
  const tcpCount = Number(values["tcp-count"])
  const udpCount = Number(values["udp-count"])
  const udpRate = Number(values["udp-rate"])
  const oftp: OftpOptions = {
    count: Number(values["oftp-count"]),
    fortigateCount: Number(values["fortigate-count"]),
    fleetDevices: Number(values["fleet-devices"]),
    fleetSeconds: Number(values["fleet-seconds"])
  }
  const failoverOptions = { ...FAILOVER_DEFAULTS, rounds: Number(values["failover-rounds"]), maxSeconds: Number(values["failover-seconds"]) }
  const uiOptions = { rate: Number(values["ui-rate"]), count: Number(values["ui-count"]) }
  const counts = [tcpCount, udpCount, udpRate, oftp.count, oftp.fortigateCount, oftp.fleetDevices, oftp.fleetSeconds, failoverOptions.rounds, failoverOptions.maxSeconds, uiOptions.rate, uiOptions.count]
  if (!counts.every((n) => Number.isInteger(n) && n > 0)) {
    process.stderr.write(
      "--tcp-count, --udp-count, --udp-rate, --oftp-count, --fortigate-count, --fleet-devices, --fleet-seconds, --failover-rounds, --failover-seconds, --ui-rate and --ui-count must be positive whole numbers.\n"
    )
    process.exitCode = 2
    return
  }
  const profileDir = values["cpu-prof"] === undefined ? null : path.resolve(values["cpu-prof"])
  const scenarios: Scenario[] = [
    {
      key: "tcp",
      name: `TCP octet-counted, ${tcpCount.toLocaleString("en-US")} logs`,
      transport: "tcp",
      count: tcpCount,
      rate: 0,
      target: { rate: 150_000, rateTolerance: 0, maxLoss: 0, text: ">= 150,000/s stored, 0 lost" }
    },
    {
      key: "udp",
      name: `UDP paced at ${udpRate.toLocaleString("en-US")}/s, ${udpCount.toLocaleString("en-US")} logs`,
      transport: "udp",
      count: udpCount,
      rate: udpRate,
      // Pacing by 1 ms ticks lands within a percent of the asked rate: accept that much.
      target: { rate: 100_000, rateTolerance: 0.01, maxLoss: 0.001, text: ">= 100,000/s (-1%) stored, < 0.1% lost" }
    },
    {
      key: "flood",
      name: `UDP unpaced, ${udpCount.toLocaleString("en-US")} logs`,
      transport: "udp",
      count: udpCount,
      rate: 0,
      target: null
    }
  ]
  process.stdout.write(`fazlab intake benchmark (syslog, OFTP), ${machine()}\n`)
  if (scenarios.some((scenario) => only.has(scenario.key))) {
    process.stdout.write("Each syslog scenario runs against a bare counting sink (the sender's raw rate), then against the analyzer (parse + store in SQLite on disk).\n")
  }
  process.stdout.write("\n")
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fazlab-bench-"))
  const rows: Row[] = []
  const oftpRows: OftpRow[] = []
  const oftpNotes: string[] = []
  let start: StartResult | null = null
  let failover: FailoverResult | string | null = null
  let ui: UiResult | null = null
  try {
    for (const scenario of scenarios) {
      if (!only.has(scenario.key)) continue
      process.stderr.write(`running: ${scenario.name}\n`)
      rows.push(...(await runScenario(scenario, tmp, { profileDir, fromDist: values["from-dist"] })))
    }
    const oftpEnv = { spawn: spawnNode, stop, tmp, profileDir, debug: process.env["BENCH_DEBUG"] !== undefined }
    if (only.has("oftp")) {
      process.stderr.write("running: OFTP one session\n")
      const result = await runOftpSession(oftpEnv, oftp)
      oftpRows.push(...result.rows)
      oftpNotes.push(...result.notes)
    }
    for (const [key, senders] of [["oftp-fleet", "fortigates"], ["oftp-swarm", "swarm"]] as const) {
      if (!only.has(key)) continue
      process.stderr.write(`running: OFTP fleet of ${oftp.fleetDevices} ${senders === "fortigates" ? "FortiGates" : "light OFTP devices"}\n`)
      const result = await runOftpFleet(oftpEnv, oftp, senders)
      oftpRows.push(...result.rows)
      oftpNotes.push(...result.notes)
    }
    if (only.has("failover")) {
      process.stderr.write(`running: HA failover, ${failoverOptions.rounds} kills of the primary (at most ${failoverOptions.maxSeconds} s)\n`)
      try {
        failover = await runFailoverBench(failoverOptions, (line) => process.stderr.write(`${line}\n`))
      } catch (error) {
        failover = `ERROR: ${error instanceof Error ? error.message : String(error)}`
      }
    }
    if (only.has("ui")) {
      process.stderr.write("running: the terminal UI's cost to the lab (headless, then with the UI in tmux)\n")
      ui = await runUiThroughput(oftpEnv, uiOptions, (line) => process.stderr.write(`${line}\n`))
    }
    if (only.has("start")) {
      process.stderr.write("running: lab start\n")
      start = await measureLabStart()
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  if (rows.length > 0) printTable(rows)
  if (oftpRows.length > 0) {
    process.stdout.write(
      `${rows.length > 0 ? "\n" : ""}OFTP (TLS on TCP/514, batches of 1,000 records, 8 unacknowledged): acked = acknowledged by the analyzer, i.e. stored; ` +
        "lost (acknowledged or sent, yet not stored) / twice from the analyzer's store after the run; ratio = against the blaster's rate to the bare TLS sink.\n"
    )
    printOftpTable(oftpRows, (text) => process.stdout.write(text))
    for (const note of oftpNotes) process.stdout.write(`${note}\n`)
  }
  if (failover !== null) {
    const lines = typeof failover === "string" ? [`HA failover: ${failover}`] : failoverLines(failover)
    process.stdout.write(`${rows.length + oftpRows.length > 0 ? "\n" : ""}${lines.map((line) => `${line}\n`).join("")}`)
  }
  if (ui !== null) {
    process.stdout.write(`${rows.length + oftpRows.length > 0 || failover !== null ? "\n" : ""}${uiLines(ui).map((line) => `${line}\n`).join("")}`)
  }
  if (start !== null) {
    process.stdout.write(
      `\nLab start: spawn to the default lab's last listener-bound line (VIP udp/514 + tcp/514, faz-a tcp/5199), then SIGINT; target < ${LAB_START_TARGET_MS} ms and exit 0: ${start.verdict}\n` +
        start.lines.map((line) => `${line}\n`).join("")
    )
  }
  const isMiss = (verdict: string) => verdict.startsWith("MISS") || verdict.startsWith("ERROR") || verdict.startsWith("SKIPPED")
  const missed = [...rows, ...oftpRows].filter((row) => isMiss(row.verdict)).map((row) => `${row.scenario} (${row.sink}): ${row.verdict}`)
  if (failover !== null) {
    const verdict = typeof failover === "string" ? failover : failoverVerdict(failover)
    if (isMiss(verdict)) missed.push(`HA failover: ${verdict}`)
  }
  if (ui !== null && isMiss(uiVerdict(ui))) missed.push(`UI cost: ${uiVerdict(ui)}`)
  if (start !== null && isMiss(start.verdict)) missed.push(`lab start: ${start.verdict}`)
  process.stdout.write(missed.length === 0 ? "\nAll targets met.\n" : `\nTargets missed:\n${missed.map((line) => `  - ${line}\n`).join("")}`)
  if (profileDir !== null) process.stdout.write(`\nCPU profiles of the analyzer processes (and the OFTP FortiGates', one folder each): ${profileDir}\n`)
}

await main()
