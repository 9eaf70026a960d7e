/**
 * The probe matrix against a real in-process lab over its control channel: every flow fazlab
 * serves is checked at the application level (an OFTP hello, syslog the analyzer confirms it
 * stored by the probe's token, an HA JOIN answered by the acting primary while the secondary does
 * not listen, HTTPS and HTTP answers, an SSH key exchange, SMTP, DNS over UDP and TCP, NTP, an
 * FGFM registration with the FortiManager, HTTPS to the lab's FortiGuard), rows fazlab does not
 * serve are not probed and say why (the Google Maps rows: represented, not emulated), and
 * expectations decide pass and fail.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type ControlClient, connectControl } from "../../src/control/client.ts"
import { ALLOW_ALL, parseExpectations } from "../../src/probe/expectations.ts"
import { catalogFlows } from "../../src/probe/flows.ts"
import { confirmStored, planFlow, probeLab } from "../../src/probe/matrix.ts"
import type { ProbeReport } from "../../src/probe/report.ts"
import { serve, type Served } from "../control/support.ts"
import { sharedLab, waitForRole } from "../support/lab.ts"

const LAB = `
name: probe-test
devices:
  faz-a:
    kind: fortianalyzer
    serial: FAZ-VM0000000001
    ha: { priority: 120 }
  faz-b:
    kind: fortianalyzer
    serial: FAZ-VM0000000002
  smtp-1:
    kind: smtp-relay
  dns-1:
    kind: dns-server
  ntp-1:
    kind: ntp-server
  fg-1:
    kind: fortiguard
  files-1:
    kind: file-server
  fmg-1:
    kind: fortimanager
ha:
  lab:
    members: [faz-a, faz-b]
    group-id: 1
    hb-interval: 1s
    hb-lost-threshold: 3
`

const started = sharedLab(LAB)
let served: Served
let client: ControlClient
let report: ProbeReport

const flow = (id: string) => {
  const found = report.flows.find((f) => f.id === id)
  if (found === undefined) throw new Error(`no flow ${id} in the report`)
  return found
}

beforeAll(async () => {
  await waitForRole(started(), "faz-a", "primary")
  await waitForRole(started(), "faz-b", "secondary")
  served = await serve(started().lab)
  client = await connectControl({ url: served.server.url, token: served.server.token })
  report = await probeLab(client, catalogFlows(), { timeoutMs: 5000, concurrency: 16, expectations: ALLOW_ALL })
}, 60_000)

afterAll(async () => {
  await client?.close()
  await served?.close()
})

describe("fazlab probe against a lab", () => {
  it("completes TLS and the OFTP hello on the analyzers' TCP/514", () => {
    for (const id of ["fortigate->fortianalyzer/tcp/514/oftp", "fortimanager->fortianalyzer/tcp/514/oftp"]) {
      expect(flow(id).outcome, flow(id).detail).toBe("reachable")
      expect(flow(id).detail).toMatch(/^TLS and the OFTP hello with 127\.\d+\.\d+\.\d+:\d+ completed \(pending\)$/u)
    }
  })

  it("completes TLS and an FGFM registration on the FortiManager's TCP/541", () => {
    const fgfm = flow("fortigate->fortimanager/tcp/541/fgfm")
    expect(fgfm.outcome, fgfm.detail).toBe("reachable")
    expect(fgfm.detail).toMatch(/^TLS and the FGFM registration with 127\.\d+\.\d+\.\d+:\d+ completed \(pending\)$/u)
  })

  it("counts syslog over UDP and TCP only when the analyzer stored the probe message", () => {
    for (const id of ["forticlient->fortianalyzer/udp/514/syslog", "fortimanager->fortianalyzer/udp/514/syslog", "forticlient->fortianalyzer/tcp/514/syslog", "forticlient->fortianalyzer/tcp/514/logs-from-windows-macos-linux"]) {
      expect(flow(id).outcome, flow(id).detail).toBe("reachable")
      expect(flow(id).detail).toMatch(/^faz-a stored the probe message sent over (UDP|TCP) to /u)
    }
  })

  it("finds the probe's message in the store by its token, and does not confirm a token nobody sent", async () => {
    const logs = await client.command({ name: "logs", text: "fazlab probe of forticlient->fortianalyzer/udp/514/syslog", limit: 5 })
    expect(logs.logs.length).toBe(1)
    expect(logs.logs[0]?.raw).toMatch(/probe="fazlabprobe[0-9a-f]{16}"/u)
    expect(await confirmStored(client, "fazlabprobe0000000000000000", undefined, 300)).toBe(false)
  })

  it("checks TCP/5199 on the acting primary only: faz-a answers the probe's JOIN, faz-b does not listen, as expected", () => {
    const ha = flow("fortianalyzer->fortianalyzer/tcp/5199/ha")
    expect(ha.outcome, ha.detail).toBe("reachable")
    expect(ha.verdict).toBe("pass")
    expect(ha.targets.map((t) => [t.device, t.outcome])).toEqual([["faz-a", "reachable"], ["faz-b", "not-listening"]])
    expect(ha.targets[0]?.detail).toMatch(/answered a probe JOIN \(ERROR (wrong-group|unknown-member)\)$/u)
  })

  it("gets HTTPS, HTTP and SSH answers from the analyzer's intake and management plane", () => {
    expect(flow("forticlient->fortianalyzer/tcp/8443/logs-from-chromebook").detail).toMatch(/^HTTPS GET \/ on .+ answered \d{3}$/u)
    expect(flow("forticlient->fortianalyzer/tls/443/fabric-member").outcome).toBe("reachable")
    // TCP/80 and TCP/22 are on each member's own address, primary or not.
    const web = flow("admin-pc->fortianalyzer/tcp/80/web-admin")
    expect(web.targets.map((t) => t.device).sort()).toEqual(["faz-a", "faz-b"])
    for (const target of web.targets) expect(target.detail).toMatch(/^HTTP GET \/ on .+ answered \d{3}$/u)
    const ssh = flow("admin-pc->fortianalyzer/tcp/22/ssh")
    expect(ssh.outcome, ssh.detail).toBe("reachable")
    expect(ssh.targets.map((t) => t.device).sort()).toEqual(["faz-a", "faz-b"])
    for (const target of ssh.targets) expect(target.detail).toMatch(/^SSH banner and key exchange with .+ completed \(.+, host key .+\)$/u)
  })

  it("sends a FortiManager's request=discover to each analyzer's TCP/541, and the analyzer registers over FGFM", () => {
    const fgfm = flow("fortimanager->fortianalyzer/tcp/541/management")
    expect(fgfm.outcome, fgfm.detail).toBe("reachable")
    expect(fgfm.targets.map((t) => t.device).sort()).toEqual(["faz-a", "faz-b"])
    for (const target of fgfm.targets) expect(target.detail).toMatch(/^TLS, request=discover and the FGFM registration of FAZ-VM000000000[12] on .+ completed$/u)
  })

  it("reaches the web service FortiPortal's XML calls use on TCP/8080 (a SOAP fault on 7.x)", () => {
    const xml = flow("fortiportal->fortianalyzer/tcp/8080/api-communications-json-and-xml")
    expect(xml.outcome, xml.detail).toBe("reachable")
    for (const target of xml.targets) expect(target.detail).toMatch(/^HTTP GET \/ on .+ answered 500$/u)
  })

  it("reaches the outgoing peers the lab has: SMTP, DNS over UDP and TCP, NTP, the file server's FTP and SSH", () => {
    expect(flow("fortianalyzer->smtp-server/tcp/25/alert-email").detail).toMatch(/greeted and answered EHLO$/u)
    expect(flow("fortianalyzer->dns-server/udp/53/dns").detail).toMatch(/over UDP answered fds1\.fortinet\.com/u)
    expect(flow("fortianalyzer->dns-server/tcp/53/dns").detail).toMatch(/over TCP answered fds1\.fortinet\.com/u)
    expect(flow("fortianalyzer->ntp-server/udp/123/ntp").detail).toMatch(/^NTP on .+ answered \(stratum \d+\)$/u)
    expect(flow("fortianalyzer->file-server/tcp/21/log-report").detail).toMatch(/^FTP on .+ greeted: 220 /u)
    expect(flow("fortianalyzer->file-server/tcp/22/log-report").detail).toMatch(/^SSH banner and key exchange with .+ completed/u)
    expect(flow("fortianalyzer->file-server/tcp/20/log-report").detail).toBe("no file-server of the lab listens on tcp/20 (files-1 running)")
  })

  it("reaches the lab's FortiGuard on TCP/443 and under the URLs of its rows (productapi, mapserver ...)", () => {
    const services = flow("fortianalyzer->fortiguard/tcp/443/av-ips-sms-ftm-licensing-policy-override-rvs-geoip")
    expect(services.outcome, services.detail).toBe("reachable")
    expect(services.detail).toMatch(/^HTTPS GET \/ on .+ answered 404$/u)
    const mapserver = flow("fortianalyzer->fortiguard/https/443/google-maps-license-management-mapserver-fortinet-com")
    expect(mapserver.outcome, mapserver.detail).toBe("reachable")
  })

  it("checks the FortiRecorder row's ports where it knows their protocol: FTP's greeting on 21, HTTP on 3011, a TCP connect on 3010", () => {
    expect(flow("fortirecorder->fortianalyzer/tcp/21/logging-management").detail).toMatch(/FTP on .+ greeted: 220 /u)
    expect(flow("fortirecorder->fortianalyzer/tcp/3011/logging-management").detail).toMatch(/HTTP GET \/ on .+ answered 404/u)
    expect(flow("fortirecorder->fortianalyzer/tcp/3010/logging-management").outcome).toBe("reachable")
  })

  it("does not probe what fazlab does not serve, and says why", () => {
    expect(flow("fortianalyzer->snmp-manager/udp/162/snmp-traps").detail).toBe("the lab has no snmp-manager device")
    const maps = flow("admin-pc->google-maps/https/443/google-maps-integration-maps-google-com")
    expect(maps.outcome).toBe("not-probed")
    expect(maps.detail).toBe("represented: a flow from the admin-pc to maps.google.com, not from or to the analyzer; fazlab emulates neither side")
  })

  it("passes every probed flow when every flow is expected allowed, and skips the rest", () => {
    expect(report.flows.filter((f) => f.verdict === "fail").map((f) => `${f.id}: ${f.detail}`)).toEqual([])
    expect(report.summary.passed).toBe(report.flows.filter((f) => f.outcome === "reachable").length)
    expect(report.summary.passed + report.summary.skipped).toBe(report.flows.length)
    expect(report.summary.passed).toBeGreaterThanOrEqual(17)
  })

  it("fails the flows expected denied that are reachable", async () => {
    const ids = catalogFlows().map((f) => f.id)
    const expectations = parseExpectations("flows:\n  \"*/udp/514/*\": deny\n", "deny-udp.yaml", ids)
    if (typeof expectations === "string") throw new Error(expectations)
    const flows = catalogFlows({ to: "fortianalyzer" }).filter((f) => f.transport === "udp")
    const denied = await probeLab(client, flows, { timeoutMs: 5000, concurrency: 16, expectations })
    const probed = denied.flows.filter((f) => f.outcome !== "not-probed")
    expect(probed.length).toBe(5)
    expect(probed.every((f) => f.expected === "deny" && f.outcome === "reachable" && f.verdict === "fail")).toBe(true)
  })

  it("plans a namespace lab's flows from a device of the source role, and skips roles it has no device for", () => {
    const snapshot = {
      devices: [
        { id: "faz-1", kind: "fortianalyzer", status: "running", netns: "lab-faz-1" },
        { id: "fgt-1", kind: "fortigate", status: "running", netns: "lab-fgt-1" }
      ],
      listeners: [{ device: "faz-1", port: "tcp/514", address: "10.99.0.2", actualPort: 514 }, { device: "faz-1", port: "tcp/22", address: "10.99.0.2", actualPort: 22 }]
    }
    const oftp = catalogFlows().find((f) => f.id === "fortigate->fortianalyzer/tcp/514/oftp")
    const ssh = catalogFlows().find((f) => f.id === "admin-pc->fortianalyzer/tcp/22/ssh")
    if (oftp === undefined || ssh === undefined) throw new Error("catalog flows missing")
    expect(planFlow(oftp, snapshot)).toMatchObject({ kind: "probe", check: "oftp", source: { device: "fgt-1", netns: "lab-fgt-1" }, targets: [{ address: "10.99.0.2", port: 514 }] })
    expect(planFlow(ssh, snapshot)).toEqual({ kind: "skip", reason: "no admin-pc device of this namespace lab to probe from" })
  })
})
