/**
 * `max-connections-per-source` on the listeners that had only a fixed total before, against real
 * sockets (docs/errors.md, "Named limits"): the LDAP server's TCP/389, the DNS server's TCP/53,
 * FortiGuard's TCP/443, the Fortinet Registry's TCP/443 and TCP/4443, and every management port
 * of the analyzer (set in `admin.setting`). On each, two connections from 127.0.0.1 are held, the
 * third from 127.0.0.1 is refused (a `connection-closed` event with the rule and the setting to
 * raise, counted on the device), and 127.0.0.2 still gets in: a real client is served from it
 * where one can choose its source address (`curl --interface`, `dig -b`), and on every port a
 * connection from it is accepted while one more from 127.0.0.1 right after it is refused.
 */
import { execFile } from "node:child_process"
import { writeFileSync } from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { promisify } from "node:util"
import { PresenceFilter, SearchRequest } from "ldapts"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import type { PortKey } from "../../src/events/events.ts"
import type { ConnectionRules } from "../../src/devices/shared/connection-rules.ts"
import { removeTempDirs, tempDir } from "../support/cli.ts"
import { isEvent, sharedLab, waitForEvent } from "../support/lab.ts"

const run = promisify(execFile)

afterAll(() => removeTempDirs())

const started = sharedLab(`
name: per-source-limits
devices:
  ldap-1: { kind: ldap-server, max-connections: 4, max-connections-per-source: 2 }
  dns-1: { kind: dns-server, max-connections: 4, max-connections-per-source: 2 }
  fg-1: { kind: fortiguard, max-connections: 4, max-connections-per-source: 2 }
  reg-1: { kind: fortinet-registry, max-connections: 4, max-connections-per-source: 2 }
  faz-1:
    kind: fortianalyzer
    admin: { setting: { max-connections: 4, max-connections-per-source: 2 } }
    fortirecorder: { rtsp-transport: tcp }
`)

/** The analyzer's management ports: all of them but TLS/443, which is `https`'s. */
const MANAGEMENT_PORTS: ReadonlyArray<PortKey> = ["tcp/21", "tcp/22", "tcp/80", "tcp/445", "tcp/541", "tcp/3000", "tcp/3010", "tcp/3011", "tcp/8080", "tcp/554"]

const sockets: net.Socket[] = []
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy()
})

/** A connection to `device`'s `port` from `localAddress`, open once this resolves. */
const dial = (device: string, port: PortKey, localAddress: string): Promise<net.Socket> => {
  const target = started().lab.plan.resolve(device, port)
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.address, port: target.actualPort, localAddress }, () => resolve(socket))
    socket.on("error", () => undefined)
    socket.once("error", reject)
    sockets.push(socket)
  })
}

const peerOf = (socket: net.Socket): string => `${socket.localAddress ?? "?"}:${socket.localPort ?? 0}`

const isOpen = (socket: net.Socket): boolean => !socket.destroyed && socket.readyState === "open"

const refusal = (socket: net.Socket) => waitForEvent(started(), "connection-closed", (e) => e.peer === peerOf(socket))

const rulesOf = (device: string): ConnectionRules => (started().lab.devices.get(device) as unknown as { readonly connections: ConnectionRules }).connections

/**
 * Holds two connections from 127.0.0.1, checks the third is refused by the per-source rule, then
 * that 127.0.0.2 gets in: a connection from it is accepted (one more from 127.0.0.1 after it is
 * refused, and the listener accepts in order). Returns the connection from 127.0.0.2.
 */
const limitsOneSource = async (device: string, port: PortKey, settings: string): Promise<net.Socket> => {
  const held = [await dial(device, port, "127.0.0.1"), await dial(device, port, "127.0.0.1")]
  const over = await dial(device, port, "127.0.0.1")
  expect(await refusal(over)).toMatchObject({
    device,
    port,
    rule: "max-connections-per-source",
    reason: `max-connections-per-source 2 reached for 127.0.0.1; raise ${settings}.max-connections-per-source to allow more from one address`
  })
  const other = await dial(device, port, "127.0.0.2")
  const after = await dial(device, port, "127.0.0.1")
  expect((await refusal(after)).rule).toBe("max-connections-per-source")
  expect(started().events.filter(isEvent("connection-closed", (e) => e.peer === peerOf(other)))).toEqual([])
  expect([...held, other].map(isOpen)).toEqual([true, true, true])
  return other
}

/** curl from 127.0.0.2 to `url` at `device`'s `port` under `name`, trusting the lab CA: the HTTP status. */
const curlFromOtherSource = async (device: string, port: PortKey, name: string, urlPath: string): Promise<number> => {
  const { lab } = started()
  const at = lab.plan.resolve(device, port)
  const ca = path.join(tempDir(), "ca.pem")
  writeFileSync(ca, lab.pki.caPem)
  const scheme = port === "tcp/80" ? "http" : "https"
  const { stdout } = await run("curl", [
    "-sS", "--max-time", "10", "--interface", "127.0.0.2", "--cacert", ca, "--resolve", `${name}:${at.actualPort}:${at.address}`,
    "-o", "/dev/null", "-w", "%{http_code}", `${scheme}://${name}:${at.actualPort}${urlPath}`
  ])
  return Number(stdout)
}

describe("max-connections-per-source on LDAP, DNS, FortiGuard, the Fortinet Registry and the analyzer's management ports (real sockets)", () => {
  it("LDAP TCP/389 refuses a third connection from one address and answers a search from another", async () => {
    const other = await limitsOneSource("ldap-1", "tcp/389", "devices.ldap-1")
    const answer = new Promise<Buffer>((resolve) => other.once("data", resolve))
    other.write(new SearchRequest({ messageId: 3, baseDN: "", scope: "base", filter: new PresenceFilter({ attribute: "objectClass" }), attributes: ["namingContexts"] }).write())
    // A SearchResultEntry (application 4, 0x64) for message 3.
    expect((await answer).includes(Buffer.from([0x02, 0x01, 0x03, 0x64]))).toBe(true)
    expect(rulesOf("ldap-1").closed["max-connections-per-source"]).toBe(2)
  })

  it("DNS TCP/53 refuses a third connection from one address and answers dig +tcp from another", async () => {
    await limitsOneSource("dns-1", "tcp/53", "devices.dns-1")
    const at = started().lab.plan.resolve("dns-1", "tcp/53")
    const { stdout } = await run("dig", [`@${at.address}`, "-p", String(at.actualPort), "-b", "127.0.0.2", "+tcp", "+time=5", "+tries=1", "+short", "ldap-1.fazlab.lab"])
    expect(stdout.trim()).toBe(started().lab.plan.addressOf("ldap-1"))
    expect(rulesOf("dns-1").closed["max-connections-per-source"]).toBe(2)
  })

  it("FortiGuard TCP/443 refuses a third connection from one address and serves curl from another", async () => {
    await limitsOneSource("fg-1", "tcp/443", "devices.fg-1")
    expect(await curlFromOtherSource("fg-1", "tcp/443", "globalupdate.fortinet.net", "/fds/v1/manifest/license")).toBe(200)
    expect(rulesOf("fg-1").closed["max-connections-per-source"]).toBe(2)
  })

  it("the Fortinet Registry's TCP/443 and TCP/4443 each refuse a third connection from one address and serve curl from another", async () => {
    for (const port of ["tcp/443", "tcp/4443"] as const) {
      await limitsOneSource("reg-1", port, "devices.reg-1")
      expect(await curlFromOtherSource("reg-1", port, "registry.fortinet.com", "/mea/v1/manifest/fortiwlm")).toBe(200)
    }
    expect(rulesOf("reg-1").closed["max-connections-per-source"]).toBe(4)
  })

  it("every management port of the analyzer refuses a third connection from one address and takes one from another", async () => {
    for (const port of MANAGEMENT_PORTS) {
      await limitsOneSource("faz-1", port, "devices.faz-1.admin.setting")
      // TCP/80 serves curl from 127.0.0.2 (its redirect to HTTPS) while 127.0.0.1 holds its two.
      if (port === "tcp/80") expect(await curlFromOtherSource("faz-1", port, "faz-1", "/")).toBe(301)
    }
    expect(rulesOf("faz-1").closed["max-connections-per-source"]).toBe(2 * MANAGEMENT_PORTS.length)
  })
})
