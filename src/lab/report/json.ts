/**
 * The JSON report: the `ScenarioResult` plus its summary, as one pretty-printed JSON document
 * (`fazlab run --report json`).
 */
import { summarize, type ScenarioResult } from "./result.ts"

export const renderJson = (result: ScenarioResult): string =>
  `${JSON.stringify({ ...result, summary: summarize(result) }, null, 2)}\n`
