/**
 * The analyzer's remote administrators (`config system admin ldap` / `radius`, `user_type ldap`
 * / `radius`), checked against the lab's LDAP and RADIUS servers:
 *
 * - the real OpenSSH client, driven by `expect`, logs in as an LDAP admin and as a RADIUS admin
 *   (password login, the CLI prompt); a wrong password is refused;
 * - `curl` logs in to JSON-RPC (`exec sys/login/user`) as a RADIUS admin, and as a name no
 *   administrator has through the wildcard RADIUS admin;
 * - a server with nothing on its port (an ICMP port unreachable for RADIUS, a refused connection
 *   for LDAP) is `unreachable`, one that never answers a `timeout` after `remote-auth-timeout`; each check is an `admin-auth` event saying
 *   which server answered what;
 * - `diagnose test authserver` tests the servers from the CLI, and `ldap-query` (the report's
 *   query of the directory) gives a user's groups.
 */
import { execFile } from "node:child_process"
import * as dgram from "node:dgram"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { expectScript } from "../support/expect.ts"
import { type StartedLab, startLab, waitForEvent } from "../support/lab.ts"

let dir = ""
/** A UDP socket that takes RADIUS requests and never answers them. */
let silent: dgram.Socket | null = null
let silentPort = 0
/** A port nothing listens on, UDP or TCP (a UDP port bound once, then closed). */
let closedPort = 0
let lab: StartedLab | null = null
const started = (): StartedLab => {
  if (lab === null) throw new Error("the lab starts in beforeAll")
  return lab
}

const bound = (): Promise<dgram.Socket> =>
  new Promise((resolve) => {
    const socket = dgram.createSocket("udp4")
    socket.bind(0, "127.0.0.1", () => resolve(socket))
  })

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fazlab-remote-admin-"))
  silent = await bound()
  silentPort = silent.address().port
  const closed = await bound()
  closedPort = closed.address().port
  await new Promise<void>((resolve) => closed.close(() => resolve()))
  lab = await startLab(labYaml())
})

afterAll(async () => {
  await lab?.close()
  silent?.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

const labYaml = () => `name: remote-admin
devices:
  ldap-1:
    kind: ldap-server
    user:
      alice: { password: alice-pw, group: [faz-admins] }
      dave: { password: dave-pw, group: [staff] }
  radius-1:
    kind: radius-server
    secret: lab-secret
    user:
      bob: { password: bob-pw, group: Super_Admins }
      carol: { password: carol-pw }
  faz-1:
    kind: fortianalyzer
    hostname: FAZ-VM
    admin:
      setting: { remote-auth-timeout: 1s }
      ldap:
        - { name: LAB-LDAP, server: ldap-1, cnid: uid, dn: "ou=people,dc=fazlab,dc=lab", group: faz-admins }
        - { name: DOWN-LDAP, server: "127.0.0.1:${closedPort}", cnid: uid, dn: "ou=people,dc=fazlab,dc=lab" }
      radius:
        - { name: LAB-RADIUS, server: radius-1, secret: lab-secret }
        - { name: DOWN, server: "127.0.0.1:${closedPort}", secret: x }
        - { name: SILENT, server: "127.0.0.1:${silentPort}", secret: x }
      user:
        admin: { password: fortinet }
        alice: { user-type: ldap, ldap_server: LAB-LDAP }
        dave: { user-type: ldap, ldap_server: LAB-LDAP }
        bob: { user-type: radius, radius_server: LAB-RADIUS }
        anyone: { user-type: radius, radius_server: LAB-RADIUS, wildcard: enable }
        eve: { user-type: radius, radius_server: DOWN }
        frank: { user-type: radius, radius_server: SILENT }
        gina: { user-type: ldap, ldap_server: DOWN-LDAP }
`

const sshArgs = (user: string): string => {
  const where = started().lab.plan.resolve("faz-1", "tcp/22")
  return ["-p", String(where.actualPort), "-o", "StrictHostKeyChecking=no", "-o", `UserKnownHostsFile=${path.join(dir, "known_hosts")}`, "-o", "LogLevel=ERROR", "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1", `${user}@${where.address}`]
    .map((a) => `{${a}}`).join(" ")
}

/** An interactive SSH login with `password`, then `command`, then `exit`. */
const login = (user: string, password: string, command: string) =>
  expectScript([
    "set timeout 15",
    `spawn ssh -tt ${sshArgs(user)}`,
    `expect {\n "password:" {}\n timeout { exit 2 }\n}`,
    `send "${password}\\r"`,
    `expect {\n -exact {FAZ-VM # } {}\n "Permission denied" { exit 6 }\n timeout { exit 3 }\n eof { exit 4 }\n}`,
    `send "${command}\\r"`,
    `expect {\n -exact {FAZ-VM # } {}\n timeout { exit 3 }\n eof { exit 4 }\n}`,
    `send "exit\\r"`,
    `expect {\n eof {}\n timeout { exit 5 }\n}`
  ].join("\n"))

/** `exec sys/login/user` with curl: the reply's status code and session. */
const jsonLogin = async (user: string, passwd: string): Promise<{ readonly code: number; readonly session: string | null }> => {
  const { lab } = started()
  const caFile = path.join(dir, "ca.pem")
  fs.writeFileSync(caFile, lab.pki.caPem)
  const { address, actualPort } = lab.plan.resolve("faz-1", "tcp/443")
  const body = JSON.stringify({ id: 1, method: "exec", params: [{ url: "sys/login/user", data: { user, passwd } }] })
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile("curl", ["-sS", "--cacert", caFile, "-H", "Content-Type: application/json", "--data-binary", body, `https://${address}:${actualPort}/jsonrpc`], { timeout: 20_000 }, (error, out) => (error === null ? resolve(out) : reject(error)))
  )
  const reply = JSON.parse(stdout) as { session?: string; result: ReadonlyArray<{ status: { code: number } }> }
  return { code: reply.result[0]?.status.code ?? NaN, session: reply.session ?? null }
}

describe("remote administrators against the lab's LDAP and RADIUS servers", () => {
  it("lets alice in over SSH as an LDAP admin: the LDAP server bound her and said her group", async () => {
    const { code, output } = await login("alice", "alice-pw", "get system status")
    expect(code, output).toBe(0)
    expect(output).toMatch(/Hostname\s+: FAZ-VM/u)
    const auth = await waitForEvent(started(), "admin-auth", (e) => e.user === "alice" && e.via === "ssh")
    expect(auth).toMatchObject({ device: "faz-1", method: "ldap", entry: "LAB-LDAP", server: "ldap-1", result: "accept", group: "cn=faz-admins,ou=groups,dc=fazlab,dc=lab" })
    const bind = await waitForEvent(started(), "ldap-bind", (e) => e.dn === "uid=alice,ou=people,dc=fazlab,dc=lab")
    expect(bind.ok).toBe(true)
    const loggedIn = await waitForEvent(started(), "admin-login", (e) => e.user === "alice" && e.ok)
    expect(loggedIn.reason).toBe("LDAP server ldap-1 accepted uid=alice,ou=people,dc=fazlab,dc=lab (member of cn=faz-admins,ou=groups,dc=fazlab,dc=lab)")
  })

  it("lets bob in over SSH as a RADIUS admin with his Fortinet-Group-Name", async () => {
    const { code, output } = await login("bob", "bob-pw", "get system status")
    expect(code, output).toBe(0)
    const auth = await waitForEvent(started(), "admin-auth", (e) => e.user === "bob" && e.via === "ssh")
    expect(auth).toMatchObject({ method: "radius", entry: "LAB-RADIUS", server: "radius-1", result: "accept", group: "Super_Admins" })
    await waitForEvent(started(), "radius-request", (e) => e.user === "bob" && e.result === "accept" && e.method === "pap")
  })

  it("refuses a wrong password, and an LDAP user outside the required group, and says why", async () => {
    const wrong = await login("alice", "not-hers", "get system status")
    expect(wrong.code, wrong.output).toBe(6)
    const refused = await waitForEvent(started(), "admin-login", (e) => e.user === "alice" && !e.ok)
    expect(refused.reason).toMatch(/^LDAP server ldap-1 refused: .*\(LDAP result 49\)$/u)
    const outsider = await login("dave", "dave-pw", "get system status")
    expect(outsider.code, outsider.output).toBe(6)
    const dave = await waitForEvent(started(), "admin-auth", (e) => e.user === "dave")
    expect(dave).toMatchObject({ result: "reject", reason: "LDAP server ldap-1 accepted uid=dave,ou=people,dc=fazlab,dc=lab, which is not a member of group faz-admins" })
    const radius = await login("bob", "nope", "get system status")
    expect(radius.code, radius.output).toBe(6)
    const bob = await waitForEvent(started(), "admin-auth", (e) => e.user === "bob" && e.result === "reject")
    expect(bob.reason).toBe("RADIUS server radius-1 sent Access-Reject: wrong password for bob (or a client whose shared secret is not this server's)")
  })

  it("logs a RADIUS admin in to JSON-RPC, and a name no admin has through the wildcard admin", async () => {
    const bob = await jsonLogin("bob", "bob-pw")
    expect(bob.code).toBe(0)
    expect(bob.session).not.toBeNull()
    const carol = await jsonLogin("carol", "carol-pw")
    expect(carol.code).toBe(0)
    const wildcard = await waitForEvent(started(), "admin-login", (e) => e.user === "carol" && e.via === "jsonrpc")
    expect(wildcard).toMatchObject({ ok: true, reason: "RADIUS server radius-1 sent Access-Accept, as wildcard administrator anyone" })
    const nobody = await jsonLogin("mallory", "x")
    expect(nobody.code).toBe(-11)
  })

  it("says a server is unreachable, or did not answer within remote-auth-timeout", async () => {
    expect((await jsonLogin("eve", "eve-pw")).code).toBe(-11)
    const down = await waitForEvent(started(), "admin-auth", (e) => e.user === "eve")
    expect(down).toMatchObject({ entry: "DOWN", result: "unreachable" })
    expect(down.reason).toMatch(/^RADIUS server 127\.0\.0\.1:\d+: the server is unreachable \(ECONNREFUSED/u)
    expect((await jsonLogin("frank", "frank-pw")).code).toBe(-11)
    const silentAuth = await waitForEvent(started(), "admin-auth", (e) => e.user === "frank")
    expect(silentAuth).toMatchObject({ entry: "SILENT", result: "timeout", reason: `RADIUS server 127.0.0.1:${silentPort}: no answer within 1 s` })
    expect((await jsonLogin("gina", "gina-pw")).code).toBe(-11)
    const ldapDown = await waitForEvent(started(), "admin-auth", (e) => e.user === "gina")
    expect(ldapDown).toMatchObject({ method: "ldap", entry: "DOWN-LDAP", result: "unreachable" })
    expect(ldapDown.reason).toMatch(/^LDAP server 127\.0\.0\.1:\d+: the server is unreachable \(ECONNREFUSED/u)
  })

  it("tests the servers from the CLI, and runs the report's LDAP query of a user's groups", async () => {
    const ldap = await login("admin", "fortinet", "diagnose test authserver ldap LAB-LDAP alice alice-pw")
    expect(ldap.output).toContain("authenticate 'alice' against 'LAB-LDAP' succeeded!")
    expect(ldap.output).toContain("Group membership(s) - cn=faz-admins,ou=groups,dc=fazlab,dc=lab")
    const radius = await login("admin", "fortinet", "diagnose test authserver radius LAB-RADIUS bob nope")
    expect(radius.output).toContain("authenticate 'bob' against 'LAB-RADIUS' failed: RADIUS server radius-1 sent Access-Reject")
    const query = await login("admin", "fortinet", "diagnose test authserver ldap-query LAB-LDAP dave")
    expect(query.output).toContain("Group membership(s) - cn=staff,ou=groups,dc=fazlab,dc=lab")
    await waitForEvent(started(), "ldap-search", (e) => e.filter === "(uid=dave)" && e.entries === 1)
  })
})
