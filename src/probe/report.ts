/**
 * What a probe found, as data (`ProbeReport`, an Effect Schema, so `--diff` and the parent of a
 * namespace re-exec decode it rather than trust it) and as output: the readable matrix, JSON,
 * JUnit XML with one test case per flow (named by the flow's stable id), and the difference
 * between two reports (which flows a rule change opened or closed).
 */
import * as Schema from "effect/Schema"
import { escapeAttribute, escapeText } from "../lab/report/junit.ts"

export const Expected = Schema.Literals(["allow", "deny"])
export type Expected = typeof Expected.Type

/**
 * A flow's outcome: `reachable` (every address answered at the application level), `unreachable`
 * (none did), `partial` (some did), `sent` (syslog left; only a `--fazlab-peer` run reports it,
 * for its parent to confirm), `not-probed` (the detail says why).
 */
export const Outcome = Schema.Literals(["reachable", "unreachable", "partial", "sent", "not-probed"])
export type Outcome = typeof Outcome.Type

export const Verdict = Schema.Literals(["pass", "fail", "skipped"])
export type Verdict = typeof Verdict.Type

/** One address a flow was checked against. `not-listening`: an HA member that is not the acting primary, as it should be. */
export const TargetResult = Schema.Struct({
  device: Schema.NullOr(Schema.String),
  address: Schema.String,
  port: Schema.Number,
  outcome: Schema.Literals(["reachable", "unreachable", "sent", "not-listening"]),
  detail: Schema.String,
  token: Schema.optionalKey(Schema.String)
})
export type TargetResult = typeof TargetResult.Type

export const FlowResult = Schema.Struct({
  id: Schema.String,
  from: Schema.String,
  to: Schema.String,
  transport: Schema.String,
  port: Schema.Number,
  purpose: Schema.String,
  rows: Schema.Array(Schema.String),
  expected: Expected,
  outcome: Outcome,
  verdict: Verdict,
  detail: Schema.String,
  /** "this machine", or the lab device (and its namespace) the check ran from. */
  probedFrom: Schema.String,
  targets: Schema.Array(TargetResult),
  durationMs: Schema.Number
})
export type FlowResult = typeof FlowResult.Type

export const ProbeReport = Schema.Struct({
  /** The report format's version. */
  probe: Schema.Literal(1),
  /** The lab probed, or null for `--target`. */
  lab: Schema.NullOr(Schema.String),
  /** The host `--target` probed, or null. */
  target: Schema.NullOr(Schema.String),
  startedAt: Schema.String,
  durationMs: Schema.Number,
  flows: Schema.Array(FlowResult),
  summary: Schema.Struct({ passed: Schema.Number, failed: Schema.Number, skipped: Schema.Number })
})
export type ProbeReport = typeof ProbeReport.Type

/** Whether the outcome is what was expected; not-probed (and unconfirmed) flows are skipped. */
export const verdictOf = (expected: Expected, outcome: Outcome): Verdict =>
  outcome === "not-probed" || outcome === "sent"
    ? "skipped"
    : (expected === "allow" ? outcome === "reachable" : outcome === "unreachable")
    ? "pass"
    : "fail"

export const summarize = (flows: ReadonlyArray<FlowResult>): ProbeReport["summary"] => ({
  passed: flows.filter((flow) => flow.verdict === "pass").length,
  failed: flows.filter((flow) => flow.verdict === "fail").length,
  skipped: flows.filter((flow) => flow.verdict === "skipped").length
})

const table = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? []
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join("  ")).join("\n")
}

const VERDICT_WORD: Readonly<Record<Verdict, string>> = { pass: "ok", fail: "FAIL", skipped: "skip" }

/** The readable matrix: one line per flow, then the counts. */
export const renderMatrix = (report: ProbeReport): string => {
  const rows = report.flows.map((flow) => [VERDICT_WORD[flow.verdict], flow.id, flow.expected, flow.outcome, flow.detail])
  const { passed, failed, skipped } = report.summary
  return [
    table([["", "FLOW", "EXPECT", "RESULT", "DETAIL"], ...rows]),
    "",
    `${report.lab === null ? `target ${report.target ?? "?"}` : `lab ${report.lab}`}: ${report.flows.length} flows, ${passed} as expected, ${failed} not as expected, ${skipped} not probed`,
    ""
  ].join("\n")
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3)

const attributes = (values: Readonly<Record<string, string | number>>): string =>
  Object.entries(values).map(([name, value]) => ` ${name}="${escapeAttribute(String(value))}"`).join("")

/** JUnit XML (the Ant/Jenkins dialect, as `fazlab run --report junit`): one test case per flow, named by its id. */
export const renderProbeJunit = (report: ProbeReport): string => {
  const suite = report.lab ?? report.target ?? "probe"
  const counts = { tests: report.flows.length, failures: report.summary.failed, errors: 0 }
  const cases = report.flows.map((flow) => {
    const head = `    <testcase${attributes({ classname: `probe.${suite}`, name: flow.id, time: seconds(flow.durationMs) })}`
    switch (flow.verdict) {
      case "pass":
        return `${head}/>`
      case "skipped":
        return [`${head}>`, `      <skipped${attributes({ message: flow.detail })}/>`, "    </testcase>"].join("\n")
      case "fail":
        return [
          `${head}>`,
          `      <failure${attributes({ message: `expected ${flow.expected}, got ${flow.outcome}: ${flow.detail}`, type: "flow" })}>${escapeText(flow.detail)}</failure>`,
          "    </testcase>"
        ].join("\n")
    }
  })
  return [
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
    `<testsuites${attributes({ name: "fazlab probe", ...counts, time: seconds(report.durationMs) })}>`,
    `  <testsuite${attributes({
      name: `probe.${suite}`,
      ...counts,
      skipped: report.summary.skipped,
      time: seconds(report.durationMs),
      timestamp: new Date(report.startedAt).toISOString().slice(0, 19)
    })}>`,
    ...cases,
    "  </testsuite>",
    "</testsuites>",
    ""
  ].join("\n")
}

export interface FlowChange {
  readonly id: string
  readonly before: Outcome | "absent"
  readonly after: Outcome | "absent"
}

export interface ReportDiff {
  /** Not reachable before, reachable after. */
  readonly opened: ReadonlyArray<FlowChange>
  /** Reachable before, not reachable after. */
  readonly closed: ReadonlyArray<FlowChange>
  /** Any other change of outcome (probed or not, partial, a flow in only one report). */
  readonly changed: ReadonlyArray<FlowChange>
}

/** Which flows a change between two probe reports opened, closed or otherwise changed, by flow id. */
export const diffReports = (before: ProbeReport, after: ProbeReport): ReportDiff => {
  const was = new Map(before.flows.map((flow) => [flow.id, flow.outcome]))
  const now = new Map(after.flows.map((flow) => [flow.id, flow.outcome]))
  const ids = [...new Set([...was.keys(), ...now.keys()])]
  const changes = ids
    .map((id): FlowChange => ({ id, before: was.get(id) ?? "absent", after: now.get(id) ?? "absent" }))
    .filter((change) => change.before !== change.after)
  const isOpen = (outcome: Outcome | "absent") => outcome === "reachable"
  const isClosed = (outcome: Outcome | "absent") => outcome === "unreachable"
  return {
    opened: changes.filter((c) => isClosed(c.before) && isOpen(c.after)),
    closed: changes.filter((c) => isOpen(c.before) && isClosed(c.after)),
    changed: changes.filter((c) => !(isClosed(c.before) && isOpen(c.after)) && !(isOpen(c.before) && isClosed(c.after)))
  }
}

export const renderDiff = (diff: ReportDiff): string => {
  const lines = [
    ...diff.opened.map((c) => `opened   ${c.id}`),
    ...diff.closed.map((c) => `closed   ${c.id}`),
    ...diff.changed.map((c) => `changed  ${c.id}  (${c.before} -> ${c.after})`)
  ]
  return `${lines.length === 0 ? "no flow opened, closed or changed" : lines.join("\n")}\n`
}
