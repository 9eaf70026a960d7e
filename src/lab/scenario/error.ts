/**
 * What is wrong with a scenario file: every issue with its place (file, line, column, path),
 * what was expected and what was found. Kept apart from the loader so the CLI can recognise
 * the error without loading the schema machinery.
 */
export interface ScenarioIssue {
  readonly file: string
  /** 1-based; null when the problem has no place in the file (the file is missing). */
  readonly line: number | null
  readonly column: number | null
  /** Where in the file's structure, e.g. `devices.fgt-1.syslog.mode` or `steps[2].do`; "" for the whole file. */
  readonly path: string
  readonly expected: string
  readonly got: string
}

/** Everything wrong with a scenario file; the message has one line per issue. */
export class ScenarioError extends Error {
  override readonly name = "ScenarioError"
  readonly issues: ReadonlyArray<ScenarioIssue>

  constructor(issues: ReadonlyArray<ScenarioIssue>) {
    super(issues.map(formatIssue).join("\n"))
    this.issues = issues
  }
}

export const formatIssue = (issue: ScenarioIssue): string => {
  const place = issue.line === null ? issue.file : `${issue.file}:${issue.line}:${issue.column ?? 1}`
  const what = `expected ${issue.expected}, got ${issue.got}`
  return issue.path === "" ? `${place}: ${what}` : `${place} ${issue.path}: ${what}`
}
