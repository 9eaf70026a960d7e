/**
 * The OFTP part of `npm run bench` (`--only oftp,oftp-fleet`), run by `bench/run.ts`, which
 * lends it its child-process helpers (`bench-env.ts`). Every process reports one JSON line; nothing here sleeps
 * for synchronisation, every wait is bounded.
 *
 * - `oftp`: one TLS session with acknowledgements. `oftp-blaster.ts` (the codec, pre-encoded
 *   batches of 1,000 records, 8 unacked) runs first against the bare TLS sink of
 *   `oftp-receiver.ts` (the sender's raw rate over TLS), then against the analyzer (stored and
 *   acknowledged rate; the store checked for none missing, none twice). Then, for information,
 *   one fazlab FortiGate (`oftp-fleet.ts --devices 1`) asked for more than it can generate.
 * - `oftp-fleet`: `oftp-fleet.ts` holds 1,000 FortiGates at 10 records/s each for a bounded
 *   count, against the analyzer in another process: time to get every session online, all
 *   stored and none lost (checked per device in the store), peak RSS of both processes.
 * - `oftp-swarm`: the same load from 1,000 light devices (`oftp-swarm.ts`, the codec and nothing
 *   else), so the analyzer's side is measured even when the emulated FortiGates are the limit.
 * - `oftp-spread`: the 1,000 fazlab FortiGates spread over several sender processes (4 of 250,
 *   each a lab of its own, as device nodes are), all logging to the one analyzer at once: all
 *   online, all stored once, none lost (checked per device in the store).
 */
import * as path from "node:path"
import { type BenchEnv, profileFlags } from "./bench-env.ts"
import type { OftpBlasterReport } from "./oftp-blaster.ts"
import type { OftpFleetReport } from "./oftp-fleet.ts"
import type { OftpReceiverReport } from "./oftp-receiver.ts"
import { BENCH_DIR } from "./paths.ts"
import { formatTable } from "./table.ts"

const BLASTER = path.join(BENCH_DIR, "oftp-blaster.ts")
const RECEIVER = path.join(BENCH_DIR, "oftp-receiver.ts")
const FLEET = path.join(BENCH_DIR, "oftp-fleet.ts")
const SWARM = path.join(BENCH_DIR, "oftp-swarm.ts")

const SESSION_TARGET_RATE = 100_000
const FLEET_RSS_TARGET_MB = 300
/** The same fleet and its analyzer as one lab process (`fazlab run`). */
const ONE_LAB_RSS_TARGET_MB = 600
const FLEET_RATE_PER_DEVICE = 10
/** Child processes get this long to report (the fleet's own bound is shorter). */
const REPORT_TIMEOUT_MS = 100_000

export interface OftpOptions {
  /** Records over the one session. */
  readonly count: number
  /** Records the single fazlab FortiGate is asked for. */
  readonly fortigateCount: number
  readonly fleetDevices: number
  /** Seconds each fleet FortiGate logs at 10 records/s (its count is 10 × this). */
  readonly fleetSeconds: number
}

export interface OftpRow {
  readonly scenario: string
  readonly sink: string
  readonly senderRate: number | null
  readonly storedRate: number | null
  readonly ratio: number | null
  /** "0 / 0" (lost / twice) from the store, "-" for the bare sink. */
  readonly check: string
  readonly receiverRssMb: number | null
  readonly senderRssMb: number | null
  readonly target: string
  readonly verdict: string
}

export interface OftpResult {
  readonly rows: ReadonlyArray<OftpRow>
  /** Extra lines printed under the table (fleet details). */
  readonly notes: ReadonlyArray<string>
}

const bounded = (promise: Promise<unknown>, ms: number): Promise<unknown> =>
  Promise.race([promise, new Promise((resolve) => setTimeout(resolve, ms).unref())])

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const rate = (value: number): string => Math.round(value).toLocaleString("en-US")

interface Received {
  readonly receiver: OftpReceiverReport
}

/**
 * Starts a receiver, hands its port to `send` (which runs the senders and returns how many
 * records each device sent), then lets the receiver check and report.
 */
const withReceiver = async <S>(
  env: BenchEnv,
  sink: "bare" | "analyzer",
  dataDir: string,
  role: string,
  send: (port: number) => Promise<{ readonly sender: S; readonly expect: Readonly<Record<string, number>> }>
): Promise<Received & { readonly sender: S }> => {
  const receiver = env.spawn([RECEIVER, "--sink", sink, "--data-dir", dataDir], sink === "bare" ? [] : profileFlags(env, role))
  try {
    const ready = await receiver.next<{ port: number }>((value) => value["type"] === "ready", 30_000)
    const { sender, expect } = await send(ready.port)
    receiver.process.stdin?.end(`${JSON.stringify({ expect })}\n`)
    const result = await receiver.next<OftpReceiverReport>((value) => value["type"] === "result", REPORT_TIMEOUT_MS)
    if (env.debug) process.stderr.write(`${JSON.stringify({ sender, result })}\n`)
    // Let it exit by itself (a CPU profile is written on exit), but not forever.
    await bounded(receiver.exited, 10_000)
    return { sender, receiver: result }
  } finally {
    await env.stop(receiver)
  }
}

const blast = async (env: BenchEnv, port: number, count: number) => {
  const blaster = env.spawn([BLASTER, "--port", String(port), "--count", String(count), "--max-seconds", "60"])
  try {
    const sender = await blaster.next<OftpBlasterReport>((value) => value["type"] === "oftp-blaster", REPORT_TIMEOUT_MS)
    if (sender.error !== null) throw new Error(`the OFTP blaster failed: ${sender.error}`)
    return { sender, expect: { [sender.device]: sender.sent } }
  } finally {
    await env.stop(blaster)
  }
}

const fleet = async (env: BenchEnv, port: number, args: ReadonlyArray<string>, role: string, script = FLEET) => {
  const child = env.spawn([script, "--port", String(port), ...args], profileFlags(env, role))
  try {
    const sender = await child.next<OftpFleetReport>((value) => value["type"] === "oftp-fleet", REPORT_TIMEOUT_MS)
    // It closes its lab (CLOSE to the analyzer) before exiting; the profile is written on exit.
    await bounded(child.exited, 15_000)
    return { sender, expect: sender.generatedBy }
  } finally {
    await env.stop(child)
  }
}

const checkText = (receiver: OftpReceiverReport): string =>
  receiver.check === null ? "-" : `${receiver.check.missing} / ${receiver.check.duplicated}`

const clean = (receiver: OftpReceiverReport, sent: number): boolean =>
  receiver.check !== null && receiver.check.missing === 0 && receiver.check.duplicated === 0 && receiver.check.stored === sent

const failed = (scenario: string, sink: string, target: string, error: unknown): OftpRow => ({
  scenario,
  sink,
  senderRate: null,
  storedRate: null,
  ratio: null,
  check: "",
  receiverRssMb: null,
  senderRssMb: null,
  target,
  verdict: `ERROR: ${message(error)}`
})

/** A row against the analyzer; its ratio is against the bare TLS sink's raw rate, when that run worked. */
const analyzerRow = (
  scenario: string,
  run: { readonly sender: { readonly rate: number }; readonly receiver: OftpReceiverReport },
  rawRate: number | null,
  senderRssMb: number | null,
  target: string,
  verdict: string
): OftpRow => ({
  scenario,
  sink: "analyzer",
  senderRate: run.sender.rate,
  storedRate: run.receiver.rate,
  ratio: run.sender.rate / (rawRate ?? run.sender.rate),
  check: checkText(run.receiver),
  receiverRssMb: run.receiver.maxRssKiB / 1024,
  senderRssMb,
  target,
  verdict
})

/** One TLS session: bare sink, analyzer, then one fazlab FortiGate (information). */
export const runOftpSession = async (env: BenchEnv, options: OftpOptions): Promise<OftpResult> => {
  const scenario = `OFTP one session, ${options.count.toLocaleString("en-US")} records`
  const target = `>= ${rate(SESSION_TARGET_RATE)}/s stored, 0 lost`
  const rows: OftpRow[] = []
  let rawRate: number | null = null
  try {
    const run = await withReceiver(env, "bare", path.join(env.tmp, "oftp-bare"), "oftp-bare", (port) => blast(env, port, options.count))
    rawRate = run.sender.rate
    rows.push({
      scenario,
      sink: "bare TLS sink",
      senderRate: run.sender.rate,
      storedRate: run.receiver.rate,
      ratio: 1,
      check: "-",
      receiverRssMb: run.receiver.maxRssKiB / 1024,
      senderRssMb: null,
      target: "(reference)",
      verdict: ""
    })
  } catch (error) {
    rows.push(failed(scenario, "bare TLS sink", "(reference)", error))
  }
  try {
    const run = await withReceiver(env, "analyzer", path.join(env.tmp, "oftp-analyzer"), "oftp-analyzer", (port) => blast(env, port, options.count))
    const missed: string[] = []
    if (run.sender.rate < SESSION_TARGET_RATE) missed.push("rate")
    if (run.sender.acked < run.sender.sent || !clean(run.receiver, run.sender.sent)) missed.push("loss")
    // The blaster's rate is acknowledged records per second: stored, end to end.
    rows.push(analyzerRow(scenario, run, rawRate, null, target, missed.length === 0 ? "PASS" : `MISS (${missed.join(", ")})`))
  } catch (error) {
    rows.push(failed(scenario, "analyzer", target, error))
  }
  const fortigate = `fazlab FortiGate, rate 200,000/s, ${options.fortigateCount.toLocaleString("en-US")} records`
  try {
    const args = ["--devices", "1", "--rate", "200000", "--count", String(options.fortigateCount), "--queue-size", String(options.fortigateCount), "--max-seconds", "60"]
    const run = await withReceiver(env, "analyzer", path.join(env.tmp, "oftp-fortigate"), "oftp-fortigate-analyzer", (port) =>
      fleet(env, port, args, "oftp-fortigate-sender"))
    const sent = run.sender.generated
    rows.push(analyzerRow(fortigate, run, rawRate, run.sender.maxRssKiB / 1024, "info", clean(run.receiver, sent) ? `info (first online after ${(run.sender.firstOnlineMs / 1000).toFixed(1)} s, event-loop delay max ${(run.sender.loopDelayMaxMs / 1000).toFixed(1)} s)` : "info: records lost"))
  } catch (error) {
    rows.push(failed(fortigate, "analyzer", "info", error))
  }
  return { rows, notes: [] }
}

/** 1,000 FortiGates (fazlab's, or light codec-only devices) at 10 records/s against one analyzer. */
export const runOftpFleet = async (env: BenchEnv, options: OftpOptions, senders: "fortigates" | "swarm"): Promise<OftpResult> => {
  const count = FLEET_RATE_PER_DEVICE * options.fleetSeconds
  const who = senders === "fortigates" ? "fazlab FortiGates" : "light OFTP devices"
  const scenario = `OFTP fleet, ${options.fleetDevices.toLocaleString("en-US")} ${who} x ${FLEET_RATE_PER_DEVICE}/s x ${options.fleetSeconds} s`
  const target = `all online, all stored, analyzer and senders' RSS < ${FLEET_RSS_TARGET_MB} MB`
  try {
    // Logging takes `fleetSeconds`; the rest of the bound is for getting online and draining.
    const maxSeconds = options.fleetSeconds + 45
    const args = ["--devices", String(options.fleetDevices), "--rate", String(FLEET_RATE_PER_DEVICE), "--count", String(count), "--max-seconds", String(maxSeconds)]
    const run = await withReceiver(env, "analyzer", path.join(env.tmp, `oftp-${senders}`), `oftp-${senders}-analyzer`, (port) =>
      fleet(env, port, args, `oftp-${senders}-senders`, senders === "fortigates" ? FLEET : SWARM))
    const { sender, receiver } = run
    const analyzerRssMb = receiver.maxRssKiB / 1024
    const missing = receiver.check?.missing ?? sender.generated
    // Records never acknowledged were still queued on the senders when the time bound ran out:
    // late, not lost. Lost is what is missing beyond them (acknowledged, yet not in the store).
    const undelivered = sender.generated - sender.acked
    const lost = Math.max(0, missing - undelivered)
    const missed: string[] = []
    if (receiver.devicesOnline < options.fleetDevices) missed.push(`${receiver.devicesOnline} online`)
    if (sender.complete < options.fleetDevices || sender.generated < options.fleetDevices * count) missed.push(`${sender.complete} devices done`)
    if (lost > 0 || (receiver.check?.duplicated ?? 0) > 0) missed.push("loss")
    if (analyzerRssMb >= FLEET_RSS_TARGET_MB) missed.push("analyzer RSS")
    if (sender.maxRssKiB / 1024 >= FLEET_RSS_TARGET_MB) missed.push("senders' RSS")
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
    const ended = Object.entries(receiver.sessionsEnded).map(([code, n]) => `${code} ${n}`).join(", ")
    const senderSide = senders === "fortigates"
      ? `the FortiGates ${sender.online < sender.devices ? `saw ${sender.online} online` : `saw their last one at ${seconds(sender.allOnlineMs)}`}; lab start ${seconds(sender.labStartMs)}`
      : `${sender.online} sessions authorized`
    const notes = [
      `${scenario}: ${sender.devices} devices in one process, ${count} records each (${rate(sender.generated)} generated, ${rate(sender.acked)} acknowledged, ${sender.complete} devices done${sender.aborted ? ", stopped by the time bound" : ""}).`,
      `  online (analyzer side, from the senders' start): first device ${seconds(receiver.firstOnlineAt - sender.startedAt)}, ${receiver.devicesOnline === options.fleetDevices ? "all" : "last of"} ${receiver.devicesOnline} at ${seconds(receiver.lastOnlineAt - sender.startedAt)}; ${senderSide}`,
      `  sessions: ${receiver.sessionsOnline} came online for ${receiver.devicesOnline} devices (${sender.retries} ${senders === "fortigates" ? "FortiGate retries" : "sessions failed"}); ended: ${ended || "none"}`,
      `  store: ${rate(receiver.check?.stored ?? 0)} stored, ${missing} of the generated missing (${undelivered} never acknowledged, still queued at the bound; ${lost} lost), ${receiver.check?.duplicated ?? "?"} twice`,
      `  peak RSS: analyzer ${analyzerRssMb.toFixed(0)} MB (V8 heap used up to ${receiver.heapUsedMaxMb.toFixed(0)} MB, buffers ${receiver.externalMaxMb.toFixed(0)} MB); senders' process ${(sender.maxRssKiB / 1024).toFixed(0)} MB (V8 heap used up to ${sender.heapUsedMaxMb.toFixed(0)} MB, buffers ${sender.externalMaxMb.toFixed(0)} MB); senders' event-loop delay p99 ${seconds(sender.loopDelayP99Ms)}, max ${seconds(sender.loopDelayMaxMs)}`
    ]
    return {
      rows: [{
        scenario,
        sink: "analyzer",
        senderRate: sender.rate,
        storedRate: receiver.rate,
        ratio: null,
        check: `${lost} / ${receiver.check?.duplicated ?? "?"}`,
        receiverRssMb: analyzerRssMb,
        senderRssMb: sender.maxRssKiB / 1024,
        target,
        verdict: missed.length === 0 ? "PASS" : `MISS (${missed.join(", ")})`
      }],
      notes
    }
  } catch (error) {
    return { rows: [failed(scenario, "analyzer", target, error)], notes: [] }
  }
}

/** Sender processes the spread fleet is split over. */
export const SPREAD_PROCESSES = 4

/** `fleetDevices` fazlab FortiGates over SPREAD_PROCESSES processes at once, against one analyzer. */
export const runOftpSpread = async (env: BenchEnv, options: OftpOptions): Promise<OftpResult> => {
  const count = FLEET_RATE_PER_DEVICE * options.fleetSeconds
  const scenario = `OFTP spread: ${options.fleetDevices.toLocaleString("en-US")} fazlab FortiGates over ${SPREAD_PROCESSES} processes x ${FLEET_RATE_PER_DEVICE}/s x ${options.fleetSeconds} s`
  const target = `all online, all stored once, each process's RSS < ${FLEET_RSS_TARGET_MB} MB`
  const per = Math.ceil(options.fleetDevices / SPREAD_PROCESSES)
  try {
    const run = await withReceiver(env, "analyzer", path.join(env.tmp, "oftp-spread"), "oftp-spread-analyzer", async (port) => {
      const parts = await Promise.all(Array.from({ length: SPREAD_PROCESSES }, (_, i) => {
        const devices = Math.min(per, options.fleetDevices - i * per)
        const args = ["--devices", String(devices), "--first", String(i * per), "--rate", String(FLEET_RATE_PER_DEVICE), "--count", String(count), "--max-seconds", String(options.fleetSeconds + 45)]
        return fleet(env, port, args, `oftp-spread-senders-${i + 1}`)
      }))
      return { sender: parts.map((part) => part.sender), expect: Object.assign({}, ...parts.map((part) => part.expect)) as Record<string, number> }
    })
    const senders = run.sender
    const { receiver } = run
    const sum = (pick: (report: OftpFleetReport) => number) => senders.reduce((total, report) => total + pick(report), 0)
    const generated = sum((report) => report.generated)
    const acked = sum((report) => report.acked)
    const complete = sum((report) => report.complete)
    const missing = receiver.check?.missing ?? generated
    const lost = Math.max(0, missing - (generated - acked))
    const senderRssMb = Math.max(...senders.map((report) => report.maxRssKiB / 1024))
    const analyzerRssMb = receiver.maxRssKiB / 1024
    const missed: string[] = []
    if (receiver.devicesOnline < options.fleetDevices) missed.push(`${receiver.devicesOnline} online`)
    if (complete < options.fleetDevices) missed.push(`${complete} devices done`)
    if (lost > 0 || (receiver.check?.duplicated ?? 0) > 0) missed.push("loss")
    if (analyzerRssMb >= FLEET_RSS_TARGET_MB) missed.push("analyzer RSS")
    if (senderRssMb >= FLEET_RSS_TARGET_MB) missed.push("senders' RSS")
    const firstAt = Math.min(...senders.map((report) => report.firstAckAt))
    const lastAt = Math.max(...senders.map((report) => report.lastAckAt))
    return {
      rows: [{
        scenario,
        sink: "analyzer",
        senderRate: lastAt > firstAt ? (acked * 1000) / (lastAt - firstAt) : null,
        storedRate: receiver.rate,
        ratio: null,
        check: `${lost} / ${receiver.check?.duplicated ?? "?"}`,
        receiverRssMb: analyzerRssMb,
        senderRssMb,
        target,
        verdict: missed.length === 0 ? "PASS" : `MISS (${missed.join(", ")})`
      }],
      notes: [
        `${scenario}: ${rate(generated)} generated, ${rate(acked)} acknowledged, ${rate(receiver.check?.stored ?? 0)} stored, ${receiver.devicesOnline} devices online at the analyzer, ` +
          `${complete} done; sender processes' RSS ${senders.map((report) => (report.maxRssKiB / 1024).toFixed(0)).join(", ")} MB`
      ]
    }
  } catch (error) {
    return { rows: [failed(scenario, "analyzer", target, error)], notes: [] }
  }
}

/** The fleet of fazlab FortiGates and the analyzer as one lab in one process, as `fazlab run` holds them. */
export const runOftpLab = async (env: BenchEnv, options: OftpOptions): Promise<OftpResult> => {
  const count = FLEET_RATE_PER_DEVICE * options.fleetSeconds
  const scenario = `OFTP one lab: analyzer + ${options.fleetDevices.toLocaleString("en-US")} fazlab FortiGates x ${FLEET_RATE_PER_DEVICE}/s x ${options.fleetSeconds} s`
  const target = `all stored once, the process's RSS < ${ONE_LAB_RSS_TARGET_MB} MB`
  const args = [
    "--with-analyzer", path.join(env.tmp, "oftp-lab"),
    "--devices", String(options.fleetDevices),
    "--rate", String(FLEET_RATE_PER_DEVICE),
    "--count", String(count),
    "--max-seconds", String(options.fleetSeconds + 45)
  ]
  const child = env.spawn([FLEET, ...args], profileFlags(env, "oftp-lab"))
  try {
    const run = await child.next<OftpFleetReport>((value) => value["type"] === "oftp-fleet", REPORT_TIMEOUT_MS)
    await bounded(child.exited, 15_000)
    const check = run.check ?? { stored: 0, missing: run.generated, duplicated: 0 }
    // As for the fleets: what was never acknowledged is late (queued at the bound), not lost.
    const lost = Math.max(0, check.missing - (run.generated - run.acked))
    const rssMb = run.maxRssKiB / 1024
    const missed: string[] = []
    if (run.complete < options.fleetDevices) missed.push(`${run.complete} devices done`)
    if (lost > 0 || check.duplicated > 0) missed.push("loss")
    if (rssMb >= ONE_LAB_RSS_TARGET_MB) missed.push("RSS")
    return {
      rows: [{
        scenario,
        sink: "one process",
        senderRate: run.rate,
        storedRate: null,
        ratio: null,
        check: `${lost} / ${check.duplicated}`,
        receiverRssMb: rssMb,
        senderRssMb: null,
        target,
        verdict: missed.length === 0 ? "PASS" : `MISS (${missed.join(", ")})`
      }],
      notes: [
        `${scenario}: ${rate(run.generated)} generated, ${rate(run.acked)} acknowledged, ${rate(check.stored)} stored, ${run.online} online (all at ${(run.allOnlineMs / 1000).toFixed(1)} s), ` +
          `${run.retries} retries; V8 heap used up to ${run.heapUsedMaxMb.toFixed(0)} MB, buffers ${run.externalMaxMb.toFixed(0)} MB; event-loop delay p99 ${(run.loopDelayP99Ms / 1000).toFixed(1)} s`
      ]
    }
  } catch (error) {
    return { rows: [failed(scenario, "one process", target, error)], notes: [] }
  } finally {
    await env.stop(child)
  }
}

export const printOftpTable = (rows: ReadonlyArray<OftpRow>, write: (text: string) => void): void => {
  const header = ["scenario", "sink", "acked rec/s", "stored rec/s", "ratio", "lost / twice", "receiver RSS MB", "sender RSS MB", "target", "result"]
  const cells = rows.map((row) => [
    row.scenario,
    row.sink,
    row.senderRate === null ? "" : rate(row.senderRate),
    row.storedRate === null ? "" : rate(row.storedRate),
    row.ratio === null ? "" : row.ratio.toFixed(2),
    row.check,
    row.receiverRssMb === null ? "" : row.receiverRssMb.toFixed(0),
    row.senderRssMb === null ? "" : row.senderRssMb.toFixed(0),
    row.target,
    row.verdict
  ])
  for (const line of formatTable(header, cells, new Set([2, 3, 4, 5, 6, 7]))) write(line)
}
