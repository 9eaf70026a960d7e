/**
 * The probe's flows and their ids (DESIGN-12, contract 4): one per catalog endpoint, ids stable,
 * unique and in the agreed shape; the two HA rows are one flow; every emulated row has an
 * application-level check or its transport's generic one; the expectations file picks the most
 * specific key and refuses a key that names no flow.
 */
import { describe, expect, it } from "vitest"
import { catalogRows } from "../../src/catalog/catalog.ts"
import { checkOf, reduceForRealHost, ROW_CHECKS } from "../../src/probe/checks.ts"
import { parseExpectations } from "../../src/probe/expectations.ts"
import { catalogFlows, catalogRoles, LAB_ROWS } from "../../src/probe/flows.ts"

const ids = catalogFlows().map((flow) => flow.id)

describe("probe flows", () => {
  it("has one flow per catalog endpoint, ids unique and shaped <from>-><to>/<transport>/<port>/<purpose>", () => {
    expect(new Set(ids).size).toBe(ids.length)
    for (const id of ids) expect(id).toMatch(/^[a-z0-9-]+->[a-z0-9-]+\/(tcp|udp|tls|https)\/\d+\/[a-z0-9]+(-[a-z0-9]+)*$/u)
    const endpoints = catalogRows().reduce((sum, row) => sum + row.endpoints.length, 0)
    // The incoming and outgoing HA rows are the same flow between two analyzers; FGFM is a lab row.
    expect(ids.length).toBe(endpoints - 1 + LAB_ROWS.length)
    expect(ids.at(-1)).toBe("fortigate->fortimanager/tcp/541/fgfm")
    expect(catalogFlows({ direction: "in" }).map((flow) => flow.id)).not.toContain("fortigate->fortimanager/tcp/541/fgfm")
  })

  it("names the flows the netns firewall test asserts on exactly as DESIGN-12 says", () => {
    expect(ids).toContain("fortimanager->fortianalyzer/udp/514/syslog")
    expect(ids).toContain("fortianalyzer->fortianalyzer/tcp/5199/ha")
    expect(ids).toContain("fortimanager->fortianalyzer/tcp/541/management")
    expect(ids).toContain("fortigate->fortianalyzer/tcp/514/oftp")
    expect(ids).toContain("fortigate->fortimanager/tcp/541/fgfm")
    const ha = catalogFlows().find((flow) => flow.id === "fortianalyzer->fortianalyzer/tcp/5199/ha")
    expect(ha?.rows.map((row) => row.id)).toEqual(["in-fortianalyzer-ha", "out-fortianalyzer-ha"])
    expect(ha?.primaryOnly).toBe(true)
  })

  it("filters by direction and role", () => {
    const fromFortigate = catalogFlows({ from: "fortigate" })
    expect(fromFortigate.map((flow) => flow.id)).toEqual(["fortigate->fortianalyzer/tcp/514/oftp", "fortigate->fortimanager/tcp/541/fgfm"])
    expect(catalogFlows({ direction: "out" }).every((flow) => flow.direction === "out")).toBe(true)
    expect(catalogFlows({ to: "smtp-server" }).map((flow) => flow.id)).toEqual(["fortianalyzer->smtp-server/tcp/25/alert-email"])
    expect(catalogRoles()).toContain("admin-pc")
  })

  it("gives every emulated row's flows a check, and the registry names only rows that exist", () => {
    const rowIds = new Set([...catalogRows().map((row) => row.id), ...LAB_ROWS.map((row) => row.id)])
    expect(Object.keys(ROW_CHECKS).filter((id) => !rowIds.has(id))).toEqual([])
    const unchecked = catalogFlows()
      .filter((flow) => flow.rows.some((row) => row.status === "emulated") && flow.transport !== "udp")
      .filter((flow) => checkOf(flow) === null)
    expect(unchecked).toEqual([])
    const web = catalogFlows().filter((flow) => flow.rows[0]?.id === "in-management-web-admin").map((flow) => [flow.port, checkOf(flow)])
    expect(web).toEqual([[80, "http"], [443, "https"]])
  })

  it("reduces checks that need fazlab on the far side for a real host, and says what is left out", () => {
    expect(reduceForRealHost("oftp", { transport: "tcp" })).toEqual({ check: "tls", partial: expect.stringContaining("OFTP hello") })
    expect(reduceForRealHost("syslog", { transport: "udp" })).toEqual({ reason: expect.stringContaining("confirms it stored") })
    expect(reduceForRealHost("ssh", { transport: "tcp" })).toEqual({ check: "ssh", partial: null })
  })
})

describe("probe expectations", () => {
  it("expects every flow allowed by default and picks an exact id over a longer or shorter pattern", () => {
    const parsed = parseExpectations(
      [
        "default: allow",
        "flows:",
        "  \"*/udp/514/*\": deny",
        "  fortimanager->fortianalyzer/udp/514/syslog: allow",
        "  \"*->fortianalyzer/tcp/5199/*\": deny"
      ].join("\n"),
      "expect.yaml",
      ids
    )
    if (typeof parsed === "string") throw new Error(parsed)
    expect(parsed.of("forticlient->fortianalyzer/udp/514/syslog")).toBe("deny")
    expect(parsed.of("fortimanager->fortianalyzer/udp/514/syslog")).toBe("allow")
    expect(parsed.of("fortianalyzer->fortianalyzer/tcp/5199/ha")).toBe("deny")
    expect(parsed.of("fortigate->fortianalyzer/tcp/514/oftp")).toBe("allow")
  })

  it("refuses a key that names no flow, a value other than allow or deny, and YAML that does not parse, in one sentence", () => {
    expect(parseExpectations("flows:\n  fortigate->fortianalyzer/tcp/541/oftp: deny\n", "e.yaml", ids)).toBe(
      "e.yaml: \"fortigate->fortianalyzer/tcp/541/oftp\" matches no flow of the catalog; fazlab probe --list prints every flow id"
    )
    expect(parseExpectations("default: block\n", "e.yaml", ids)).toMatch(/^e\.yaml is not an expectations file \(.+\); write "default: allow\|deny"/u)
    expect(parseExpectations("flows: [\n", "e.yaml", ids)).toMatch(/^e\.yaml is not valid YAML/u)
  })
})
