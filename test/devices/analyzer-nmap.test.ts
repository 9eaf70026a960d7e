/**
 * `nmap -sV` against the analyzer's management and HTTPS ports names each service sensibly:
 * SSH on TCP/22, and on TCP/80, TLS/443 and TLS/8443 the placeholder `Server` header Fortinet's
 * web servers send, which nmap reads as "Fortinet security device httpd".
 */
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"
import { sharedLab } from "../support/lab.ts"

const run = promisify(execFile)

const started = sharedLab("name: nmap\ndevices:\n  faz-1: { kind: fortianalyzer }\n")

describe("nmap -sV against the analyzer", () => {
  it("names SSH, HTTP and HTTPS on the management and FortiClient ports", async () => {
    const ports = (["tcp/22", "tcp/80", "tcp/443", "tcp/8443"] as const).map((port) => started().lab.plan.resolve("faz-1", port))
    const address = ports[0]!.address
    const { stdout } = await run("nmap", ["-sV", "--version-light", "-Pn", "-oG", "-", "-p", ports.map((p) => p.actualPort).join(","), address], { timeout: 100_000 })
    // Grepable output: "Ports: 41022/open/tcp//ssh//(protocol 2.0)/, 41080/open/tcp//http//Fortinet security device httpd/, ..."
    const services = new Map([...stdout.matchAll(/(\d+)\/open\/tcp\/\/([^/]*)\/\/([^/]*)\//gu)].map((m) => [Number(m[1]), `${m[2]} ${m[3]}`.trim()]))
    expect(ports.map((p) => services.get(p.actualPort))).toEqual([
      expect.stringMatching(/^ssh/u),
      "http Fortinet security device httpd",
      "ssl|http Fortinet security device httpd",
      "ssl|http Fortinet security device httpd"
    ])
  }, 120_000)
})
