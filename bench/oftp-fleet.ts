/**
 * The OFTP benchmark's FortiGates: one process holding `devices` emulated FortiGates (a lab of
 * its own, in memory) that log over OFTP to an analyzer in another process:
 * `node bench/oftp-fleet.ts --port P [--devices N] [--first I] [--rate R] [--count C] [--queue-size Q] [--max-seconds S]`.
 *
 * Each FortiGate (`fgt-0001`, ... with serials `FGT60FTK2100nnnn`) generates `count` logs at
 * `rate` per second, `upload-option realtime`, `certificate-verification disable`, and is done
 * when the analyzer has acknowledged all of them. The process waits (on the lab's events, never a
 * fixed sleep) until every FortiGate is done or `max-seconds` ran out, prints one JSON line
 * (`OftpFleetReport`: time to get every session online, records acknowledged and their rate,
 * peak RSS, event-loop delay), closes its lab (CLOSE to the analyzer) and exits.
 *
 * With `--devices 1 --rate 200000` it is one fazlab FortiGate going as fast as it can generate.
 * `--first I` numbers its FortiGates from the I-th (from 0): several fleet processes then log
 * to one analyzer with names and serials of their own (`spreadFleet` in `oftp-run.ts`).
 *
 * With `--with-analyzer DIR` instead of `--port`, the analyzer is in the same lab (`faz-1`, its
 * file store in DIR): the fleet and the analyzer as one process, as `fazlab run` holds them. The
 * report then also says what the analyzer's store holds of each FortiGate (`check`).
 */
import { monitorEventLoopDelay } from "node:perf_hooks"
import { parseArgs } from "node:util"
import { Effect, Exit, Scope } from "effect"
import type { LabEvent } from "../src/events/events.ts"
import { Lab } from "../src/lab/lab.ts"
import { parseScenario } from "../src/lab/scenario/load.ts"
import { RealLabClock } from "../src/machines/clock.ts"

import { FLEET_OPTIONS, positiveWholeNumbers, usage } from "./cli-args.ts"
import { MemoryPeaks, now, type ProcessLoad, processLoad } from "./measure.ts"
/** With the process's load (`ProcessLoad`: peak RSS, V8 heap and buffers sampled every 250 ms, event-loop delay). */
export interface OftpFleetReport extends ProcessLoad {
  readonly type: "oftp-fleet"
  readonly devices: number
  /** Wall-clock ms (performance.timeOrigin based) just before the lab was started. */
  readonly startedAt: number
  /** Records per device the run asked for. */
  readonly count: number
  /** FortiGates whose link reached `online` at least once. */
  readonly online: number
  /** From the call that starts the lab: to the lab being up, to the first and to the last FortiGate online (ms). */
  readonly labStartMs: number
  readonly firstOnlineMs: number
  readonly allOnlineMs: number
  /** Links that went to `retrying` (a failed connect or a lost link). */
  readonly retries: number
  /** Records generated (queued) and acknowledged, summed over the FortiGates. */
  readonly generated: number
  /** Records generated, by FortiGate (its hostname, the `device` of its stored logs). */
  readonly generatedBy: Readonly<Record<string, number>>
  readonly acked: number
  /** FortiGates with all `count` records acknowledged. */
  readonly complete: number
  /** Records dropped from full queues. */
  readonly dropped: number
  /** Acknowledged records per second from the first `logs-acked` event to the last one. */
  readonly rate: number
  readonly firstAckAt: number
  readonly lastAckAt: number
  /** True when `max-seconds` ran out before every FortiGate was done. */
  readonly aborted: boolean
  /** With the analyzer in the lab: its store after the run, summed over the FortiGates (else null). */
  readonly check: { readonly stored: number; readonly missing: number; readonly duplicated: number } | null
}

export const fleetDeviceName = (index: number): string => `fgt-${String(index + 1).padStart(4, "0")}`

/** What the command line asks for (the light devices of `oftp-swarm.ts` take the same, but `queueSize`). */
export interface FleetOptions {
  /** The analyzer's OFTP port, or null for an analyzer in the lab (its store in `analyzerDir`). */
  readonly port: number | null
  readonly analyzerDir: string | null
  readonly devices: number
  /** The index (from 0) of its first FortiGate. */
  readonly first: number
  readonly rate: number
  readonly count: number
  readonly queueSize: number
  readonly maxSeconds: number
}

/** The analyzer's name in a lab that holds it. */
const ANALYZER = "faz-1"

const fleetYaml = (options: FleetOptions): string => {
  const lines = ["name: oftp-fleet", "devices:"]
  if (options.port === null) lines.push(`  ${ANALYZER}: { kind: fortianalyzer, oftp: { auto-authorize: true } }`)
  const server = options.port === null ? ANALYZER : `"127.0.0.1:${options.port}"`
  for (let i = options.first; i < options.first + options.devices; i++) {
    const serial = `FGT60FTK21${String(i + 1).padStart(6, "0")}`
    lines.push(
      `  ${fleetDeviceName(i)}: { kind: fortigate, serial: ${serial}, fortianalyzer: { server: ${server}, ` +
        `certificate-verification: disable, upload-option: realtime, rate: ${options.rate}/s, count: ${options.count}, ` +
        `queue-size: ${options.queueSize} } }`
    )
  }
  return `${lines.join("\n")}\n`
}

/** Follows the lab's events: who is online, what is acknowledged, and when every FortiGate is done. */
class Progress {
  readonly #count: number
  readonly #devices: number
  readonly online = new Map<string, number>()
  readonly acked = new Map<string, number>()
  complete = 0
  retries = 0
  dropped = 0
  firstAckAt = 0
  firstAckCount = 0
  lastAckAt = 0
  #onDone: (() => void) | null = null

  constructor(devices: number, count: number) {
    this.#devices = devices
    this.#count = count
  }

  get done(): boolean {
    return this.complete >= this.#devices
  }

  whenDone(callback: () => void): void {
    if (this.done) callback()
    else this.#onDone = callback
  }

  readonly onEvent = (event: LabEvent): void => {
    switch (event.type) {
      case "oftp-link":
        if (event.state === "online" && !this.online.has(event.device)) this.online.set(event.device, now())
        else if (event.state === "retrying") this.retries++
        return
      case "logs-acked": {
        const before = this.acked.get(event.device) ?? 0
        this.acked.set(event.device, event.total)
        const at = now()
        if (this.firstAckAt === 0) {
          this.firstAckAt = at
          this.firstAckCount = event.total
        }
        this.lastAckAt = at
        if (before < this.#count && event.total >= this.#count) {
          this.complete++
          if (this.done) this.#onDone?.()
        }
        return
      }
      case "logs-dropped":
        this.dropped += event.count
        return
      default:
        return
    }
  }
}

/**
 * Acknowledged records per second from the first acknowledgement to the last, the first batch
 * left out. When one acknowledgement covered everything (a single FortiGate that generated its
 * whole count in one stalled tick), there is no such span: then from the first device online.
 */
const ackRate = (acked: number, progress: Progress, firstOnlineAt: number): number => {
  const span = progress.lastAckAt - progress.firstAckAt
  if (span > 0) return ((acked - progress.firstAckCount) * 1000) / span
  const sinceOnline = progress.lastAckAt - firstOnlineAt
  return firstOnlineAt > 0 && sinceOnline > 0 ? (acked * 1000) / sinceOnline : 0
}

const run = async (options: FleetOptions): Promise<OftpFleetReport> => {
  const progress = new Progress(options.devices, options.count)
  const scenario = parseScenario(fleetYaml(options), "oftp-fleet.yaml", { stepsRequired: false })
  const loop = monitorEventLoopDelay({ resolution: 10 })
  loop.enable()
  const memory = new MemoryPeaks().every(250)
  const startedAt = now()
  const scope = await Effect.runPromise(Scope.make())
  const lab = await Effect.runPromise(
    Scope.provide(scope)(
      Lab.make({ scenario, dataDir: options.analyzerDir, portBase: "ephemeral", addressing: "shared", clock: new RealLabClock(), onEvent: progress.onEvent })
    )
  )
  const labStartMs = now() - startedAt
  const aborted = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(true), options.maxSeconds * 1000)
    progress.whenDone(() => {
      clearTimeout(timer)
      resolve(false)
    })
  })
  loop.disable()
  memory.stop()
  const generatedBy: Record<string, number> = {}
  let generated = 0
  const store = options.port === null ? lab.analyzer(ANALYZER)?.store ?? null : null
  const check = { stored: 0, missing: 0, duplicated: 0 }
  for (let i = options.first; i < options.first + options.devices; i++) {
    const name = fleetDeviceName(i)
    const sent = lab.sender(name)?.sentTo(options.port === null ? ANALYZER : `127.0.0.1:${options.port}`) ?? 0
    generatedBy[name] = sent
    generated += sent
    const report = store?.sequenceReport(name, sent)
    if (report !== undefined) {
      check.stored += report.stored
      check.missing += report.missing
      check.duplicated += report.duplicated
    }
  }
  const onlineTimes = [...progress.online.values()]
  const acked = [...progress.acked.values()].reduce((sum, n) => sum + n, 0)
  const report: OftpFleetReport = {
    type: "oftp-fleet",
    devices: options.devices,
    startedAt,
    count: options.count,
    online: onlineTimes.length,
    labStartMs,
    firstOnlineMs: onlineTimes.length === 0 ? 0 : Math.min(...onlineTimes) - startedAt,
    allOnlineMs: onlineTimes.length < options.devices ? 0 : Math.max(...onlineTimes) - startedAt,
    retries: progress.retries,
    generated,
    generatedBy,
    acked,
    complete: progress.complete,
    dropped: progress.dropped,
    rate: ackRate(acked, progress, onlineTimes.length === 0 ? 0 : Math.min(...onlineTimes)),
    firstAckAt: progress.firstAckAt,
    lastAckAt: progress.lastAckAt,
    ...processLoad(memory, loop),
    aborted,
    check: store === null ? null : check
  }
  process.stdout.write(`${JSON.stringify(report)}\n`)
  await Effect.runPromise(Scope.close(scope, Exit.void))
  return report
}

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: { ...FLEET_OPTIONS, "queue-size": { type: "string", default: "100000" }, "with-analyzer": { type: "string" }, first: { type: "string", default: "0" } }
  })
  const first = Number(values.first)
  const analyzerDir = values["with-analyzer"] ?? null
  const numbers = positiveWholeNumbers([analyzerDir === null ? values.port : "1", values.devices, values.rate, values.count, values["queue-size"], values["max-seconds"]])
  if (numbers === null || !Number.isInteger(first) || first < 0) {
    usage("node bench/oftp-fleet.ts --port P | --with-analyzer DIR [--devices N] [--first I] [--rate R] [--count C] [--queue-size Q] [--max-seconds S] (positive whole numbers; I from 0)")
    return
  }
  const [port, devices, rate, count, queueSize, maxSeconds] = numbers as [number, number, number, number, number, number]
  await run({ port: analyzerDir === null ? port : null, analyzerDir, devices, first, rate, count, queueSize, maxSeconds })
}

if (import.meta.main) await main()
