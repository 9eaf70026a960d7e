/**
 * The JUnit XML report (`fazlab run --report junit`), in the Jenkins/Ant dialect CI servers read:
 * one <testsuites> holding one <testsuite> per scenario, one <testcase> per expectation (with
 * <failure> when it failed) and one per failed step (with <error>). Text is escaped for XML 1.0:
 * characters XML cannot carry at all (most control characters, lone surrogates) are written as
 * visible `\xNN` / `\uNNNN`.
 */
import { summarize, type ScenarioResult } from "./result.ts"

/** Characters XML 1.0 cannot represent, not even as character references. */
const forbidden = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/gu

const visible = (text: string): string =>
  text.replace(forbidden, (char) => {
    const code = char.charCodeAt(0)
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`
  })

export const escapeText = (text: string): string =>
  visible(text).replace(/&/gu, "&amp;").replace(/</gu, "&lt;").replace(/>/gu, "&gt;")

export const escapeAttribute = (text: string): string =>
  escapeText(text).replace(/"/gu, "&quot;").replace(/'/gu, "&apos;").replace(/\n/gu, "&#10;").replace(/\r/gu, "&#13;").replace(/\t/gu, "&#9;")

const seconds = (ms: number): string => (ms / 1000).toFixed(3)

const attributes = (values: Readonly<Record<string, string | number>>): string =>
  Object.entries(values).map(([name, value]) => ` ${name}="${escapeAttribute(String(value))}"`).join("")

/** JUnit's timestamp is ISO 8601 without a zone; ours are UTC. */
const timestamp = (iso: string): string => new Date(iso).toISOString().slice(0, 19)

export const renderJunit = (result: ScenarioResult): string => {
  const summary = summarize(result)
  const counts = {
    tests: result.expectations.length + result.stepErrors.length,
    failures: summary.failed,
    errors: summary.stepErrors
  }
  const cases: Array<string> = []
  for (const expectation of result.expectations) {
    const head = `    <testcase${attributes({ classname: result.scenario, name: expectation.id, time: seconds(expectation.durationMs) })}`
    cases.push(
      expectation.passed
        ? `${head}/>`
        : [
          `${head}>`,
          `      <failure${attributes({ message: `${expectation.title}: ${expectation.detail}`, type: "expectation" })}>${escapeText(expectation.detail)}</failure>`,
          "    </testcase>"
        ].join("\n")
    )
  }
  for (const error of result.stepErrors) {
    cases.push([
      `    <testcase${attributes({ classname: result.scenario, name: `${result.scenario}.step-${error.step}`, time: seconds(0) })}>`,
      `      <error${attributes({ message: `step ${error.step} "${error.title}": ${error.reason}`, type: "step-error" })}>${escapeText(error.reason)}</error>`,
      "    </testcase>"
    ].join("\n"))
  }
  return [
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
    `<testsuites${attributes({ name: "fazlab", ...counts, time: seconds(result.durationMs) })}>`,
    `  <testsuite${attributes({
      name: result.scenario,
      ...counts,
      skipped: 0,
      time: seconds(result.durationMs),
      timestamp: timestamp(result.startedAt),
      file: result.file
    })}>`,
    ...cases,
    "  </testsuite>",
    "</testsuites>",
    ""
  ].join("\n")
}
