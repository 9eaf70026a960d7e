/**
 * A FortiManager that manages a FortiAnalyzer (the vendor table's FortiManager → FortiAnalyzer
 * TCP/541): it connects to the analyzer's TCP/541, sends request=discover, and the analyzer
 * registers in its device list; authorizing reaches the analyzer's session; a clean stop of the
 * analyzer ends the session and the FortiManager connects again once it is back. `openssl
 * s_client` sees the analyzer's certificate on TCP/541; a client that does not start with
 * request=discover is answered with discover-required.
 */
import { spawn } from "node:child_process"
import * as net from "node:net"
import * as tls from "node:tls"
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import { FortiManager } from "../../src/devices/fortimanager/fortimanager.ts"
import type { EventOf } from "../../src/events/events.ts"
import { encodeFgfm, FgfmDecoder, type FgfmMessage } from "../../src/protocols/fgfm/frames.ts"
import { sharedLab, waitForEvent } from "../support/lab.ts"

const YAML = `
name: fmg-faz
devices:
  faz-1: { kind: fortianalyzer, serial: FAZ-VM0000000007, hostname: faz-branch }
  fmg-1: { kind: fortimanager, serial: FMG-VM0000000042, managed-analyzers: [faz-1], analyzer-link: { retry-interval: 1s } }
`

const started = sharedLab(YAML)

const manager = (): FortiManager => {
  const device = started().lab.device("fmg-1")
  if (!(device instanceof FortiManager)) throw new Error("fmg-1 is not a FortiManager")
  return device
}

/** The analyzer's next `fgfm-link` event in `state` after the first `from` events. */
const analyzerLink = (state: EventOf<"fgfm-link">["state"], from = 0, reason?: RegExp) =>
  waitForEvent(started(), "fgfm-link", (e) => e.device === "faz-1" && e.state === state && (reason === undefined || reason.test(e.reason)), { from })

/** Runs `openssl s_client` against the analyzer's TCP/541 and returns what it printed. */
const opensslSubject = (port: number, host: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn("openssl", ["s_client", "-connect", `${host}:${port}`, "-brief"], { stdio: ["pipe", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()))
    child.on("error", reject)
    child.on("close", () => resolve(output))
    child.stdin.end()
  })

describe("a FortiManager managing a FortiAnalyzer over TCP/541", () => {
  it("connects to the analyzer, which registers in its device list, pending authorization", async () => {
    const registered = await analyzerLink("registered")
    expect(registered.manager).toBe("FMG-VM0000000042")
    const device = manager().managedDevice("FAZ-VM0000000007")
    expect(device).toMatchObject({ hostname: "faz-branch", platform: "FortiAnalyzer-VM64", version: "v7.4.3", state: "pending", connected: true })
    expect(device?.ip).toBe(started().lab.plan.addressOf("faz-1"))
    expect(started().events).toContainEqual(expect.objectContaining({ type: "fgfm-discover", manager: "fmg-1", analyzer: "faz-1", state: "connected" }))
  })

  it("authorizing the analyzer reaches its live session", async () => {
    await analyzerLink("registered")
    const from = started().events.length
    expect(manager().authorizeDevice("FAZ-VM0000000007")).toBe(true)
    await analyzerLink("registered", from, /^authorized on/)
  })

  it("shows the analyzer's certificate (CN = its serial) to openssl s_client on TCP/541", async () => {
    const { address, actualPort } = started().lab.plan.resolve("faz-1", "tcp/541")
    const output = await opensslSubject(actualPort, address)
    expect(output).toMatch(/Peer certificate: CN ?= ?FAZ-VM0000000007/)
  })

  it("answers a client that does not start with request=discover with discover-required", async () => {
    const { address, actualPort } = started().lab.plan.resolve("faz-1", "tcp/541")
    const socket = tls.connect({ host: address, port: actualPort, ca: [started().lab.pki.caPem], checkServerIdentity: () => undefined })
    const decoder = new FgfmDecoder({ maxMessageBytes: 65536 })
    const messages: FgfmMessage[] = []
    socket.on("secureConnect", () => socket.write(encodeFgfm({ type: "keepalive", serialno: "FGT60FTK20000009" })))
    socket.on("data", (chunk: Buffer) => messages.push(...decoder.push(chunk).messages))
    await new Promise<void>((resolve) => {
      socket.on("close", () => resolve())
      socket.on("error", () => resolve())
    })
    expect(messages).toEqual([expect.objectContaining({ type: "error", code: "discover-required" })])
    await waitForEvent(started(), "connection-closed", (e) => e.device === "faz-1" && e.port === "tcp/541" && /^FGFM refused \(discover-required\)/u.test(e.reason))
  })

  it("counts and says a link that is not TLS at all, refused before any FGFM", async () => {
    const { address, actualPort } = started().lab.plan.resolve("faz-1", "tcp/541")
    const socket = net.connect({ host: address, port: actualPort }, () => socket.write("GET / HTTP/1.0\r\n\r\n"))
    socket.on("error", () => undefined)
    const event = await waitForEvent(started(), "connection-closed", (e) => e.device === "faz-1" && e.port === "tcp/541" && e.reason.startsWith("FGFM refused (handshake-failed)"))
    expect(event.reason).toMatch(/TLS/u)
    socket.destroy()
  })

  it("after a clean stop of the analyzer, the FortiManager connects again once it is back", async () => {
    await analyzerLink("registered")
    const from = started().events.length
    await Effect.runPromise(started().lab.perform({ stop: "faz-1" }))
    await waitForEvent(started(), "fgfm-session", (e) => e.manager === "fmg-1" && e.serial === "FAZ-VM0000000007" && e.state === "closed", { from })
    expect(manager().managedDevice("FAZ-VM0000000007")?.connected).toBe(false)
    await Effect.runPromise(started().lab.perform({ start: "faz-1" }))
    await analyzerLink("registered", from, /authorized on the FortiManager/)
    expect(manager().managedDevice("FAZ-VM0000000007")).toMatchObject({ state: "authorized", connected: true })
  })
})
