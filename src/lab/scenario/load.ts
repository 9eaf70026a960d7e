/**
 * Loads a scenario file: YAML → `Scenario`, or a `ScenarioError` that lists every problem found,
 * one line each, as `file:line:column path: expected X, got Y`.
 *
 * Three passes, each reported the same way: YAML syntax (the `yaml` package's document errors),
 * the schema (Effect Schema's issue tree, rendered here as plain sentences), and cross-references
 * between devices and steps (checked on the decoded scenario). Also exports the file format as a
 * JSON Schema document for editors.
 */
import { readFileSync } from "node:fs"
import { readFile } from "node:fs/promises"
import * as path from "node:path"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaAST from "effect/SchemaAST"
import * as SchemaIssue from "effect/SchemaIssue"
import { isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument } from "yaml"
import { dnsServer } from "../../devices/dns-server/kind.ts"
import { fortianalyzer } from "../../devices/fortianalyzer/kind.ts"
import { fortigate } from "../../devices/fortigate/kind.ts"
import { fortimanager } from "../../devices/fortimanager/kind.ts"
import { smtpRelay } from "../../devices/smtp-relay/kind.ts"
import { type KindRegistry, registry as shippedRegistry } from "../../devices/registry.ts"
import { fileKey, isIdLike } from "../../devices/settings.ts"
import { ScenarioError, type ScenarioIssue } from "./error.ts"
import { type Action, type Expectation, type Scenario, scenarioSchema, STEP_RENAMED } from "./schema.ts"

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

type Path = ReadonlyArray<PropertyKey>

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

const yamlProblem = (code: string, message: string): { expected: string; got: string } => {
  switch (code) {
    case "DUPLICATE_KEY":
      return { expected: "each key once in a mapping", got: "a key that appears twice" }
    case "MULTIPLE_DOCS":
      return { expected: "one YAML document", got: "several, separated by ---" }
    default:
      return { expected: "valid YAML", got: `a syntax error: ${message.charAt(0).toLowerCase()}${message.slice(1)}` }
  }
}

// ---------------------------------------------------------------------------------------------
// Schema issues → problems
// ---------------------------------------------------------------------------------------------

interface Problem {
  readonly path: Path
  /** Point at the key itself (an unknown key) rather than its value. */
  readonly atKey: boolean
  readonly expected: string
  readonly got: string
}

const schemaProblems = (root: SchemaIssue.Issue, raw: unknown): Array<Problem> => {
  const problems: Array<Problem> = []
  const problem = (path: Path, expected: string, got?: string, atKey = false): void => {
    problems.push({ path, atKey, expected, got: got ?? describeValue(valueAt(raw, path)) })
  }
  const walk = (issue: SchemaIssue.Issue, path: Path, parent: SchemaAST.AST | undefined, expected: string | undefined): void => {
    switch (issue._tag) {
      case "Pointer":
        return walk(issue.issue, [...path, ...issue.path], parent, expected)
      case "Encoding":
        return walk(issue.issue, path, parent, expected)
      case "Composite": {
        // A failed check on a leaf (a port, a duration) is described by the leaf's own `expected`.
        const container = SchemaAST.isObjects(issue.ast) || SchemaAST.isArrays(issue.ast)
        const own = container ? undefined : stringAnnotation(issue.ast.annotations, "expected")
        return issue.issues.forEach((inner) => walk(inner, path, issue.ast, expected ?? own))
      }
      case "Filter":
        return walk(issue.issue, path, parent, expected ?? stringAnnotation(issue.filter.annotations, "expected"))
      case "InvalidValue":
        return problem(
          path,
          expected ?? stringAnnotation(issue.annotations, "expected") ?? "a valid value",
          stringAnnotation(issue.annotations, "got")
        )
      case "InvalidType":
        return problem(path, expected ?? describeAst(issue.ast))
      case "MissingKey": {
        const key = path.at(-1)
        const field = parent !== undefined && SchemaAST.isObjects(parent)
          ? parent.propertySignatures.find((signature) => signature.name === key)
          : undefined
        return problem(path, field === undefined ? "a value" : describeAst(field.type), "nothing")
      }
      case "UnexpectedKey":
        return unexpectedKey(path, parent)
      case "AnyOf":
        if (issue.issues.length > 0) return issue.issues.forEach((inner) => walk(inner, path, parent, expected))
        return unmatchedUnion(path, issue.ast)
      case "OneOf":
        return problem(path, expected ?? describeAst(issue.ast))
      case "Forbidden":
        return problem(path, stringAnnotation(issue.annotations, "expected") ?? expected ?? "a valid value")
    }
  }
  const unexpectedKey = (path: Path, parent: SchemaAST.AST | undefined): void => {
    const key = String(path.at(-1))
    if (parent === undefined || !SchemaAST.isObjects(parent)) return problem(path, "no such key", `unknown key ${JSON.stringify(key)}`, true)
    const [index] = parent.indexSignatures
    if (index !== undefined) return problem(path, describeAst(index.parameter), JSON.stringify(key), true)
    const known = parent.propertySignatures.map((signature) => String(signature.name))
    const guess = closest(key, known)
    problem(
      path,
      `one of ${known.join(", ")}`,
      `unknown key ${JSON.stringify(key)}${guess === undefined ? "" : ` (did you mean ${JSON.stringify(guess)}?)`}`,
      true
    )
  }
  /** A union of mappings told apart by a literal field (`kind`): report that field. */
  const unmatchedUnion = (path: Path, union: SchemaAST.Union): void => {
    const tag = discriminant(union)
    const value = valueAt(raw, path)
    if (tag !== undefined && typeof value === "object" && value !== null && !Array.isArray(value)) {
      return problem([...path, tag.key], tag.values.map((literal) => JSON.stringify(literal)).join(" | "))
    }
    problem(path, describeAst(union))
  }
  walk(root, [], undefined, undefined)
  return problems
}

const discriminant = (union: SchemaAST.Union): { key: string; values: Array<SchemaAST.LiteralValue> } | undefined => {
  const [first] = union.types
  if (first === undefined || !SchemaAST.isObjects(first)) return undefined
  for (const signature of first.propertySignatures) {
    const values = union.types.map((member) => {
      const field = SchemaAST.isObjects(member)
        ? member.propertySignatures.find((candidate) => candidate.name === signature.name)
        : undefined
      return field !== undefined && SchemaAST.isLiteral(field.type) ? field.type.literal : undefined
    })
    if (values.every((value) => value !== undefined)) return { key: String(signature.name), values }
  }
  return undefined
}

const stringAnnotation = (annotations: object | undefined, key: string): string | undefined => {
  const value: unknown = annotations === undefined ? undefined : Reflect.get(annotations, key)
  return typeof value === "string" ? value : undefined
}

/** What a schema accepts, in words, for "expected ...". */
const describeAst = (input: SchemaAST.AST): string => {
  const ast = SchemaAST.toEncoded(input)
  const annotated = stringAnnotation(ast.annotations, "expected")
  if (annotated !== undefined) return annotated
  const checked = ast.checks?.map((check) => stringAnnotation(check.annotations, "expected")).find((text) => text !== undefined)
  if (checked !== undefined) return checked
  if (SchemaAST.isLiteral(ast)) return JSON.stringify(ast.literal)
  if (SchemaAST.isUnion(ast)) {
    if (ast.types.every(SchemaAST.isLiteral)) return ast.types.map(describeAst).join(" | ")
    return [...new Set(ast.types.map(describeAst))].join(" or ")
  }
  if (SchemaAST.isString(ast) || SchemaAST.isTemplateLiteral(ast)) return "a string"
  if (SchemaAST.isNumber(ast)) return "a number"
  if (SchemaAST.isBoolean(ast)) return "true or false"
  if (SchemaAST.isNull(ast)) return "an empty value"
  if (SchemaAST.isArrays(ast)) return "a list"
  if (SchemaAST.isObjects(ast)) return "a mapping"
  return "a valid value"
}

/** The value as the user wrote it, for "got ...". */
const describeValue = (value: unknown): string => {
  if (value === undefined) return "nothing"
  if (value === null) return "an empty value"
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : `a list of ${value.length}`
  if (typeof value === "object") {
    const keys = Object.keys(value)
    return keys.length === 0 ? "an empty mapping" : `a mapping with ${keys.join(", ")}`
  }
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
  return String(value)
}

/** The closest known key within two edits, for "did you mean". */
const closest = (key: string, known: ReadonlyArray<string>): string | undefined => {
  let best: { name: string; distance: number } | undefined
  for (const name of known) {
    const distance = editDistance(key, name)
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { name, distance }
  }
  return best?.name
}

const editDistance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

// ---------------------------------------------------------------------------------------------
// Paths: decoded names → file keys, file keys → line:column
// ---------------------------------------------------------------------------------------------

/** Checks that run on the decoded side report camelCase names; the file spells them as `fileKey` does, `do` for a step's action. */
const fileKeyOf = (name: string): string => (name === "action" ? STEP_RENAMED.action : fileKey(name))

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const toFilePath = (raw: unknown, path: Path): Path => {
  const result: Array<PropertyKey> = []
  let node = raw
  for (const segment of path) {
    if (typeof segment === "number") {
      // `expect:` may hold one expectation instead of a list: index 0 is the mapping itself.
      if (!Array.isArray(node)) continue
      result.push(segment)
      node = node[segment]
      continue
    }
    const key = typeof segment === "string" && isRecord(node) && !(segment in node) ? fileKeyOf(segment) : segment
    result.push(key)
    node = isRecord(node) && typeof key === "string" ? node[key] : undefined
  }
  return result
}

const valueAt = (raw: unknown, path: Path): unknown => {
  let node = raw
  for (const segment of toFilePath(raw, path)) {
    if (Array.isArray(node) && typeof segment === "number") node = node[segment]
    else if (isRecord(node) && typeof segment === "string") node = node[segment]
    else return undefined
  }
  return node
}

const simpleKey = /^[A-Za-z0-9_-]+$/u

export const formatPath = (path: Path): string =>
  path.map((segment, i) =>
    typeof segment === "number"
      ? `[${segment}]`
      : typeof segment === "string" && simpleKey.test(segment)
      ? `${i === 0 ? "" : "."}${segment}`
      : `[${JSON.stringify(String(segment))}]`
  ).join("")

/** Offset of the deepest node of `path` present in the document (the key's own node with `atKey`). */
const offsetOf = (root: unknown, path: Path, atKey: boolean): number | undefined => {
  let node: unknown = root
  let offset = rangeStart(root)
  for (const [i, segment] of path.entries()) {
    if (isSeq(node) && typeof segment === "number") {
      node = node.items[segment]
    } else if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment))
      if (pair === undefined) return offset
      if (atKey && i === path.length - 1) return rangeStart(pair.key) ?? offset
      node = pair.value
    } else {
      return offset
    }
    offset = rangeStart(node) ?? offset
  }
  return offset
}

const rangeStart = (node: unknown): number | undefined => (isNode(node) ? node.range?.[0] : undefined)

// ---------------------------------------------------------------------------------------------
// Cross-references
// ---------------------------------------------------------------------------------------------

/** hb-interval: 1-20 s as FortiOS allows; from 100 ms, fazlab only, for fast CI. */
const HB_INTERVAL_MIN_MS = 100
const HB_INTERVAL_MAX_MS = 20_000

const crossReferenceProblems = (scenario: Scenario, raw: unknown, registry: KindRegistry): Array<Problem> => {
  const problems: Array<Problem> = []
  const ids = [...scenario.devices.keys()]
  const ofKind = (kind: string): Array<string> => ids.filter((id) => scenario.devices.get(id)?.kind === kind)
  const analyzers = ofKind(fortianalyzer.name)
  const groups = Object.keys(scenario.ha)
  const listOf = (names: ReadonlyArray<string>): string => (names.length === 0 ? "none in this lab" : names.join(", "))
  const groupOf = new Map<string, string>()
  if (scenario.clock === "simulated" && scenario.speed !== 1) {
    problems.push({ path: ["speed"], atKey: true, expected: "no speed with clock: simulated (simulated time runs as fast as the lab allows)", got: String(scenario.speed) })
  }
  for (const [name, group] of Object.entries(scenario.ha)) {
    if (scenario.devices.has(name)) {
      problems.push({ path: ["ha", name], atKey: true, expected: "an HA group name that is not a device id", got: `${JSON.stringify(name)}, also a device` })
    }
    if (group.hbInterval < HB_INTERVAL_MIN_MS || group.hbInterval > HB_INTERVAL_MAX_MS) {
      problems.push({
        path: ["ha", name, "hbInterval"],
        atKey: false,
        expected: "a duration from 1s to 20s (from 100ms: fazlab only, for fast CI)",
        got: JSON.stringify(valueAt(raw, ["ha", name, "hbInterval"]))
      })
    }
    group.members.forEach((member, i) => {
      const path = ["ha", name, "members", i]
      const spec = scenario.devices.get(member)
      if (spec === undefined || !fortianalyzer.is(spec)) {
        problems.push({ path, atKey: false, expected: `a ${fortianalyzer.name} of this lab (${listOf(analyzers)})`, got: spec === undefined ? JSON.stringify(member) : `${JSON.stringify(member)}, a ${spec.kind}` })
        return
      }
      const other = groupOf.get(member)
      if (other !== undefined) {
        problems.push({ path, atKey: false, expected: "an analyzer in no other HA group (a device is in at most one)", got: `${JSON.stringify(member)}, already in ${other === name ? "this group" : `group ${other}`}` })
        return
      }
      groupOf.set(member, name)
    })
  }
  const isGroup = (id: string): boolean => Object.hasOwn(scenario.ha, id)
  /** A device id, or the name of an HA group (its virtual IP). */
  const target = (path: Path, id: string): void => {
    if (!isGroup(id)) device(path, id)
  }
  const device = (path: Path, id: string, ...kinds: ReadonlyArray<string>): void => {
    const spec = scenario.devices.get(id)
    if (spec === undefined) {
      problems.push({ path, atKey: false, expected: `a device of this lab (${listOf(ids)})`, got: JSON.stringify(id) })
    } else if (kinds.length > 0 && !kinds.includes(spec.kind)) {
      const expected = kinds.map((kind) => `a ${kind}`).join(" or ")
      problems.push({ path, atKey: false, expected: `${expected} of this lab (${listOf(kinds.flatMap(ofKind))})`, got: `${JSON.stringify(id)}, a ${spec.kind}` })
    }
  }

  // A name without a dot or a port is a device id (or an HA group): hosts outside the lab are written as FQDN, IP or host:port.
  for (const [id, spec] of scenario.devices) {
    for (const reference of registry.of(spec).references(spec)) {
      const { name, kind } = reference
      const path = ["devices", id, ...reference.path]
      if (reference.notSelf !== undefined && name === id) {
        problems.push({ path, atKey: false, expected: reference.notSelf, got: JSON.stringify(id) })
        continue
      }
      if (reference.group && isGroup(name)) continue
      if (scenario.devices.has(name)) device(path, name, kind)
      else if (isIdLike(name)) {
        const inLab = reference.group && groups.length > 0
          ? `a ${kind} or HA group of this lab (${listOf([...new Set([...ofKind(kind), ...groups])])})`
          : `a ${kind} of this lab (${listOf(ofKind(kind))})`
        problems.push({ path, atKey: false, expected: `${inLab}, or a host outside it such as ${reference.outside}`, got: JSON.stringify(name) })
      }
    }
  }

  const serials = new Map<string, string>()
  for (const [id, spec] of scenario.devices) {
    const owner = serials.get(spec.serial)
    if (owner !== undefined) {
      problems.push({ path: ["devices", id, "serial"], atKey: false, expected: "a serial no other device has", got: `${JSON.stringify(spec.serial)}, also the serial of ${owner}` })
    }
    serials.set(spec.serial, id)
  }

  /** An analyzer, or an HA group (its acting primary). */
  const analyzer = (path: Path, id: string): void => {
    if (!isGroup(id)) device(path, id, fortianalyzer.name)
  }
  /** An analyzer that is a member of an HA group. */
  const member = (path: Path, id: string): void => {
    const spec = scenario.devices.get(id)
    if (spec !== undefined && fortianalyzer.is(spec) && !groupOf.has(id)) {
      const members = [...groupOf.keys()]
      problems.push({ path, atKey: false, expected: `a member of an HA group of this lab (${listOf(members)})`, got: `${JSON.stringify(id)}, in no HA group` })
    } else device(path, id, fortianalyzer.name)
  }
  /** Two different members of one HA group (partition, heal). */
  const pair = (path: Path, ids: ReadonlyArray<string>): void => {
    const before = problems.length
    ids.forEach((id, i) => member([...path, i], id))
    if (problems.length > before) return
    const [a = "", b = ""] = ids
    if (a === b) problems.push({ path: [...path, 1], atKey: false, expected: "a member other than the first one", got: JSON.stringify(b) })
    else if (groupOf.get(a) !== groupOf.get(b)) {
      problems.push({ path: [...path, 1], atKey: false, expected: `a member of ${a}'s HA group ${groupOf.get(a) ?? ""}`, got: `${JSON.stringify(b)}, in group ${groupOf.get(b) ?? ""}` })
    }
  }
  /** The name of an HA group. */
  const group = (path: Path, name: string): void => {
    if (!isGroup(name)) problems.push({ path, atKey: false, expected: `an HA group of this lab (${listOf(groups)})`, got: JSON.stringify(name) })
  }
  scenario.steps.forEach((step, s) => {
    const stepPath = ["steps", s]
    if (step.action !== null) {
      actionReferences(step.action, [...stepPath, "do"], { device, target, member, pair }, (at) => {
        if (analyzers.length !== 1) {
          problems.push({
            path: [...at, "analyzer"],
            atKey: false,
            expected: `an analyzer id, as this lab has ${analyzers.length === 0 ? "no analyzer" : `several (${analyzers.join(", ")})`}`,
            got: "nothing"
          })
        }
      })
    }
    const listed = Array.isArray(valueAt(raw, [...stepPath, "expect"]))
    step.expect.forEach((expectation, e) => {
      const path = listed ? [...stepPath, "expect", e] : [...stepPath, "expect"]
      expectationReferences(expectation, path, { device, target, analyzer, member, group }, (at) => {
        if (analyzers.length !== 1) {
          problems.push({
            path: [...at, "analyzer"],
            atKey: false,
            expected: `an analyzer id, as this lab has ${analyzers.length === 0 ? "no analyzer" : `several (${analyzers.join(", ")})`}`,
            got: "nothing"
          })
        }
      })
    })
  })
  return problems
}

type DeviceCheck = (path: Path, id: string, ...kinds: ReadonlyArray<string>) => void
type NameCheck = (path: Path, id: string) => void

interface ActionChecks {
  readonly device: DeviceCheck
  /** A device or an HA group. */
  readonly target: NameCheck
  /** An analyzer in an HA group. */
  readonly member: NameCheck
  /** Two different members of one HA group. */
  readonly pair: (path: Path, ids: ReadonlyArray<string>) => void
}

const actionReferences = (action: Action, path: Path, checks: ActionChecks, defaultAnalyzer: (path: Path) => void): void => {
  const { device, target, member, pair } = checks
  if ("start" in action) device([...path, "start"], action.start)
  else if ("stop" in action) device([...path, "stop"], action.stop)
  else if ("kill" in action) device([...path, "kill"], action.kill)
  else if ("restart" in action) device([...path, "restart"], action.restart)
  else if ("authorize" in action || "deleteDevice" in action) {
    const [key, target] = "authorize" in action ? ["authorize", action.authorize] as const : ["delete-device", action.deleteDevice] as const
    if (target.analyzer === null) defaultAnalyzer([...path, key])
    else device([...path, key, "analyzer"], target.analyzer, fortianalyzer.name)
    device([...path, key, "device"], target.device)
  }
  else if ("pause" in action) device([...path, "pause"], action.pause)
  else if ("resume" in action) device([...path, "resume"], action.resume)
  else if ("burst" in action) device([...path, "burst", "device"], action.burst.device)
  else if ("partition" in action) pair([...path, "partition"], action.partition)
  else if ("heal" in action) pair([...path, "heal"], action.heal)
  else if ("degrade" in action) pair([...path, "degrade", "members"], action.degrade.members)
  else if ("freeze" in action) member([...path, "freeze"], action.freeze)
  else if ("thaw" in action) member([...path, "thaw"], action.thaw)
  else if ("load" in action) device([...path, "load", "device"], action.load.device, fortianalyzer.name)
  else target([...path, "send-raw", "to"], action.sendRaw.to)
}

interface ExpectationChecks {
  readonly device: DeviceCheck
  /** A device or an HA group. */
  readonly target: NameCheck
  /** An analyzer or an HA group. */
  readonly analyzer: NameCheck
  /** An analyzer in an HA group. */
  readonly member: NameCheck
  /** The name of an HA group. */
  readonly group: NameCheck
}

const expectationReferences = (expectation: Expectation, path: Path, checks: ExpectationChecks, defaultAnalyzer: (path: Path) => void): void => {
  const { device, target, analyzer, member, group } = checks
  if ("role" in expectation) member([...path, "role", "device"], expectation.role.device)
  else if ("primaries" in expectation) group([...path, "primaries", "group"], expectation.primaries.group)
  else if ("registration" in expectation) {
    if (expectation.registration.analyzer === null) defaultAnalyzer([...path, "registration"])
    else device([...path, "registration", "analyzer"], expectation.registration.analyzer, fortianalyzer.name)
    device([...path, "registration", "device"], expectation.registration.device)
  } else if ("listening" in expectation) target([...path, "listening", "device"], expectation.listening.device)
  else if ("notListening" in expectation) target([...path, "not-listening", "device"], expectation.notListening.device)
  else if ("malformed" in expectation) device([...path, "malformed", "device"], expectation.malformed.device, fortianalyzer.name)
  else if ("managed" in expectation) {
    device([...path, "managed", "manager"], expectation.managed.manager, fortimanager.name)
    // A FortiManager manages FortiGates (they dial it) and analyzers (it dials them).
    device([...path, "managed", "device"], expectation.managed.device, fortigate.name, fortianalyzer.name)
  } else if ("forwarded" in expectation) device([...path, "forwarded", "analyzer"], expectation.forwarded.analyzer, fortianalyzer.name)
  else if ("trap" in expectation) device([...path, "trap", "analyzer"], expectation.trap.analyzer, fortianalyzer.name)
  else if ("mail" in expectation) device([...path, "mail", "relay"], expectation.mail.relay, smtpRelay.name)
  else if ("dnsQuery" in expectation) device([...path, "dns-query", "server"], expectation.dnsQuery.server, dnsServer.name)
  else if ("cli" in expectation) device([...path, "cli", "device"], expectation.cli.device, fortianalyzer.name)
  else if ("api" in expectation) device([...path, "api", "device"], expectation.api.device, fortianalyzer.name)
  else {
    if (expectation.logs.analyzer === null) defaultAnalyzer([...path, "logs"])
    else analyzer([...path, "logs", "analyzer"], expectation.logs.analyzer)
    device([...path, "logs", "from"], expectation.logs.from)
  }
}

// ---------------------------------------------------------------------------------------------
// JSON Schema
// ---------------------------------------------------------------------------------------------

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
