/**
 * The plain-text report: one line per expectation and per failed step, in step order, then a
 * summary line. Failed expectations carry their detail on the next line. No colours: this is what
 * `fazlab run --headless` prints and what CI logs keep.
 */
import { summarize, type ScenarioResult } from "./result.ts"

export const formatDuration = (ms: number): string => (ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`)

export const renderText = (result: ScenarioResult): string => {
  const lines = [`scenario ${result.scenario} (${result.file}), started ${result.startedAt}, took ${formatDuration(result.durationMs)}`]
  const steps = [...new Set([...result.expectations.map((e) => e.step), ...result.stepErrors.map((e) => e.step)])].toSorted((a, b) => a - b)
  for (const step of steps) {
    for (const error of result.stepErrors.filter((e) => e.step === step)) {
      lines.push(`ERROR step ${step} "${error.title}": ${error.reason}`)
    }
    for (const expectation of result.expectations.filter((e) => e.step === step)) {
      lines.push(`${expectation.passed ? "PASS " : "FAIL "} ${expectation.id}  ${expectation.title}  ${formatDuration(expectation.durationMs)}`)
      if (!expectation.passed) lines.push(`      ${expectation.detail}`)
    }
  }
  const summary = summarize(result)
  const errors = summary.stepErrors === 1 ? "1 step error" : `${summary.stepErrors} step errors`
  lines.push(`${summary.ok ? "PASSED" : "FAILED"}: ${summary.passed} passed, ${summary.failed} failed, ${errors}`)
  return `${lines.join("\n")}\n`
}
