/**
 * The probe's expectations file: whether each flow should be allowed or denied by the rule set
 * under test. Without a file every documented flow is expected allowed.
 *
 * ```yaml
 * default: allow                 # allow (the default) or deny
 * flows:
 *   fortimanager->fortianalyzer/udp/514/syslog: deny
 *   "*->fortianalyzer/tcp/5199/*": deny          # `*` matches any run of characters
 * ```
 *
 * The most specific key wins: an exact id over a pattern, a longer pattern over a shorter one.
 * A key that matches no flow of the catalog is a mistake (a typo would silently expect nothing),
 * reported in one sentence.
 */
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import YAML from "yaml"
import { Expected } from "./report.ts"

export const ExpectationsFile = Schema.Struct({
  default: Schema.optionalKey(Expected),
  flows: Schema.optionalKey(Schema.Record(Schema.String, Expected))
})

export interface Expectations {
  /** allow or deny for a flow id. */
  readonly of: (id: string) => Expected
}

export const ALLOW_ALL: Expectations = { of: () => "allow" }

const patternOf = (key: string): RegExp =>
  new RegExp(`^${key.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/gu, "\\$&")).join(".*")}$`, "u")

/**
 * Reads an expectations file's text against the flow ids it may name; a string (one sentence)
 * when the file is not valid.
 */
export const parseExpectations = (text: string, file: string, ids: ReadonlyArray<string>): Expectations | string => {
  let value: unknown
  try {
    value = YAML.parse(text)
  } catch (error) {
    return `${file} is not valid YAML (${(error as Error).message.split("\n")[0] ?? ""}); fix it or drop --expect to expect every flow allowed`
  }
  const decoded = Schema.decodeUnknownResult(ExpectationsFile)(value ?? {})
  if (Result.isFailure(decoded)) {
    const issue = SchemaIssue.makeFormatterDefault()(decoded.failure.issue).split("\n")[0] ?? ""
    return `${file} is not an expectations file (${issue}); write "default: allow|deny" and "flows:" with flow ids (or patterns with *) mapped to allow or deny`
  }
  const entries = Object.entries(decoded.success.flows ?? {}).map(([key, expected]) => ({ key, expected, pattern: patternOf(key), exact: !key.includes("*") }))
  const unknown = entries.find((entry) => !ids.some((id) => entry.pattern.test(id)))
  if (unknown !== undefined) {
    return `${file}: "${unknown.key}" matches no flow of the catalog; fazlab probe --list prints every flow id`
  }
  const byPrecedence = [...entries].sort((a, b) => Number(b.exact) - Number(a.exact) || b.key.length - a.key.length)
  const fallback = decoded.success.default ?? "allow"
  return { of: (id) => byPrecedence.find((entry) => entry.pattern.test(id))?.expected ?? fallback }
}
