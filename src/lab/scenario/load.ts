/**
 * Loads a scenario file: YAML → `Scenario`, or a `ScenarioError` that lists every problem found,
 * one line each, as `file:line:column path: expected X, got Y`.
 *
 * Three passes, each reported the same way: YAML syntax (the `yaml` package's document errors),
 * the schema (Effect Schema's issue tree, rendered as plain sentences by `problems.ts`), and
 * cross-references between devices and steps (`references.ts`, on the decoded scenario). Then the
 * files settings name are read. Also exports the file format as a JSON Schema document for editors.
 */
import { readFileSync } from "node:fs"
import { readFile } from "node:fs/promises"
import * as path from "node:path"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { LineCounter, parseDocument } from "yaml"
import { type KindRegistry, registry as shippedRegistry } from "../../devices/registry.ts"
import { ScenarioError, type ScenarioIssue } from "./error.ts"
import { formatPath, offsetOf, type Problem, schemaProblems, toFilePath, yamlProblem } from "./problems.ts"
import { crossReferenceProblems } from "./references.ts"
import { type Scenario, scenarioSchema } from "./schema.ts"

export interface ParseOptions {
  /** A scenario needs at least one step; a lab file for `fazlab up` may have none. Default true. */
  readonly stepsRequired?: boolean
  /** The device kinds the file may use; default: the kinds fazlab ships. */
  readonly registry?: KindRegistry
}

export const loadScenario = async (file: string, options: ParseOptions = {}): Promise<Scenario> => {
  let text: string
  try {
    text = await readFile(file, "utf8")
  } catch (cause) {
    throw new ScenarioError([{
      file,
      line: null,
      column: null,
      path: "",
      expected: "a readable scenario file",
      got: readFailure(cause)
    }])
  }
  return parseScenario(text, file, options)
}

const readFailure = (cause: unknown): string => {
  const code = cause instanceof Error && "code" in cause ? cause.code : undefined
  switch (code) {
    case "ENOENT":
      return "no such file (check the path)"
    case "EISDIR":
      return "a directory"
    case "EACCES":
    case "EPERM":
      return "permission denied"
    default:
      return cause instanceof Error ? cause.message : String(cause)
  }
}


export const parseScenario = (text: string, file: string, options: ParseOptions = {}): Scenario => {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  const at = (offset: number | undefined): { line: number | null; column: number | null } => {
    if (offset === undefined) return { line: null, column: null }
    const { line, col } = lineCounter.linePos(offset)
    return { line, column: col }
  }
  if (doc.errors.length > 0) {
    throw new ScenarioError(doc.errors.map((error) => ({
      file,
      ...at(error.pos[0]),
      path: "",
      ...yamlProblem(error.code, error.message)
    })))
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 })

  const located = (problem: Problem): ScenarioIssue => {
    const filePath = toFilePath(raw, problem.path)
    return { file, ...at(offsetOf(doc.contents, filePath, problem.atKey)), path: formatPath(filePath), expected: problem.expected, got: problem.got }
  }
  const fail = (problems: ReadonlyArray<Problem>): never => {
    const seen = new Set<string>()
    const issues = problems.map(located).filter((issue) => {
      const fresh = !seen.has(issue.path)
      seen.add(issue.path)
      return fresh
    })
    throw new ScenarioError(issues.toSorted((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0)))
  }

  const registry = options.registry ?? shippedRegistry
  const decoded = Schema.decodeUnknownResult(scenarioSchema(registry))(raw, { errors: "all", onExcessProperty: "error" })
  if (Result.isFailure(decoded)) return fail(schemaProblems(decoded.failure.issue, raw))
  const problems = crossReferenceProblems(decoded.success, raw, registry)
  if ((options.stepsRequired ?? true) && decoded.success.steps.length === 0) {
    problems.push({ path: ["steps"], atKey: false, expected: "at least one step (only a lab file for \"fazlab up\" may have none)", got: "none" })
  }
  const files = readNamedFiles(decoded.success, file, registry)
  problems.push(...files.problems)
  return problems.length > 0 ? fail(problems) : files.scenario
}

/**
 * The files devices' settings name (the kinds' `files`), relative to the scenario file's folder:
 * each is read and checked now, so a missing, unreadable or wrong file is a load error naming the
 * file and the setting; the scenario gets their absolute paths in the settings' place.
 */
const readNamedFiles = (scenario: Scenario, file: string, registry: KindRegistry): { readonly scenario: Scenario; readonly problems: ReadonlyArray<Problem> } => {
  const problems: Array<Problem> = []
  const folder = path.dirname(path.resolve(file))
  const devices = new Map(scenario.devices)
  for (const [id, spec] of scenario.devices) {
    for (const setting of registry.of(spec).files(spec)) {
      const at = ["devices", id, ...setting.path]
      const resolved = path.resolve(folder, setting.file)
      let text: string
      try {
        text = readFileSync(resolved, "utf8")
      } catch (cause) {
        problems.push({ path: at, atKey: false, expected: setting.expected, got: `${readFailure(cause)}: ${resolved}` })
        continue
      }
      const wrong = setting.check(text)
      if (wrong !== null) problems.push({ path: at, atKey: false, expected: setting.expected, got: `${wrong}: ${resolved}` })
      else devices.set(id, withValueAt(devices.get(id) ?? spec, setting.path, resolved))
    }
  }
  return { scenario: problems.length > 0 ? scenario : { ...scenario, devices }, problems }
}

/** A copy of `value` (plain objects) with `replacement` at `at`. */
const withValueAt = <T>(value: T, at: ReadonlyArray<string>, replacement: unknown): T => {
  const [key, ...rest] = at
  if (key === undefined) return replacement as T
  const record = value as Readonly<Record<string, unknown>>
  return { ...record, [key]: withValueAt(record[key], rest, replacement) } as T
}

/** The file format as a JSON Schema (draft 2020-12) document, for editors. Committed as scenarios/fazlab.schema.json. */
export const scenarioJsonSchema = (registry: KindRegistry = shippedRegistry): Record<string, unknown> => {
  const document = Schema.toJsonSchemaDocument(scenarioSchema(registry), { onExcessProperty: "error" })
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "fazlab scenario",
    description: "A fazlab scenario or lab file (format v1): devices by id, then a timeline of steps.",
    ...document.schema,
    ...(Object.keys(document.definitions).length > 0 ? { $defs: document.definitions } : {})
  }
}
