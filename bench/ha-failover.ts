/**
 * The HA failover part of `npm run bench` (`--only failover`), run by `bench/run.ts`: kills the
 * primary of a two-member HA group again and again on the real clock while two FortiGates log
 * over OFTP to the group's virtual IP, and measures each failover from outside.
 *
 * One in-memory lab in this process (kernel-chosen ports, one loopback address per member), as
 * `test/ha/failover.test.ts` runs it. Each round:
 *
 * 1. waits until the secondary is in sync and both FortiGates have had records acknowledged by
 *    the acting primary, then waits a random part of one hb-interval (so kills fall anywhere
 *    between two heartbeats);
 * 2. kills the primary (`kill`: no goodbye) and, from that moment, connects to both members'
 *    TCP/5199 in a tight loop: *kill to listening* is the first accepted connection on the new
 *    primary; a connect that finds both members accepting is counted as two listening;
 * 3. *kill to first log* is the new primary's first `logs-stored` event from a FortiGate after
 *    it became primary (the FortiGates reconnect to the VIP and resend what was not acknowledged);
 * 4. at the takeover, every record each FortiGate had acknowledged before the kill must already
 *    be in the new primary's store (`sequenceReport`);
 * 5. starts the killed member again: it rejoins as secondary and catches up.
 *
 * It stops after `rounds` rounds or `maxSeconds`, whichever comes first. Then the FortiGates are
 * paused and drained, and the acting primary's store is checked for every record each FortiGate
 * generated: lost and stored twice. Every wait is bounded; nothing sleeps for synchronisation.
 */
import { Effect, Exit, Scope } from "effect"
import type { FortiAnalyzer } from "../src/devices/fortianalyzer/analyzer.ts"
import type { FortiGate } from "../src/devices/fortigate/fortigate.ts"
import { Lab } from "../src/lab/lab.ts"
import type { Action } from "../src/lab/scenario/schema.ts"
import { parseScenario } from "../src/lab/scenario/load.ts"
import { RealLabClock } from "../src/machines/clock.ts"
import { dialTcp } from "../src/net/tcp.ts"

export interface FailoverOptions {
  readonly rounds: number
  readonly maxSeconds: number
  readonly hbIntervalMs: number
  readonly hbLostThreshold: number
  /** Records per second each of the two FortiGates generates. */
  readonly rate: number
}

export const FAILOVER_DEFAULTS: FailoverOptions = { rounds: 50, maxSeconds: 120, hbIntervalMs: 200, hbLostThreshold: 3, rate: 500 }

/** Added to hb-interval × hb-lost-threshold for the kill-to-listening target (p99). */
export const FAILOVER_MARGIN_MS = 100

export interface FailoverRound {
  readonly killed: string
  readonly promoted: string
  /** Kill to the new primary's `ha-role` event (the election, before it binds), ms. */
  readonly electedMs: number
  /** Kill to the first connection the new primary accepted on TCP/5199, ms. */
  readonly listeningMs: number
  /** Kill to the new primary's first stored FortiGate log, ms. */
  readonly firstLogMs: number
  /** Records acknowledged before the kill that were missing / twice on the new primary at its takeover. */
  readonly missingAtTakeover: number
  readonly twiceAtTakeover: number
  /** Connects that found both members accepting on TCP/5199. */
  readonly bothListening: number
}

export interface FailoverResult {
  readonly options: FailoverOptions
  readonly rounds: ReadonlyArray<FailoverRound>
  /** Why the run ended before `rounds` (time bound, or an error), or null. */
  readonly stoppedEarly: string | null
  /** Over the whole run, on the last primary after the FortiGates were paused and drained. */
  readonly generated: number
  readonly lost: number
  readonly duplicated: number
  readonly seconds: number
}

const FORTIGATES = ["fgt-1", "fgt-2"] as const
const MEMBERS = ["faz-a", "faz-b"] as const
/** Gap between two connect attempts of the observer: about 1 ms of resolution. */
const PROBE_GAP_MS = 1

const labYaml = (options: FailoverOptions): string => {
  const gate = (n: number) =>
    `  fgt-${n}: { kind: fortigate, fortianalyzer: { server: lab, serial: [FAZ-VM0000000001, FAZ-VM0000000002], rate: ${options.rate}/s, monitor-failure-retry-period: 100ms } }\n`
  return `name: bench-ha-failover
devices:
  faz-a: { kind: fortianalyzer, serial: FAZ-VM0000000001, oftp: { auto-authorize: true } }
  faz-b: { kind: fortianalyzer, serial: FAZ-VM0000000002, oftp: { auto-authorize: true } }
${gate(1)}${gate(2)}ha:
  lab: { members: [faz-a, faz-b], group-id: 9, hb-interval: ${options.hbIntervalMs}ms, hb-lost-threshold: ${options.hbLostThreshold} }
`
}

/** p-th percentile (nearest rank) of `values`; NaN when empty. */
export const percentile = (values: ReadonlyArray<number>, p: number): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `check` every 5 ms until it holds; rejects with `what` after `timeoutMs`. */
const until = async (check: () => boolean, timeoutMs: number, what: string): Promise<void> => {
  const deadline = performance.now() + timeoutMs
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`${what} within ${timeoutMs / 1000} s`)
    await delay(5)
  }
}

/** Does something accept on `device`'s TCP/5199? A plain connect, as a client outside would try. */
const accepts5199 = async (lab: Lab, device: string): Promise<boolean> => {
  const target = lab.plan.resolve(device, "tcp/5199")
  if (target.actualPort === 0) return false
  try {
    const socket = await dialTcp({ host: target.address, port: target.actualPort, timeoutMs: 500 })
    socket.destroy()
    return true
  } catch {
    return false
  }
}

const analyzerOf = (lab: Lab, id: string): FortiAnalyzer => {
  const found = lab.analyzer(id)
  if (found === undefined) throw new Error(`bug: no analyzer ${id}`)
  return found
}

const gateOf = (lab: Lab, id: string): FortiGate => lab.device(id) as FortiGate

const ackedBy = (fortigate: FortiGate): number => (fortigate.faz?.sent ?? 0) - (fortigate.faz?.queued ?? 0)

const perform = (lab: Lab, action: Action): Promise<void> => Effect.runPromise(lab.perform(action))

/** The group is ready for a kill: one primary, the other member in sync, both FortiGates acknowledged since `since`. */
const ready = async (lab: Lab, since: ReadonlyMap<string, number>): Promise<{ primary: string; secondary: string }> => {
  await until(() => MEMBERS.some((id) => analyzerOf(lab, id).ha?.role() === "primary"), 5000, "no member became primary")
  const primary = MEMBERS.find((id) => analyzerOf(lab, id).ha?.role() === "primary") as string
  const secondary = MEMBERS.find((id) => id !== primary) as string
  await until(() => analyzerOf(lab, secondary).ha?.phase() === "inSync", 10_000, `${secondary} did not catch up with ${primary}`)
  await until(
    () => FORTIGATES.every((id) => ackedBy(gateOf(lab, id)) > (since.get(id) ?? 0)),
    10_000,
    `the FortiGates had nothing acknowledged by ${primary}`
  )
  return { primary, secondary }
}

const round = async (lab: Lab, options: FailoverOptions): Promise<FailoverRound> => {
  const before = new Map(FORTIGATES.map((id) => [id, ackedBy(gateOf(lab, id))]))
  const { primary, secondary } = await ready(lab, before)
  await delay(Math.random() * options.hbIntervalMs)
  const ackedAtKill = new Map(FORTIGATES.map((id) => [id, ackedBy(gateOf(lab, id))]))
  // Filled in by the bus subscriber and the observer below.
  const seen = { promotedAt: -1, firstLogAt: -1, listeningAt: -1, missing: 0, twice: 0, bothListening: 0 }
  const unsubscribe = lab.bus.subscribe((event) => {
    if (event.type === "ha-role" && event.device === secondary && event.role === "primary" && seen.promotedAt < 0) {
      seen.promotedAt = performance.now()
      for (const id of FORTIGATES) {
        const report = analyzerOf(lab, secondary).store.sequenceReport(id, ackedAtKill.get(id) ?? 0)
        seen.missing += report.missing
        seen.twice += report.duplicated
      }
    }
    if (event.type === "logs-stored" && event.device === secondary && seen.promotedAt >= 0 && seen.firstLogAt < 0 && event.from.startsWith("fgt-")) {
      seen.firstLogAt = performance.now()
    }
  })

  const killedAt = performance.now()
  const deadline = killedAt + 10 * options.hbIntervalMs * options.hbLostThreshold + 5000
  const observer = (async () => {
    while (seen.listeningAt < 0 && performance.now() < deadline) {
      const [a, b] = await Promise.all([accepts5199(lab, primary), accepts5199(lab, secondary)])
      if (b) seen.listeningAt = performance.now()
      if (a && b) seen.bothListening++
      await delay(PROBE_GAP_MS)
    }
  })()
  try {
    await perform(lab, { kill: primary })
    await observer
    if (seen.listeningAt < 0) throw new Error(`${secondary} did not accept on TCP/5199 within ${(deadline - killedAt) / 1000} s of the kill`)
    await until(() => seen.firstLogAt >= 0, 10_000, `${secondary} stored no FortiGate log after it became primary`)
  } finally {
    unsubscribe()
  }
  await perform(lab, { start: primary })
  return {
    killed: primary,
    promoted: secondary,
    electedMs: seen.promotedAt - killedAt,
    listeningMs: seen.listeningAt - killedAt,
    firstLogMs: seen.firstLogAt - killedAt,
    missingAtTakeover: seen.missing,
    twiceAtTakeover: seen.twice,
    bothListening: seen.bothListening
  }
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** Runs the failover benchmark; `progress` gets one line per round. */
export const runFailoverBench = async (options: FailoverOptions, progress: (line: string) => void): Promise<FailoverResult> => {
  const started = performance.now()
  const scope = await Effect.runPromise(Scope.make())
  const rounds: FailoverRound[] = []
  let stoppedEarly: string | null = null
  let generated = 0
  let lost = 0
  let duplicated = 0
  try {
    const lab = await Effect.runPromise(
      Scope.provide(scope)(
        Lab.make({
          scenario: parseScenario(labYaml(options), "bench-ha-failover.yaml", { stepsRequired: false }),
          dataDir: null,
          portBase: "ephemeral",
          addressing: "per-device",
          clock: new RealLabClock()
        })
      )
    )
    try {
      while (rounds.length < options.rounds) {
        if (performance.now() - started > options.maxSeconds * 1000) {
          stoppedEarly = `time bound of ${options.maxSeconds} s reached after ${rounds.length} rounds`
          break
        }
        const figures = await round(lab, options)
        rounds.push(figures)
        progress(
          `  round ${rounds.length}: ${figures.killed} killed, ${figures.promoted} listening after ${figures.listeningMs.toFixed(0)} ms, ` +
            `first log after ${figures.firstLogMs.toFixed(0)} ms` +
            (figures.missingAtTakeover + figures.twiceAtTakeover > 0
              ? `; ${figures.missingAtTakeover} acknowledged records missing, ${figures.twiceAtTakeover} twice on ${figures.promoted} at takeover`
              : "")
        )
      }
    } catch (error) {
      stoppedEarly = `round ${rounds.length + 1} failed: ${message(error)}`
    }
    // Drain: pause both FortiGates, wait until nothing is queued, then check the acting primary.
    for (const id of FORTIGATES) gateOf(lab, id).pause()
    try {
      await until(() => FORTIGATES.every((id) => (gateOf(lab, id).faz?.queued ?? 0) === 0), 20_000, "the FortiGates' queues did not drain")
    } catch (error) {
      stoppedEarly = stoppedEarly ?? message(error)
    }
    const primary = lab.analyzer("lab")
    for (const id of FORTIGATES) {
      const sent = gateOf(lab, id).sentTo("lab")
      generated += sent
      if (primary === undefined) {
        lost += sent
        continue
      }
      const report = primary.store.sequenceReport(id, sent)
      lost += report.missing
      duplicated += report.duplicated
    }
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
  return { options, rounds, stoppedEarly, generated, lost, duplicated, seconds: (performance.now() - started) / 1000 }
}

/** The target for kill to listening (p99), ms. */
export const failoverTargetMs = (options: FailoverOptions): number => options.hbIntervalMs * options.hbLostThreshold + FAILOVER_MARGIN_MS

/** "PASS", or "MISS (...)" with what was missed. */
export const failoverVerdict = (result: FailoverResult): string => {
  const missed: string[] = []
  const listening = result.rounds.map((r) => r.listeningMs)
  if (result.rounds.length < result.options.rounds) missed.push(`${result.rounds.length} of ${result.options.rounds} rounds`)
  if (!(percentile(listening, 99) < failoverTargetMs(result.options))) missed.push("p99 kill to listening")
  const atTakeover = result.rounds.reduce((sum, r) => sum + r.missingAtTakeover + r.twiceAtTakeover, 0)
  if (atTakeover > 0) missed.push(`${atTakeover} acknowledged records missing or twice at takeover`)
  if (result.lost > 0 || result.duplicated > 0) missed.push(`${result.lost} lost, ${result.duplicated} twice`)
  const both = result.rounds.reduce((sum, r) => sum + r.bothListening, 0)
  if (both > 0) missed.push(`both members listening on TCP/5199 ${both} times`)
  return missed.length === 0 ? "PASS" : `MISS (${missed.join(", ")})`
}

const ms = (value: number): string => (Number.isNaN(value) ? "-" : `${value.toFixed(0)} ms`)

const maxOf = (values: ReadonlyArray<number>): number => (values.length === 0 ? Number.NaN : Math.max(...values))

/** The printed block: figures, target and verdict. */
export const failoverLines = (result: FailoverResult): ReadonlyArray<string> => {
  const { options, rounds } = result
  const elected = rounds.map((r) => r.electedMs)
  const listening = rounds.map((r) => r.listeningMs)
  const firstLog = rounds.map((r) => r.firstLogMs)
  const sum = (pick: (r: FailoverRound) => number) => rounds.reduce((total, r) => total + pick(r), 0)
  return [
    `HA failover: ${rounds.length} kills of the primary, hb-interval ${options.hbIntervalMs} ms, hb-lost-threshold ${options.hbLostThreshold}, ` +
      `2 FortiGates at ${options.rate}/s over OFTP to the VIP, real clock, ${result.seconds.toFixed(0)} s` +
      (result.stoppedEarly === null ? "" : ` (stopped early: ${result.stoppedEarly})`),
    `  kill to election (ha-role event)            p50 ${ms(percentile(elected, 50))}  p99 ${ms(percentile(elected, 99))}  max ${ms(maxOf(elected))}`,
    `  kill to new primary accepting on TCP/5199   p50 ${ms(percentile(listening, 50))}  p99 ${ms(percentile(listening, 99))}  ` +
      `max ${ms(maxOf(listening))}  (target p99 < ${failoverTargetMs(options)} ms)`,
    `  kill to first FortiGate log stored on it    p50 ${ms(percentile(firstLog, 50))}  p99 ${ms(percentile(firstLog, 99))}  max ${ms(maxOf(firstLog))}`,
    `  acknowledged before the kill, not on the new primary at takeover: ${sum((r) => r.missingAtTakeover)} missing, ${sum((r) => r.twiceAtTakeover)} twice ` +
      `(in ${rounds.filter((r) => r.missingAtTakeover + r.twiceAtTakeover > 0).length} of ${rounds.length} rounds; a hole counts again in every round its member takes over)`,
    `  whole run, on the last primary: ${result.generated.toLocaleString("en-US")} generated, ${result.lost} lost, ${result.duplicated} stored twice; ` +
      `both members listening on TCP/5199: ${sum((r) => r.bothListening)} times`,
    `  result: ${failoverVerdict(result)}`
  ]
}
