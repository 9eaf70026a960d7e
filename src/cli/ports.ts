/**
 * `fazlab ports [--json] [--product P] [--direction in|out] [--markdown]`: prints the port
 * catalog (the port rows, then the anycast/unicast FQDNs) as tables, as JSON lines, or as the
 * Markdown of docs/ports.md.
 */
import { parseArgs } from "node:util"
import { catalogRows, findProduct, fqdnRows, products, type RowFilter } from "../catalog/catalog.ts"
import { renderFqdnJsonLines, renderFqdnTable, renderJsonLines, renderMarkdown, renderTable } from "../catalog/render.ts"
import { ExitCode, UsageError } from "./io.ts"
import type { CliIo, Command } from "./io.ts"
import type { CommandHelp } from "./help.ts"

export const help: CommandHelp = {
  usage: ["fazlab ports [--json] [--product P] [--direction in|out] [--markdown]"],
  summary: "Prints the vendor's FortiAnalyzer port table and its anycast/unicast FQDN table: a table for people, JSON lines for scripts, or the Markdown of docs/ports.md.",
  flags: [
    ["--json", "one JSON object per line: each port row, then each FQDN (with its service and kind)"],
    ["--product P", "only the rows of product P (case-insensitive), e.g. FortiGate"],
    ["--direction in|out", "only incoming (the analyzer listens) or outgoing (it dials) rows"],
    ["--markdown", "the whole catalog as docs/ports.md (not with the other flags)"]
  ],
  examples: ["fazlab ports --product FortiGate", "fazlab ports --json --direction out"]
}

const usage = "fazlab ports [--json] [--product P] [--direction in|out] [--markdown]"

const productList = (): string => products.map((p) => `"${p}"`).join(", ")

/** node:util's parse errors, as one sentence the user can act on. */
const parseError = (error: unknown): UsageError => {
  const code = error instanceof Error && "code" in error ? error.code : undefined
  const message = error instanceof Error ? error.message : String(error)
  const option = /'([^']+)'/.exec(message)?.[1] ?? "an argument"
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return new UsageError(`Unknown option ${option} for fazlab ports; usage: ${usage}.`)
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return new UsageError(`Unexpected argument ${option} for fazlab ports, which takes options only; usage: ${usage}.`)
    default:
      return new UsageError(`${message.replace(/\.$/, "")} for fazlab ports; usage: ${usage}.`)
  }
}

const parse = (args: ReadonlyArray<string>) => {
  try {
    return parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        json: { type: "boolean" },
        markdown: { type: "boolean" },
        product: { type: "string" },
        direction: { type: "string" }
      }
    }).values
  } catch (error) {
    throw parseError(error)
  }
}

/** Terminal width from $COLUMNS when it is a sane number; the table never exceeds 120. */
const tableWidth = (io: CliIo): number => {
  const columns = Number(io.env["COLUMNS"])
  return Number.isInteger(columns) && columns > 0 ? Math.min(columns, 120) : 120
}

export const ports: Command = async (args, io) => {
  const options = parse(args)
  const { direction, product } = options
  if (options.markdown === true) {
    if (options.json === true || product !== undefined || direction !== undefined) {
      throw new UsageError("--markdown prints the whole catalog and cannot be combined with --json, --product or --direction.")
    }
    io.stdout(renderMarkdown())
    return ExitCode.Ok
  }
  if (direction !== undefined && direction !== "in" && direction !== "out") {
    throw new UsageError(`Unknown --direction "${direction}"; use "in" or "out".`)
  }
  const known = product === undefined ? undefined : findProduct(product)
  if (product !== undefined && known === undefined) {
    throw new UsageError(`No product "${product}" in the port catalog; choose one of ${productList()}.`)
  }
  const filter: RowFilter = {
    ...(known === undefined ? {} : { product: known }),
    ...(direction === undefined ? {} : { direction })
  }
  const rows = catalogRows(filter)
  const fqdns = fqdnRows(filter)
  if (rows.length === 0) {
    // Only a product without rows in the chosen direction leaves nothing to print.
    throw new UsageError(`${known} has no "${direction}" rows in the port catalog; try --direction ${direction === "in" ? "out" : "in"}.`)
  }
  // The port rows, then the anycast/unicast FQDNs the filter keeps.
  io.stdout(
    options.json === true ? renderJsonLines(rows) + renderFqdnJsonLines(fqdns)
      : renderTable(rows, { width: tableWidth(io) }) + renderFqdnTable(fqdns, { width: tableWidth(io) })
  )
  return ExitCode.Ok
}
