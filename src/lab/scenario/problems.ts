/**
 * How a scenario file's problems are told: YAML syntax errors and Effect Schema's issue tree turned
 * into plain "expected X, got Y" sentences (with "did you mean" for a mistyped key), and a problem's
 * decoded path turned into the file's own key names and a line and column in the document.
 */
import * as SchemaAST from "effect/SchemaAST"
import * as SchemaIssue from "effect/SchemaIssue"
import { isMap, isNode, isPair, isScalar, isSeq } from "yaml"
import { fileKey } from "../../devices/settings.ts"
import { STEP_RENAMED } from "./schema.ts"

/** Where a problem is, in decoded (camelCase) names. */
export type Path = ReadonlyArray<PropertyKey>

export const yamlProblem = (code: string, message: string): { expected: string; got: string } => {
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

export interface Problem {
  readonly path: Path
  /** Point at the key itself (an unknown key) rather than its value. */
  readonly atKey: boolean
  readonly expected: string
  readonly got: string
}

export const schemaProblems = (root: SchemaIssue.Issue, raw: unknown): Array<Problem> => {
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

export const toFilePath = (raw: unknown, path: Path): Path => {
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

export const valueAt = (raw: unknown, path: Path): unknown => {
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
export const offsetOf = (root: unknown, path: Path, atKey: boolean): number | undefined => {
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
