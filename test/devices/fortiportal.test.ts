/**
 * A FortiPortal polling analyzers (the vendor table's FortiPortal → FortiAnalyzer "API
 * communications (JSON and XML)" on TCP/443 and TCP/8080): JSON-RPC over TLS/443 as the admin it
 * is given, then the XML web service on TCP/8080, which answers a SOAP fault on a 7.x analyzer;
 * a wrong password is a failed poll that says why. `curl` sees the same SOAP fault on TCP/8080.
 */
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"
import { FortiPortal } from "../../src/devices/fortiportal/fortiportal.ts"
import { sharedLab, waitForEvent } from "../support/lab.ts"

const run = promisify(execFile)

const YAML = `
name: portal
devices:
  faz-1:
    kind: fortianalyzer
    admin: { user: { admin: { password: fortinet } } }
  portal-1:
    kind: fortiportal
    fortianalyzers:
      - { server: faz-1, admin-user-name: admin, password: fortinet, poll-interval: 1s }
  portal-2:
    kind: fortiportal
    fortianalyzers:
      - { server: faz-1, admin-user-name: admin, password: wrong }
`

const started = sharedLab(YAML)

const poll = (device: string, from = 0) =>
  waitForEvent(started(), "portal-poll", (e) => e.device === device, { from })

describe("FortiPortal polling an analyzer", () => {
  it("reads the analyzer's version over JSON-RPC on 443 and gets the SOAP fault on 8080", async () => {
    const event = await poll("portal-1")
    expect(event).toMatchObject({ analyzer: "faz-1", status: "ok", fazVersion: "v7.4.3-build2487 240514 (GA)", devices: 0 })
    expect(event.reason).toMatch(/XML on 8080: SOAP fault: The XML API is not available on this FortiAnalyzer/u)
    const portal = started().lab.device("portal-1")
    if (!(portal instanceof FortiPortal)) throw new Error("portal-1 is not a FortiPortal")
    expect(portal.analyzers()).toEqual([expect.objectContaining({ server: "faz-1", status: "ok", devices: 0 })])
  })

  it("polls again every poll-interval", async () => {
    const first = await poll("portal-1")
    const from = started().events.indexOf(first) + 1
    await expect(poll("portal-1", from)).resolves.toMatchObject({ status: "ok" })
  })

  it("says why a poll failed: the analyzer refused the login", async () => {
    const event = await poll("portal-2")
    expect(event.status).toBe("failed")
    expect(event.reason).toMatch(/answered -\d+/u)
  })

  it("answers curl's SOAP request on TCP/8080 with the fault that names the JSON-RPC API", async () => {
    const { address, actualPort } = started().lab.plan.resolve("faz-1", "tcp/8080")
    const { stdout } = await run("curl", ["-s", "-i", "-X", "POST", "-H", "SOAPAction: getSystemStatus", "-H", "Content-Type: text/xml", "--data", "<x/>", `http://${address}:${actualPort}/`])
    expect(stdout).toMatch(/^HTTP\/1\.1 500 /u)
    expect(stdout).toContain("Server: xxxxxxxx-xxxxx")
    expect(stdout).toContain("use the JSON-RPC API at POST /jsonrpc")
  })
})
