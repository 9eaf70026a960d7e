/** `fazlab ports` through an in-memory CliIo: output formats, filters, and usage errors. */
import { describe, expect, it } from "vitest"
import { catalogRows } from "../../src/catalog/catalog.ts"
import { renderMarkdown } from "../../src/catalog/render.ts"
import { ExitCode, UsageError } from "../../src/cli/io.ts"
import type { CliIo } from "../../src/cli/io.ts"
import { ports } from "../../src/cli/ports.ts"

const run = async (args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  let stdout = ""
  let stderr = ""
  const io: CliIo = {
    stdout: (text) => {
      stdout += text
    },
    stderr: (text) => {
      stderr += text
    },
    cwd: process.cwd(),
    env,
    isTTY: false,
    signal: new AbortController().signal
  }
  const code = await ports(args, io)
  return { code, stdout, stderr }
}

const usageError = async (args: ReadonlyArray<string>): Promise<UsageError> => {
  const error = await run(args).then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(UsageError)
  return error as UsageError
}

describe("fazlab ports", () => {
  it("prints the table by default", async () => {
    const { code, stdout, stderr } = await run([])
    expect(code).toBe(ExitCode.Ok)
    expect(stderr).toBe("")
    expect(stdout.split("\n")[0]?.split(/\s+/)).toEqual(["DIR", "PRODUCT", "PURPOSE", "PORTS", "NOTES"])
    expect(stdout).toContain("FortiRecorder Cameras")
  })

  it("narrows the table to $COLUMNS", async () => {
    const { stdout } = await run([], { COLUMNS: "80" })
    expect(Math.max(...stdout.split("\n").map((line) => line.length))).toBeLessThanOrEqual(80)
  })

  it("prints one parseable JSON object per row with --json", async () => {
    const { code, stdout } = await run(["--json"])
    expect(code).toBe(ExitCode.Ok)
    const objects = stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as { id: string })
    expect(objects.map((o) => o.id)).toEqual(catalogRows().map((row) => row.id))
  })

  it("prints only outgoing rows with --direction out", async () => {
    const { stdout } = await run(["--json", "--direction", "out"])
    const objects = stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as { direction: string })
    expect(objects).toHaveLength(19)
    expect(objects.every((o) => o.direction === "out")).toBe(true)
  })

  it("filters by --product, case-insensitively", async () => {
    const { stdout } = await run(["--json", "--product", "fortimanager", "--direction=in"])
    const ids = stdout.trimEnd().split("\n").map((line) => (JSON.parse(line) as { id: string }).id)
    expect(ids).toEqual(["in-fortimanager-oftp", "in-fortimanager-syslog", "in-fortimanager-management"])
  })

  it("prints docs/ports.md with --markdown", async () => {
    expect((await run(["--markdown"])).stdout).toBe(renderMarkdown())
  })

  it("rejects a bad --direction, naming the value and the choices", async () => {
    const error = await usageError(["--direction", "sideways"])
    expect(error.message).toBe('Unknown --direction "sideways"; use "in" or "out".')
  })

  it("rejects an unknown product, listing the products", async () => {
    const error = await usageError(["--product", "FortiToaster"])
    expect(error.message).toMatch(/^No product "FortiToaster" in the port catalog; choose one of "FortiAnalyzer", .*"Fortinet Registry"\.$/)
  })

  it("rejects a product with no rows in the chosen direction", async () => {
    const error = await usageError(["--product", "FortiGate", "--direction", "out"])
    expect(error.message).toBe('FortiGate has no "out" rows in the port catalog; try --direction in.')
  })

  it("rejects unknown options, positionals, missing values and --markdown with filters", async () => {
    expect((await usageError(["--yaml"])).message).toMatch(/^Unknown option --yaml for fazlab ports; usage: fazlab ports /)
    expect((await usageError(["extra"])).message).toMatch(/^Unexpected argument extra for fazlab ports/)
    expect((await usageError(["--product"])).message).toMatch(/--product/)
    expect((await usageError(["--markdown", "--json"])).message).toMatch(/cannot be combined/)
  })
})
