/**
 * The lab's LDAP server against OpenLDAP's own clients (`ldapsearch`, `ldapwhoami`, `ldapadd`
 * from Debian's ldap-utils) on TCP/389: simple binds (right, wrong and anonymous), searches with
 * filters, the root DSE, a read-only directory; and connectionless LDAP on UDP/389 as a real
 * client library (ldapts, which encodes the request) sends it; and bytes that are not LDAP.
 */
import { execFile } from "node:child_process"
import * as dgram from "node:dgram"
import * as net from "node:net"
import { promisify } from "node:util"
import { EqualityFilter, SearchRequest } from "ldapts"
import { describe, expect, it } from "vitest"
import { foldEvents, initialState } from "../../src/ui/state.ts"
import type { LdapServer } from "../../src/devices/ldap-server/ldap-server.ts"
import { sharedLab, waitForEvent } from "../support/lab.ts"

const run = promisify(execFile)

const started = sharedLab(`
name: ldap-test
devices:
  ldap-1:
    kind: ldap-server
    base-dn: dc=lab,dc=example
    bind: { dn: "cn=reader,dc=lab,dc=example", password: reader-pw }
    user:
      alice: { password: alice-pw, group: [faz-admins, staff], mail: alice@lab.example }
      bob: { password: bob-pw, group: [staff] }
`)

const url = (): string => {
  const at = started().lab.plan.resolve("ldap-1", "tcp/389")
  return `ldap://${at.address}:${at.actualPort}`
}

/** Runs an ldap-utils tool; its exit code and output, whatever the code. */
const tool = async (command: string, args: ReadonlyArray<string>, input?: string): Promise<{ readonly code: number; readonly stdout: string; readonly stderr: string }> => {
  const child = run(command, ["-H", url(), "-o", "nettimeout=5", ...args], { timeout: 20_000 })
  if (input !== undefined) {
    child.child.stdin?.end(input)
  }
  try {
    const { stdout, stderr } = await child
    return { code: 0, stdout, stderr }
  } catch (cause) {
    const failed = cause as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof failed.code === "number" ? failed.code : -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" }
  }
}

describe("LDAP server ↔ ldapsearch", () => {
  it("binds alice and finds her with (uid=alice): her groups, mail and DN", async () => {
    const { code, stdout, stderr } = await tool("ldapsearch", ["-x", "-LLL", "-D", "uid=alice,ou=people,dc=lab,dc=example", "-w", "alice-pw", "-b", "dc=lab,dc=example", "(uid=alice)"])
    expect(stderr).toBe("")
    expect(code).toBe(0)
    expect(stdout).toContain("dn: uid=alice,ou=people,dc=lab,dc=example")
    expect(stdout).toContain("objectClass: inetOrgPerson")
    expect(stdout).toContain("mail: alice@lab.example")
    expect(stdout).toContain("memberOf: cn=faz-admins,ou=groups,dc=lab,dc=example")
    expect(stdout).toContain("memberOf: cn=staff,ou=groups,dc=lab,dc=example")
    const bind = await waitForEvent(started(), "ldap-bind", (e) => e.dn === "uid=alice,ou=people,dc=lab,dc=example")
    expect(bind.ok).toBe(true)
    const search = await waitForEvent(started(), "ldap-search", (e) => e.filter === "(uid=alice)")
    expect(search).toMatchObject({ device: "ldap-1", transport: "tcp", base: "dc=lab,dc=example", entries: 1, result: "success" })
  })

  it("answers AND/OR/substring/presence filters and attribute lists, and groups by member", async () => {
    const members = await tool("ldapsearch", ["-x", "-LLL", "-b", "ou=groups,dc=lab,dc=example", "(&(objectClass=groupOfNames)(member=uid=bob,ou=people,dc=lab,dc=example))", "cn"])
    expect(members.code).toBe(0)
    expect(members.stdout.match(/^cn: .*$/gmu)).toEqual(["cn: staff"])
    const either = await tool("ldapsearch", ["-x", "-LLL", "-b", "dc=lab,dc=example", "(|(uid=al*)(mail=*@nowhere))", "uid"])
    expect(either.stdout.match(/^uid: .*$/gmu)).toEqual(["uid: alice"])
    const people = await tool("ldapsearch", ["-x", "-LLL", "-s", "one", "-b", "ou=people,dc=lab,dc=example", "(uid=*)", "1.1"])
    expect(people.stdout.match(/^dn: .*$/gmu)).toEqual(["dn: uid=alice,ou=people,dc=lab,dc=example", "dn: uid=bob,ou=people,dc=lab,dc=example"])
    const negated = await tool("ldapsearch", ["-x", "-LLL", "-b", "ou=people,dc=lab,dc=example", "(!(memberOf=cn=faz-admins,ou=groups,dc=lab,dc=example))", "uid"])
    expect(negated.stdout.match(/^uid: .*$/gmu)).toEqual(["uid: bob"])
  })

  it("reads the root DSE, and says noSuchObject for a base that is not there", async () => {
    const root = await tool("ldapsearch", ["-x", "-LLL", "-s", "base", "-b", "", "(objectClass=*)", "namingContexts", "supportedLDAPVersion"])
    expect(root.stdout).toContain("namingContexts: dc=lab,dc=example")
    expect(root.stdout).toContain("supportedLDAPVersion: 3")
    const missing = await tool("ldapsearch", ["-x", "-b", "ou=nowhere,dc=lab,dc=example", "(uid=alice)"])
    expect(missing.code).toBe(32)
    expect(missing.stdout).toContain("result: 32 No such object")
  })

  it("refuses a wrong password (49) and an unknown DN, and lets the service account bind", async () => {
    const wrong = await tool("ldapsearch", ["-x", "-D", "uid=alice,ou=people,dc=lab,dc=example", "-w", "nope", "-b", "dc=lab,dc=example", "(uid=alice)"])
    expect(wrong.code).toBe(49)
    expect(wrong.stderr).toContain("Invalid credentials (49)")
    const refused = await waitForEvent(started(), "ldap-bind", (e) => !e.ok && e.reason === "wrong password for uid=alice,ou=people,dc=lab,dc=example")
    expect(refused.device).toBe("ldap-1")
    const unknown = await tool("ldapwhoami", ["-x", "-D", "uid=carol,ou=people,dc=lab,dc=example", "-w", "x"])
    expect(unknown.code).toBe(49)
    const reader = await tool("ldapwhoami", ["-x", "-D", "cn=reader,dc=lab,dc=example", "-w", "reader-pw"])
    expect(reader.code).toBe(0)
    expect(reader.stdout.trim()).toBe("dn:cn=reader,dc=lab,dc=example")
  })

  it("is read-only: ldapadd is refused with unwillingToPerform", async () => {
    const added = await tool("ldapadd", ["-x", "-D", "cn=reader,dc=lab,dc=example", "-w", "reader-pw"], "dn: uid=eve,ou=people,dc=lab,dc=example\nobjectClass: inetOrgPerson\nuid: eve\ncn: eve\nsn: eve\n")
    expect(added.code).toBe(53)
    expect(added.stderr).toContain("the emulated directory is read-only")
  })

  it("answers a connectionless (UDP/389) search in one datagram, and refuses what is not a search", async () => {
    const at = started().lab.plan.resolve("ldap-1", "udp/389")
    const socket = dgram.createSocket("udp4")
    const answer = new Promise<Buffer>((resolve) => socket.once("message", resolve))
    const request = new SearchRequest({ messageId: 7, baseDN: "", scope: "base", filter: new EqualityFilter({ attribute: "objectClass", value: "top" }), attributes: ["namingContexts"] })
    socket.send(request.write(), at.actualPort, at.address)
    const datagram = await answer
    socket.close()
    // A SearchResultEntry (application 4, 0x64) then a SearchResultDone (application 5, 0x65), both for message 7.
    expect(datagram.includes(Buffer.from("dc=lab,dc=example"))).toBe(true)
    expect(datagram.includes(Buffer.from([0x02, 0x01, 0x07, 0x64]))).toBe(true)
    expect(datagram.includes(Buffer.from([0x02, 0x01, 0x07, 0x65]))).toBe(true)
    const udp = await waitForEvent(started(), "ldap-search", (e) => e.transport === "udp")
    expect(udp).toMatchObject({ base: "", entries: 1, result: "success" })

    const garbage = dgram.createSocket("udp4")
    garbage.send(Buffer.from("hello ldap"), at.actualPort, at.address, () => garbage.close())
    const refused = await waitForEvent(started(), "ldap-refused", (e) => e.transport === "udp")
    expect(refused.reason).toMatch(/sent a message that does not start as an LDAPMessage \(a BER SEQUENCE, byte 0x30\) but with byte 0x68 to UDP\/389; it is not answered/u)
  })

  it("closes a TCP connection that sends bytes that are not LDAP, after a Notice of Disconnection, and counts it", async () => {
    const server = started().lab.device("ldap-1") as LdapServer
    const before = server.refused
    const at = started().lab.plan.resolve("ldap-1", "tcp/389")
    const socket = net.connect(at.actualPort, at.address)
    socket.end("GET / HTTP/1.0\r\n\r\n")
    const chunks: Array<Buffer> = []
    socket.on("data", (chunk: Buffer) => chunks.push(chunk))
    await new Promise((resolve) => socket.on("close", resolve))
    const notice = Buffer.concat(chunks)
    expect(notice.includes(Buffer.from("1.3.6.1.4.1.1466.20036"))).toBe(true)
    const refused = await waitForEvent(started(), "ldap-refused", (e) => e.transport === "tcp")
    expect(refused.reason).toMatch(/sent a message that does not start as an LDAPMessage .* byte 0x47; the connection is closed/u)
    expect(server.refused).toBe(before + 1)
  })

  it("shows its ports in the UI's ports panel, as the lab's events tell them", () => {
    const state = foldEvents(initialState({ v: 1, type: "snapshot", lab: "test", devices: [], listeners: [] }), started().events, () => null)
    expect(state.ports.filter((p) => p.device === "ldap-1").map((p) => `${p.device} ${p.port} ${p.state}`)).toEqual(["ldap-1 tcp/389 listening", "ldap-1 udp/389 listening"])
  })
})
