/**
 * A FortiManager and FortiGates over real TLS on loopback: registration on TCP/541, the device
 * list, a clean goodbye, a duplicate serial refused, garbage answered with an error, and
 * `openssl s_client` seeing the FortiManager's certificate with CN = its serial.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as tls from "node:tls"
import * as Effect from "effect/Effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { FortiManager } from "../../src/devices/fortimanager/fortimanager.ts"
import { encodeFgfm, FgfmDecoder, type FgfmMessage } from "../../src/protocols/fgfm/frames.ts"
import { sharedLab, waitForEvent } from "../support/lab.ts"

const YAML = `
name: fmg-test
devices:
  fmg-1: { kind: fortimanager, serial: FMG-VM0000000042 }
  fgt-1: { kind: fortigate, serial: FGT60FTK20000001, central-management: { fmg: fmg-1 } }
  fgt-2: { kind: fortigate, serial: FGT60FTK20000002, hostname: branch-2, central-management: { fmg: fmg-1, enc-algorithm: low } }
`

let dir: string
const started = sharedLab(YAML)
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fazlab-fmg-"))
})
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

const manager = (): FortiManager => {
  const device = started().lab.device("fmg-1")
  if (!(device instanceof FortiManager)) throw new Error("fmg-1 is not a FortiManager")
  return device
}

const linkRegistered = (device: string) =>
  waitForEvent(started(), "fgfm-link", (e) => e.device === device && e.state === "registered")

/** Opens a TLS connection to the FortiManager's TCP/541 as a client of the lab CA; collects what comes back. */
const rawClient = async (bytes: Buffer): Promise<{ messages: FgfmMessage[]; error: string | null }> => {
  const { address, actualPort } = started().lab.plan.resolve("fmg-1", "tcp/541")
  const socket = tls.connect({ host: address, port: actualPort, ca: [started().lab.pki.caPem], checkServerIdentity: () => undefined })
  const decoder = new FgfmDecoder({ maxMessageBytes: 65536 })
  const messages: FgfmMessage[] = []
  let error: string | null = null
  socket.on("secureConnect", () => socket.write(bytes))
  socket.on("data", (chunk: Buffer) => {
    const result = decoder.push(chunk)
    messages.push(...result.messages)
    if (result.error !== undefined) error = result.error.code
  })
  await new Promise<void>((resolve) => {
    socket.on("close", () => resolve())
    socket.on("error", () => resolve())
  })
  return { messages, error }
}

describe("FortiManager on TCP/541", () => {
  it("lists both FortiGates as registered, pending authorization", async () => {
    await Promise.all([linkRegistered("fgt-1"), linkRegistered("fgt-2")])
    const devices = manager().managedDevices().map(({ serial, hostname, platform, state, connected }) => ({ serial, hostname, platform, state, connected }))
    expect(devices.toSorted((a, b) => a.serial.localeCompare(b.serial))).toEqual([
      { serial: "FGT60FTK20000001", hostname: "fgt-1", platform: "FortiGate-60F", state: "pending", connected: true },
      { serial: "FGT60FTK20000002", hostname: "branch-2", platform: "FortiGate-60F", state: "pending", connected: true }
    ])
    expect(manager().managedDevice("FGT60FTK20000001")?.ip).toBe(started().lab.plan.addressOf("fgt-1"))
  })

  it("authorizing a device reaches its live session", async () => {
    await linkRegistered("fgt-1")
    expect(manager().authorizeDevice("FGT60FTK20000001")).toBe(true)
    await waitForEvent(started(), "fgfm-link", (e) => e.device === "fgt-1" && e.reason === "authorized on the FortiManager")
    expect(manager().managedDevice("FGT60FTK20000001")?.state).toBe("authorized")
    expect(manager().authorizeDevice("FGT-NOT-THERE")).toBe(false)
  })

  it("refuses a second session for a serial that is connected", async () => {
    await linkRegistered("fgt-2")
    const register = encodeFgfm({ type: "register", serialno: "FGT60FTK20000002", hostname: "impostor", platform: "x", version: "y", keepaliveInterval: 300, sockTimeout: 900 })
    const outcome = await rawClient(register)
    expect(outcome.messages).toEqual([{ type: "error", code: "duplicate-session", reason: expect.stringContaining("FGT60FTK20000002 already has a session") }])
    expect(manager().managedDevice("FGT60FTK20000002")?.hostname).toBe("branch-2")
  })

  it("answers garbage with a reply=error and closes", async () => {
    const outcome = await rawClient(Buffer.from("GET / HTTP/1.1\r\n\r\n"))
    expect(outcome).toEqual({ messages: [{ type: "error", code: "bad-magic", reason: "a message must start with 36 e0 11 00, got 47" }], error: null })
  })

  it("openssl s_client sees a certificate with CN = the FortiManager's serial, chained to the lab CA", async () => {
    const caFile = path.join(dir, "ca.pem")
    fs.writeFileSync(caFile, started().lab.pki.caPem)
    const { address, actualPort } = started().lab.plan.resolve("fmg-1", "tcp/541")
    const output = await new Promise<string>((resolve) => {
      const child = spawn("openssl", ["s_client", "-connect", `${address}:${actualPort}`, "-CAfile", caFile, "-showcerts", "-verify_return_error"], { stdio: ["pipe", "pipe", "pipe"] })
      let text = ""
      child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()))
      child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()))
      child.stdin.end()
      child.on("close", () => resolve(text))
    })
    expect(output).toContain("Verify return code: 0 (ok)")
    expect(output).toMatch(/s:CN\s*=\s*FMG-VM0000000042/)
    expect(output).toMatch(/New, TLSv1\.[23], Cipher is /)
  })

  it("a FortiGate that stops says goodbye: the session closes as device-closed and the device goes offline", async () => {
    await linkRegistered("fgt-1")
    await Effect.runPromise(started().lab.device("fgt-1")!.stop())
    const closed = await waitForEvent(started(), "fgfm-session", (e) => e.serial === "FGT60FTK20000001" && e.state === "closed")
    expect(closed.code).toBe("device-closed")
    expect(manager().managedDevice("FGT60FTK20000001")).toMatchObject({ connected: false, state: "authorized" })
  })
})
