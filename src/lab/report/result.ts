/**
 * What a scenario run produced, as the reporters (text, JSON, JUnit) consume it.
 *
 * One `ExpectationResult` per expectation of every step, in order; a step whose action failed is a
 * `StepError` instead (its expectations are not checked).
 */

export interface ExpectationResult {
  /** Stable across runs: `${scenario}.step-${n}.${kind}-${i}`, e.g. "syslog-basics.step-3.logs-1". */
  readonly id: string
  /** 1-based step number. */
  readonly step: number
  readonly title: string
  readonly passed: boolean
  readonly detail: string
  readonly durationMs: number
}

export interface StepError {
  /** 1-based step number. */
  readonly step: number
  readonly title: string
  readonly reason: string
}

export interface ScenarioResult {
  readonly scenario: string
  readonly file: string
  /** ISO 8601, UTC. */
  readonly startedAt: string
  readonly durationMs: number
  readonly expectations: ReadonlyArray<ExpectationResult>
  readonly stepErrors: ReadonlyArray<StepError>
}

export interface ResultSummary {
  readonly passed: number
  readonly failed: number
  readonly stepErrors: number
  /** True when every expectation held and no step failed: the run exits 0. */
  readonly ok: boolean
}

export const summarize = (result: ScenarioResult): ResultSummary => {
  const failed = result.expectations.filter((expectation) => !expectation.passed).length
  return {
    passed: result.expectations.length - failed,
    failed,
    stepErrors: result.stepErrors.length,
    ok: failed === 0 && result.stepErrors.length === 0
  }
}
