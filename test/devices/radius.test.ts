/**
 * The lab's RADIUS server against FreeRADIUS's `radclient` (Debian's freeradius-utils): PAP and
 * CHAP Access-Requests for the lab's users, Access-Accept with Fortinet-Group-Name (read back
 * through FreeRADIUS's own Fortinet dictionary), Access-Reject for a wrong password, a request
 * signed with another secret dropped unanswered, and a datagram that is not RADIUS.
 */
import { execFile } from "node:child_process"
import * as dgram from "node:dgram"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"
import { foldEvents, initialState } from "../../src/ui/state.ts"
import type { RadiusServer } from "../../src/devices/radius-server/radius-server.ts"
import { sharedLab, waitForEvent } from "../support/lab.ts"

const run = promisify(execFile)

const started = sharedLab(`
name: radius-test
devices:
  radius-1:
    kind: radius-server
    secret: lab-secret
    user:
      bob: { password: bob-pw, group: faz-admins }
      carol: { password: carol-pw }
`)

/** One radclient request: its exit code and what it printed. */
const radclient = async (attributes: string, secret = "lab-secret", extra: ReadonlyArray<string> = []): Promise<{ readonly code: number; readonly out: string }> => {
  const at = started().lab.plan.resolve("radius-1", "udp/1812")
  const child = run("radclient", ["-x", "-r", "1", "-t", "2", ...extra, `${at.address}:${at.actualPort}`, "auth", secret], { timeout: 20_000 })
  child.child.stdin?.end(`${attributes}\n`)
  try {
    const { stdout, stderr } = await child
    return { code: 0, out: stdout + stderr }
  } catch (cause) {
    const failed = cause as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof failed.code === "number" ? failed.code : -1, out: (failed.stdout ?? "") + (failed.stderr ?? "") }
  }
}

describe("RADIUS server ↔ radclient", () => {
  it("accepts bob with PAP and sends his Fortinet-Group-Name", async () => {
    const { code, out } = await radclient(`User-Name = "bob", User-Password = "bob-pw"`)
    expect(code).toBe(0)
    expect(out).toMatch(/Received Access-Accept Id \d+ from/u)
    expect(out).toMatch(/Fortinet-Group-Name = "faz-admins"/u)
    const event = await waitForEvent(started(), "radius-request", (e) => e.user === "bob" && e.result === "accept")
    expect(event).toMatchObject({ device: "radius-1", method: "pap", group: "faz-admins" })
  })

  it("accepts carol with CHAP, and with a Message-Authenticator answers with one", async () => {
    const chap = await radclient(`User-Name = "carol", CHAP-Password = "carol-pw"`)
    expect(chap.code).toBe(0)
    expect(chap.out).toMatch(/Received Access-Accept/u)
    expect(chap.out).not.toContain("Fortinet-Group-Name")
    await waitForEvent(started(), "radius-request", (e) => e.user === "carol" && e.method === "chap" && e.result === "accept")
    const signed = await radclient(`User-Name = "carol", User-Password = "carol-pw", Message-Authenticator = 0x00`)
    expect(signed.code).toBe(0)
    expect(signed.out).toMatch(/Received Access-Accept/u)
    expect(signed.out).toMatch(/Message-Authenticator = 0x[0-9a-f]{32}/u)
  })

  it("rejects a wrong password and an unknown user with a Reply-Message", async () => {
    const wrong = await radclient(`User-Name = "bob", User-Password = "nope"`)
    expect(wrong.out).toMatch(/Received Access-Reject/u)
    expect(wrong.out).toContain("wrong password for bob")
    const unknown = await radclient(`User-Name = "mallory", User-Password = "x"`)
    expect(unknown.out).toMatch(/Received Access-Reject/u)
    expect(unknown.out).toContain("no user named mallory")
    const server = started().lab.device("radius-1") as RadiusServer
    expect(server.rejected).toBeGreaterThanOrEqual(2)
  })

  it("drops a request signed with another secret, and a datagram that is not RADIUS, saying why", async () => {
    const server = started().lab.device("radius-1") as RadiusServer
    const before = server.dropped
    const other = await radclient(`User-Name = "bob", User-Password = "bob-pw", Message-Authenticator = 0x00`, "not-the-secret")
    expect(other.code).not.toBe(0)
    expect(other.out).toMatch(/No reply from server|no response/iu)
    const dropped = await waitForEvent(started(), "radius-request", (e) => e.result === "dropped" && e.user === "bob")
    expect(dropped.reason).toMatch(/Message-Authenticator .* does not verify: the client's shared secret is not this server's/u)

    const at = started().lab.plan.resolve("radius-1", "udp/1812")
    const socket = dgram.createSocket("udp4")
    socket.send(Buffer.from("not radius"), at.actualPort, at.address, () => socket.close())
    const garbage = await waitForEvent(started(), "radius-request", (e) => e.result === "dropped" && e.reason.includes("shorter than a RADIUS header"))
    expect(garbage.reason).toMatch(/sent a 10-byte datagram, shorter than a RADIUS header \(20 bytes\); it is dropped/u)
    expect(server.dropped).toBe(before + 2)
  })

  it("shows its ports in the UI's ports panel, as the lab's events tell them", () => {
    const state = foldEvents(initialState({ v: 1, type: "snapshot", lab: "test", devices: [], listeners: [] }), started().events, () => null)
    expect(state.ports.filter((p) => p.device === "radius-1").map((p) => `${p.device} ${p.port} ${p.state}`)).toEqual(["radius-1 udp/1812 listening"])
  })
})
