/**
 * The probe matrix against a running lab: for each flow, where it goes (the lab's listeners in
 * the control channel's snapshot), where it is checked from (this process, or, in a lab whose
 * devices run in network namespaces, the namespace of a lab device of the flow's source role,
 * by re-executing `fazlab probe --target` there: DESIGN-12, contract 3), the check itself
 * (`checks.ts`), and the analyzer's confirmation of every syslog probe message, read back over
 * the control channel by its token.
 *
 * Which lab devices play a flow's roles is `roles.ts`'s answer.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type { ControlClient } from "../control/client.ts"
import type { DeviceSummary, ListenerSummary, SnapshotMessage } from "../control/protocol.ts"
import { fortianalyzer } from "../devices/fortianalyzer/kind.ts"
import { type Attempt, type CheckName, checkOf, runCheck } from "./checks.ts"
import { type Flow, listenerPortKey } from "./flows.ts"
import type { Expectations } from "./expectations.ts"
import { destinationsOf, sourcesOf } from "./roles.ts"
import { type FlowResult, type Outcome, ProbeReport, summarize, type TargetResult, verdictOf } from "./report.ts"

export interface ProbeSettings {
  /** How long one check (and one confirmation) may take. */
  readonly timeoutMs: number
  /** How many flows are checked at once. */
  readonly concurrency: number
  readonly expectations: Expectations
}

/** An address a flow is checked against. */
interface Target {
  /** The lab device or HA group that listens there. */
  readonly device: string
  readonly address: string
  readonly port: number
  /** The analyzer whose store confirms a syslog probe message (undefined: the lab's default). */
  readonly analyzer: string | undefined
}

export type FlowPlan =
  | { readonly kind: "skip"; readonly reason: string }
  | {
    readonly kind: "probe"
    readonly check: CheckName
    /** null: from this process. */
    readonly source: { readonly device: string; readonly netns: string } | null
    readonly targets: ReadonlyArray<Target>
    /** HA members that are not the acting primary: they must not listen (and do not). */
    readonly silent: ReadonlyArray<TargetResult>
  }

/** The namespace a snapshot device runs in (netns placement adds it to the snapshot), if any. */
export const netnsOf = (device: DeviceSummary): string | undefined => {
  const value: unknown = (device as { readonly netns?: unknown }).netns
  return typeof value === "string" && value.length > 0 ? value : undefined
}

/** Where a flow goes and where it is checked from in this lab, or why it is not probed. */
export const planFlow = (flow: Flow, snapshot: Pick<SnapshotMessage, "devices" | "listeners">): FlowPlan => {
  if (!flow.rows.some((row) => row.status === "emulated")) {
    const status = flow.rows[0]?.status ?? "catalog-only"
    return {
      kind: "skip",
      reason: status === "planned"
        ? "planned: fazlab does not serve this row yet"
        : status === "represented"
        ? `represented: a flow from the ${flow.from} to ${flow.host ?? flow.to}, not from or to the analyzer; fazlab emulates neither side`
        : `catalog-only: fazlab has no device for the ${flow.to} side of this row`
    }
  }
  const destinations = destinationsOf(snapshot.devices, flow)
  // A URL of an emulated row is served by the lab's device for it (a fortiguard under productapi.fortinet.com ...).
  if (destinations.length === 0) return { kind: "skip", reason: flow.host === null ? `the lab has no ${flow.to} device` : `an Internet URL (${flow.host}): the lab has no ${flow.to} device to answer it` }
  const check = checkOf(flow)
  if (check === null) {
    return { kind: "skip", reason: `no application-level check for ${flow.transport.toUpperCase()}/${flow.port} of row ${flow.rows[0]?.id ?? "?"} (src/probe/checks.ts lists them)` }
  }
  const ids = new Set(destinations.map((device) => device.id))
  const groups = new Set(destinations.flatMap((device) => (device.ha === undefined ? [] : [device.ha.group])))
  const primaryOf = (group: string) => snapshot.devices.find((device) => device.ha?.group === group && device.ha.role === "primary")?.id
  const isAnalyzer = (id: string) => snapshot.devices.find((device) => device.id === id)?.kind === fortianalyzer.name
  const key = listenerPortKey(flow)
  const seen = new Set<string>()
  const targets: Array<Target> = []
  for (const listener of snapshot.listeners) {
    if (listener.port !== key || !(ids.has(listener.device) || groups.has(listener.device))) continue
    const at = `${listener.address}:${listener.actualPort}`
    if (seen.has(at)) continue
    seen.add(at)
    targets.push({
      device: listener.device,
      address: listener.address,
      port: listener.actualPort,
      analyzer: groups.has(listener.device) ? primaryOf(listener.device) : isAnalyzer(listener.device) ? listener.device : undefined
    })
  }
  const listening = new Set(snapshot.listeners.filter((listener: ListenerSummary) => listener.port === key).map((listener) => listener.device))
  const silent: Array<TargetResult> = flow.primaryOnly
    ? destinations
      .filter((device) => device.ha !== undefined && device.ha.role !== "primary" && !listening.has(device.id))
      .map((device) => ({
        device: device.id,
        address: "-",
        port: 0,
        outcome: "not-listening" as const,
        detail: `${device.id} is not the acting primary (${device.ha?.role ?? "?"}) and does not listen on ${key}, as it should not`
      }))
    : []
  if (targets.length === 0) {
    return {
      kind: "skip",
      reason: flow.primaryOnly && silent.length > 0
        ? `no acting primary listens on ${key}`
        : `no ${flow.to} of the lab listens on ${key} (${destinations.map((device) => `${device.id} ${device.status}`).join(", ")})`
    }
  }
  if (!snapshot.devices.some((device) => netnsOf(device) !== undefined)) return { kind: "probe", check, source: null, targets, silent }
  const targetIds = new Set(targets.flatMap((target) => [target.device, ...snapshot.devices.filter((d) => d.ha?.group === target.device && d.ha.role === "primary").map((d) => d.id)]))
  const sources = sourcesOf(snapshot.devices, flow).filter((device) => netnsOf(device) !== undefined)
  const source = sources.find((device) => !targetIds.has(device.id)) ?? sources[0]
  const netns = source === undefined ? undefined : netnsOf(source)
  if (source === undefined || netns === undefined) return { kind: "skip", reason: `no ${flow.from} device of this namespace lab to probe from` }
  return { kind: "probe", check, source: { device: source.id, netns }, targets, silent }
}

/** What the matrix needs of the control channel: commands (stored logs) and events. */
export type LabLink = Pick<ControlClient, "command" | "onEvent" | "snapshot">

/**
 * Whether the analyzer stored a log carrying `token` within `timeoutMs`: asks at once, again after
 * every `logs-stored` event (one question at a time), and once more at the deadline.
 */
export const confirmStored = (lab: LabLink, token: string, analyzer: string | undefined, timeoutMs: number): Promise<boolean> =>
  new Promise((resolve) => {
    let done = false
    let busy = false
    let again = false
    const finish = (stored: boolean) => {
      if (done) return
      done = true
      clearTimeout(timer)
      stop()
      resolve(stored)
    }
    const ask = async (): Promise<boolean> => {
      try {
        const result = await lab.command({ name: "logs", text: token, limit: 1, ...(analyzer === undefined ? {} : { analyzer }) })
        return result.logs.length > 0
      } catch {
        // A refused query (no analyzer yet) or a closed channel: not confirmed (yet).
        return false
      }
    }
    const poke = async () => {
      if (done) return
      if (busy) {
        again = true
        return
      }
      busy = true
      again = false
      const stored = await ask()
      busy = false
      if (stored) return finish(true)
      if (again) return poke()
    }
    const stop = lab.onEvent((event) => {
      if (event.type === "logs-stored") void poke()
    })
    const timer = setTimeout(() => void ask().then(finish), timeoutMs)
    void poke()
  })

/** Aggregates a flow's per-address results into its outcome and detail. */
const conclude = (targets: ReadonlyArray<TargetResult>): { readonly outcome: Outcome; readonly detail: string } => {
  const probed = targets.filter((target) => target.outcome !== "not-listening")
  const outcome: Outcome = probed.some((t) => t.outcome === "sent")
    ? "sent"
    : probed.every((t) => t.outcome === "reachable")
    ? "reachable"
    : probed.every((t) => t.outcome === "unreachable")
    ? "unreachable"
    : "partial"
  const detail = targets.length === 1
    ? targets[0]?.detail ?? ""
    : targets.map((target) => (target.device === null ? target.detail : `${target.device}: ${target.detail}`)).join("; ")
  return { outcome, detail }
}

export const flowResult = (
  flow: Flow,
  expected: FlowResult["expected"],
  probedFrom: string,
  targets: ReadonlyArray<TargetResult>,
  durationMs: number,
  skipped?: string
): FlowResult => {
  const { outcome, detail } = skipped === undefined ? conclude(targets) : { outcome: "not-probed" as const, detail: skipped }
  return {
    id: flow.id,
    from: flow.from,
    to: flow.to,
    transport: flow.transport,
    port: flow.port,
    purpose: flow.purpose,
    rows: flow.rows.map((row) => row.id),
    expected,
    outcome,
    verdict: verdictOf(expected, outcome),
    detail,
    probedFrom,
    targets,
    durationMs
  }
}

/** Runs `work` over `items` with at most `limit` at once; results in the items' order. */
export const inPool = async <A, B>(items: ReadonlyArray<A>, limit: number, work: (item: A) => Promise<B>): Promise<ReadonlyArray<B>> => {
  const results: Array<B> = []
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await work(items[index] as A)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

/** The `fazlab` entry a namespace re-exec runs: bin/fazlab.js, two folders up from src/probe/, dist/probe/ or dist/bundle/. */
const FAZLAB_ENTRY = fileURLToPath(new URL("../../bin/fazlab.js", import.meta.url))

/** The command line that checks `flows` against `address` from inside namespace `netns` (contract 3). */
export const netnsCommand = (
  netns: string,
  address: string,
  flows: ReadonlyArray<{ readonly id: string; readonly portKey: string; readonly port: number }>,
  timeoutMs: number
): ReadonlyArray<string> => [
  "ip",
  "netns",
  "exec",
  netns,
  process.execPath,
  FAZLAB_ENTRY,
  "probe",
  "--target",
  address,
  "--rows",
  flows.map((flow) => flow.id).join(","),
  "--fazlab-peer",
  "--json",
  "--timeout",
  String(timeoutMs),
  ...[...new Map(flows.map((flow) => [flow.portKey, flow.port]))].flatMap(([key, port]) => ["--port", `${key}=${port}`])
]

const decodeReport = Schema.decodeUnknownResult(Schema.fromJsonString(ProbeReport))

/** Runs a re-exec line; each flow id's attempt, or the one sentence saying why the run failed. */
const runInNamespace = (argv: ReadonlyArray<string>, timeoutMs: number): Promise<ReadonlyMap<string, Attempt> | string> =>
  new Promise((resolve) => {
    const [file = "ip", ...args] = argv
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const decoded = decodeReport(stdout)
      if (Result.isFailure(decoded)) {
        const said = stderr.trim().split("\n")[0] ?? ""
        return resolve(`the probe in namespace ${argv[3] ?? "?"} failed (${said.length > 0 ? said : error?.message ?? "no report"})`)
      }
      resolve(new Map(decoded.success.flows.flatMap((flow) => {
        const target = flow.targets[0]
        if (target === undefined || target.outcome === "not-listening") return []
        const attempt: Attempt = { outcome: target.outcome, detail: target.detail, ...(target.token === undefined ? {} : { token: target.token }) }
        return [[flow.id, attempt] as const]
      })))
    })
  })

/** Checks one address from this process, or collects it for the namespace's re-exec. */
type Runner = (flow: Flow, plan: Extract<FlowPlan, { kind: "probe" }>, target: Target) => Promise<Attempt>

/**
 * A runner that batches the checks from one namespace to one address into one re-exec: the first
 * caller for a (namespace, address) pair waits one turn for the others, then runs them together.
 */
const namespaceRunner = (timeoutMs: number): Runner => {
  const batches = new Map<string, { readonly flows: Array<{ id: string; portKey: string; port: number }>; readonly result: Promise<ReadonlyMap<string, Attempt> | string> }>()
  return (flow, plan, target) => {
    const netns = plan.source?.netns ?? ""
    const key = `${netns} ${target.address}`
    let batch = batches.get(key)
    if (batch === undefined) {
      const flows: Array<{ id: string; portKey: string; port: number }> = []
      const result = new Promise<ReadonlyMap<string, Attempt> | string>((resolve) =>
        setImmediate(() => {
          // From here on, checks to this address make a new batch.
          batches.delete(key)
          resolve(runInNamespace(netnsCommand(netns, target.address, flows, timeoutMs), timeoutMs * (flows.length + 2)))
        })
      )
      batch = { flows, result }
      batches.set(key, batch)
    }
    batch.flows.push({ id: flow.id, portKey: listenerPortKey(flow), port: target.port })
    return batch.result.then((found) =>
      typeof found === "string"
        ? { outcome: "unreachable", detail: found }
        : found.get(flow.id) ?? { outcome: "unreachable", detail: `the probe in namespace ${netns} did not report ${flow.id}` }
    )
  }
}

/** The whole matrix of `flows` against the lab behind `lab`. */
export const probeLab = async (lab: LabLink, flows: ReadonlyArray<Flow>, settings: ProbeSettings): Promise<ProbeReport> => {
  const started = Date.now()
  const snapshot = lab.snapshot
  const inNamespace = namespaceRunner(settings.timeoutMs)
  const local: Runner = (flow, plan, target) => runCheck(plan.check, flow, { host: target.address, port: target.port, timeoutMs: settings.timeoutMs })
  const results = await inPool(flows, settings.concurrency, async (flow) => {
    const began = Date.now()
    const expected = settings.expectations.of(flow.id)
    const plan = planFlow(flow, snapshot)
    if (plan.kind === "skip") return flowResult(flow, expected, "-", [], 0, plan.reason)
    const run = plan.source === null ? local : inNamespace
    const targets = await Promise.all(plan.targets.map(async (target): Promise<TargetResult> => {
      const attempt = await run(flow, plan, target)
      const base = { device: target.device, address: target.address, port: target.port }
      if (attempt.outcome !== "sent" || attempt.token === undefined) return { ...base, outcome: attempt.outcome, detail: attempt.detail }
      const stored = await confirmStored(lab, attempt.token, target.analyzer, settings.timeoutMs)
      return {
        ...base,
        outcome: stored ? "reachable" : "unreachable",
        detail: stored
          ? `${target.analyzer ?? "the analyzer"} stored the probe message sent over ${flow.transport.toUpperCase()} to ${target.address}:${target.port}`
          : `${attempt.detail}, but ${target.analyzer ?? "the analyzer"} did not store it within ${settings.timeoutMs} ms`
      }
    }))
    const probedFrom = plan.source === null ? "this machine" : `${plan.source.device} (netns ${plan.source.netns})`
    return flowResult(flow, expected, probedFrom, [...targets, ...plan.silent], Date.now() - began)
  })
  return { probe: 1, lab: snapshot.lab, target: null, startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, flows: results, summary: summarize(results) }
}
