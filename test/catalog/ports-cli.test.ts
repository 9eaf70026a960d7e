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
    expect(stdout.split("\n")[0]?.split(/\s+/)).toEqual(["DIR", "PRODUCT", "PURPOSE", "PORTS", "STATUS", "NOTES"])
    expect(stdout).toContain("FortiRecorder Cameras")
  })

  it("narrows the table to $COLUMNS", async () => {
    const { stdout } = await run([], { COLUMNS: "80" })
    expect(Math.max(...stdout.split("\n").map((line) => line.length))).toBeLessThanOrEqual(80)
  })

  it("prints one parseable JSON object per row with --json, then one per FQDN", async () => {
    const { code, stdout } = await run(["--json"])
    expect(code).toBe(ExitCode.Ok)
    const objects = stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as { id?: string; table?: string })
    const portRows = objects.filter((o) => o.table === undefined)
    expect(portRows.map((o) => o.id)).toEqual(catalogRows().map((row) => row.id))
    expect(objects.slice(portRows.length).every((o) => o.table === "fqdn")).toBe(true)
  })

  it("--json has one object per service and name of the anycast/unicast table, with its kind", async () => {
    const { stdout } = await run(["--json"])
    const fqdns = stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>).filter((o) => o["table"] === "fqdn")
    expect(fqdns).toHaveLength(16)
    expect(fqdns).toContainEqual({ table: "fqdn", direction: "out", product: "FortiGuard", service: "GeoIP", name: "gip.fortinet.net", kind: "unicast", awsAnycastOnly: false, status: "emulated" })
    expect(fqdns).toContainEqual({ table: "fqdn", direction: "out", product: "FortiGuard", service: "AV-IPS packages", name: "usupdate2.fortinet.net", kind: "anycast", awsAnycastOnly: true, status: "emulated" })
    expect(fqdns.filter((o) => o["service"] === "AV-IPS packages (FortiClient)").map((o) => `${String(o["name"])} ${String(o["kind"])}`)).toEqual([
      "forticlient.fortinet.com unicast",
      "usforticlient.fortinet.com unicast",
      "globalfctupdate.fortinet.net anycast",
      "fctusupdate.fortinet.net anycast"
    ])
  })

  it("the table ends with the anycast/unicast FQDNs; filters that exclude FortiGuard's outgoing rows leave them out", async () => {
    const { stdout } = await run([])
    expect(stdout).toContain("\nFortiGuard services the FortiAnalyzer reaches (anycast and unicast):\nSERVICE")
    expect(stdout).toMatch(/\nGeoIP\s+usupdate2\.fortinet\.net\s+anycast \(AWS only\)\s+emulated\n/)
    expect((await run(["--product", "fortiguard", "--direction", "out"])).stdout).toContain("fds1.fortinet.com")
    expect((await run(["--direction", "in"])).stdout).not.toContain("fds1.fortinet.com")
    expect((await run(["--json", "--product", "FortiGate"])).stdout).not.toContain('"fqdn"')
  })

  it("says which rows fazlab emulates and which it only represents: Google Maps is the admin's PC's flow", async () => {
    const { stdout } = await run([])
    expect(stdout).toMatch(/\nout\s+FortiGuard\s+AV\/IPS, SMS, FTM,\s+tcp\/443\s+emulated\n/u)
    expect(stdout).toMatch(/\nout\s+Google Maps\s+https:\/\/maps\.google\.com,\s+represented\s+These URLs must be/u)
    const maps = (await run(["--json", "--product", "google maps integration"])).stdout
    expect(JSON.parse(maps.trim())).toMatchObject({ id: "out-google-maps-integration", emulation: { listener: "google-maps", dialer: "admin-pc", status: "represented" } })
    expect((await run(["--markdown"])).stdout).toContain("**represented**: a flow between other parties than the FortiAnalyzer")
  })

  it("prints only outgoing rows with --direction out", async () => {
    const { stdout } = await run(["--json", "--direction", "out"])
    const objects = stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as { direction: string })
    // 19 port rows, then the 16 FQDNs (FortiGuard services the analyzer reaches).
    expect(objects).toHaveLength(19 + 16)
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
