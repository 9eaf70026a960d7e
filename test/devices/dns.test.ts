/**
 * The lab's DNS server against `dig` (UDP and TCP): every FQDN of the vendor table answers, the
 * lab's names answer with their devices' addresses, other names are NXDOMAIN. An analyzer with
 * `config system dns` resolves its FortiGuard names through it at start and says how far each
 * update check got (test/devices/fortiguard.test.ts updates from an emulated FortiGuard); with
 * its DNS server down, why it failed.
 */
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import type { DnsServer } from "../../src/devices/dns-server/dns-server.ts"
import { vendorNames } from "../../src/protocols/dns/lab-zone.ts"
import { isEvent, sharedLab, waitForEvent } from "../support/lab.ts"

const run = promisify(execFile)

const started = sharedLab(`
name: dns-test
devices:
  dns-1:
    kind: dns-server
    default-address: 127.0.0.254
    records: { globalupdate.fortinet.net: faz-2 }
  faz-2: { kind: fortianalyzer }
  faz-1:
    kind: fortianalyzer
    dns: { primary: dns-1 }
`)

const dig = async (args: ReadonlyArray<string>): Promise<string> => {
  const at = started().lab.plan.resolve("dns-1", args.includes("+tcp") ? "tcp/53" : "udp/53")
  const { stdout } = await run("dig", [`@${at.address}`, "-p", String(at.actualPort), "+time=2", "+tries=1", ...args])
  return stdout
}

describe("DNS server ↔ dig, and the analyzer resolving through it", () => {
  it("answers every FQDN of the vendor table over UDP, one dig for all", async () => {
    const names = vendorNames()
    expect(names).toContain("fds1.fortinet.com")
    expect(names).toContain("globalupdate2.fortinet.net")
    expect(names).toContain("registry.fortinet.com")
    const out = await dig([...names.flatMap((name) => [name, "A"]), "+noall", "+answer"])
    const answered = new Map(out.trim().split("\n").map((line) => line.split(/\s+/u)).map((fields) => [fields[0]?.replace(/\.$/u, ""), fields[4]]))
    for (const name of names) expect(answered.has(name), name).toBe(true)
    expect(answered.get("globalupdate.fortinet.net")).toBe(started().lab.plan.addressOf("faz-2"))
    expect(answered.get("fds1.fortinet.com")).toBe("127.0.0.254")
  })

  it("answers lab names over TCP, says NXDOMAIN for others, and is authoritative", async () => {
    const lab = await dig(["+tcp", "faz-1.fazlab.lab", "A"])
    expect(lab).toContain("status: NOERROR")
    expect(lab).toMatch(/flags: qr aa rd;/u)
    expect(lab).toMatch(new RegExp(`^faz-1\\.fazlab\\.lab\\.\\s+60\\s+IN\\s+A\\s+${started().lab.plan.addressOf("faz-1").replaceAll(".", "\\.")}$`, "mu"))
    const other = await dig(["www.example.com", "A"])
    expect(other).toContain("status: NXDOMAIN")
    const aaaa = await dig(["fds1.fortinet.com", "AAAA"])
    expect(aaaa).toContain("status: NOERROR")
    expect(aaaa).toContain("ANSWER: 0")
    expect((started().lab.device("dns-1") as DnsServer).queries("www.example.com")).toBe(1)
  })

  it("lets faz-1 resolve its FortiGuard anycast names and says how far each update check got", async () => {
    const { lab, events } = started()
    const byService = async (service: string) =>
      waitForEvent(started(), "fortiguard-update", (event) => event.device === "faz-1" && event.service === service)
    const avips = await byService("AV-IPS packages")
    expect(avips.name).toBe("globalupdate.fortinet.net")
    // faz-2's TLS/443 answers, with a certificate that does not cover the FortiGuard name.
    expect(avips.state).toBe("tls-failed")
    const fct = await byService("AV-IPS packages (FortiClient)")
    expect(fct.name).toBe("globalfctupdate.fortinet.net")
    expect(fct.state).toBe("connect-failed")
    expect(fct.reason).toMatch(/^AV-IPS packages \(FortiClient\) update failed: globalfctupdate\.fortinet\.net is 127\.0\.0\.254 \(by dns-1\) but TCP\/443 there failed: /u)
    const queried = events.filter(isEvent("dns-query", (event) => event.peer.startsWith(`${lab.plan.addressOf("faz-1")}:`)))
    expect(new Set(queried.map((event) => event.name))).toEqual(new Set(["globalupdate.fortinet.net", "globalfctupdate.fortinet.net", "productapi.fortinet.com", "filestore.fortinet.com", "mapserver.fortinet.com"]))
  })

  it("says the DNS server does not listen when it is down, at the analyzer's next start", async () => {
    const { lab, events } = started()
    await Effect.runPromise(lab.device("dns-1")!.stop())
    const from = events.length
    await Effect.runPromise(lab.device("faz-1")!.stop())
    await Effect.runPromise(lab.device("faz-1")!.start())
    const failed = await waitForEvent(started(), "fortiguard-update", (event) => event.device === "faz-1" && event.service === "GeoIP", { from })
    expect(failed.state).toBe("dns-failed")
    expect(failed.reason).toBe("GeoIP update failed: globalupdate.fortinet.net did not resolve: dns-1 does not listen on udp/53")
  })
})
