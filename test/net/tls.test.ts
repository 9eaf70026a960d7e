/**
 * TLS settings against real handshakes on loopback: FortiOS's enc-algorithm and
 * ssl-min-proto-version as Node options, the analyzer-serial check, the openssl binary as a
 * third-party client, the upgrade of a TCP/514 socket whose first byte was already read, and
 * dials cancelled before they began (a device stopped while it was issuing its certificate).
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs/promises"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as tls from "node:tls"
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest"
import { LabPki, type TlsIdentity } from "../../src/net/pki.ts"
import { dialTcp } from "../../src/net/tcp.ts"
import {
  clientTlsOptions,
  type ClientTlsSettings,
  cipherString,
  dialTls,
  protocolRange,
  serverTlsOptions,
  type ServerTlsSettings,
  TlsConfigError,
  TlsHandshakeError,
  upgradeToTls,
  verifyAnalyzerSerial
} from "../../src/net/tls.ts"

const ANALYZER = "FAZ-VM0000000001"
const DEVICE = "FGT60FTK20000001"

let dir = ""
let pki: LabPki
let analyzer: TlsIdentity
let device: TlsIdentity
let stranger: TlsIdentity

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "fazlab-tls-"))
  pki = await LabPki.load({ dir, labName: "test" })
  // Only a name the client never dials: the handshake must pass without Node's host-name check.
  analyzer = await pki.issue({ serial: ANALYZER, role: "server", hostnames: ["faz.lab.invalid"], ips: [] })
  device = await pki.issue({ serial: DEVICE, role: "client" })
  stranger = await (await LabPki.load({ dir: null, labName: "other" })).issue({ serial: DEVICE, role: "client" })
})
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  vi.useRealTimers()
  for (const close of closers.splice(0)) await close()
})

const serverSettings = (overrides: Partial<ServerTlsSettings> = {}): ServerTlsSettings => ({
  identity: analyzer,
  caPem: pki.caPem,
  encAlgorithm: "high",
  sslMinProtoVersion: "default",
  requestClientCert: false,
  ...overrides
})

const clientSettings = (overrides: Partial<ClientTlsSettings> = {}): ClientTlsSettings => ({
  caPem: pki.caPem,
  encAlgorithm: "high",
  sslMinProtoVersion: "default",
  ...overrides
})

/** Binds `server` on 127.0.0.1 with a kernel-chosen port, closed after the test. */
const listen = (server: net.Server): Promise<number> =>
  new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      closers.push(() => new Promise((done) => server.close(() => done())))
      resolve((server.address() as net.AddressInfo).port)
    })
  })

/** A TLS server built from `serverTlsOptions` that answers "pong" to anything. */
const tlsServer = async (settings: ServerTlsSettings): Promise<number> => {
  const sockets = new Set<net.Socket>()
  const server = tls.createServer(serverTlsOptions(settings), (socket) => {
    socket.on("error", () => undefined)
    socket.on("data", () => socket.end("pong"))
  })
  server.on("connection", (socket) => {
    sockets.add(socket)
    socket.once("close", () => sockets.delete(socket))
  })
  server.on("tlsClientError", () => undefined)
  const port = await listen(server)
  closers.push(async () => {
    for (const socket of sockets) socket.destroy()
  })
  return port
}

type Outcome =
  | { readonly ok: true; readonly protocol: string | null; readonly cipher: string; readonly peer: tls.PeerCertificate; readonly reply: string }
  | { readonly ok: false; readonly code: string }

/** Connects, says "ping", and reports the negotiated session and the reply, or the client's error code. */
const dial = (port: number, options: tls.ConnectionOptions): Promise<Outcome> =>
  new Promise((resolve) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ...options })
    let reply = ""
    socket.on("secureConnect", () => socket.write("ping"))
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString()
    })
    socket.on("end", () => {
      resolve({ ok: true, protocol: socket.getProtocol(), cipher: socket.getCipher().name, peer: socket.getPeerCertificate(), reply })
      socket.destroy()
    })
    socket.on("error", (error: Error & { code?: string }) => resolve({ ok: false, code: error.code ?? error.message }))
  })

describe("FortiOS settings as Node options", () => {
  it("lists TLS 1.3 suites first and widens the TLS 1.2 list level by level", () => {
    const tls13 = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"
    expect(cipherString("high")).toBe(
      `${tls13}:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256`
    )
    expect(cipherString("high-medium")).toBe(
      `${cipherString("high")}:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256`
    )
    expect(cipherString("low").startsWith(`${cipherString("high-medium")}:ECDHE-ECDSA-AES256-SHA:`)).toBe(true)
    // Every name is one OpenSSL knows: a typo would make Node throw here.
    for (const level of ["high", "high-medium", "low"] as const) {
      expect(() => tls.createSecureContext({ ciphers: cipherString(level) })).not.toThrow()
    }
  })

  it("maps ssl-min-proto-version to a range ending at TLS 1.3", () => {
    expect(protocolRange("default")).toEqual({ minVersion: "TLSv1.2", maxVersion: "TLSv1.3" })
    expect(protocolRange("TLSv1-2")).toEqual({ minVersion: "TLSv1.2", maxVersion: "TLSv1.3" })
    expect(protocolRange("TLSv1-3")).toEqual({ minVersion: "TLSv1.3", maxVersion: "TLSv1.3" })
  })

  it.each(["SSLv3", "TLSv1", "TLSv1-1"] as const)("refuses ssl-min-proto-version %s with a clear sentence", (version) => {
    expect(() => protocolRange(version)).toThrow(TlsConfigError)
    expect(() => serverTlsOptions(serverSettings({ sslMinProtoVersion: version }))).toThrow(
      `ssl-min-proto-version ${version} is not supported: Node.js with OpenSSL 3 does not negotiate below TLS 1.2 at its default security level; use default, TLSv1-2 or TLSv1-3`
    )
  })
})

describe("handshakes between serverTlsOptions and clientTlsOptions", () => {
  it("negotiates TLS 1.3 against the lab CA without checking the host name", async () => {
    const port = await tlsServer(serverSettings())
    const outcome = await dial(port, clientTlsOptions(clientSettings()))
    expect(outcome).toMatchObject({ ok: true, protocol: "TLSv1.3", reply: "pong" })
  })

  it("negotiates TLS 1.2 with a client capped at TLS 1.2", async () => {
    const port = await tlsServer(serverSettings())
    const outcome = await dial(port, { ...clientTlsOptions(clientSettings()), maxVersion: "TLSv1.2" })
    expect(outcome).toMatchObject({ ok: true, protocol: "TLSv1.2", cipher: "ECDHE-ECDSA-AES256-GCM-SHA384" })
  })

  it("refuses a server whose certificate is not from the lab CA", async () => {
    const port = await tlsServer(serverSettings({ identity: await (await LabPki.load({ dir: null, labName: "rogue" })).issue({ serial: ANALYZER, role: "server" }) }))
    expect(await dial(port, clientTlsOptions(clientSettings()))).toEqual({ ok: false, code: "SELF_SIGNED_CERT_IN_CHAIN" })
  })

  it("ssl-min-proto-version TLSv1-3 refuses a TLS 1.2-only client", async () => {
    const port = await tlsServer(serverSettings({ sslMinProtoVersion: "TLSv1-3" }))
    const outcome = await dial(port, { ...clientTlsOptions(clientSettings()), maxVersion: "TLSv1.2" })
    expect(outcome).toEqual({ ok: false, code: "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION" })
  })

  it("enc-algorithm high refuses an AES-CBC-only client; high-medium accepts it", async () => {
    const cbcOnly: tls.ConnectionOptions = { ...clientTlsOptions(clientSettings()), maxVersion: "TLSv1.2", ciphers: "ECDHE-ECDSA-AES128-SHA256" }
    const high = await tlsServer(serverSettings({ encAlgorithm: "high" }))
    expect(await dial(high, cbcOnly)).toEqual({ ok: false, code: expect.stringMatching(/ALERT_HANDSHAKE_FAILURE$/) })
    const highMedium = await tlsServer(serverSettings({ encAlgorithm: "high-medium" }))
    expect(await dial(highMedium, cbcOnly)).toMatchObject({ ok: true, protocol: "TLSv1.2", cipher: "ECDHE-ECDSA-AES128-SHA256" })
  })

  it("with requestClientCert, accepts a lab client certificate and refuses a missing or foreign one", async () => {
    const port = await tlsServer(serverSettings({ requestClientCert: true }))
    expect(await dial(port, clientTlsOptions(clientSettings({ identity: device })))).toMatchObject({ ok: true, reply: "pong" })
    // With TLS 1.3 the client may see its handshake finish before the server drops it: it never gets served.
    expect(await dial(port, clientTlsOptions(clientSettings()))).not.toMatchObject({ reply: "pong" })
    expect(await dial(port, clientTlsOptions(clientSettings({ identity: stranger })))).not.toMatchObject({ reply: "pong" })
  })
})

describe("verifyAnalyzerSerial", () => {
  const peerOfAnalyzer = async (): Promise<tls.PeerCertificate> => {
    const outcome = await dial(await tlsServer(serverSettings()), clientTlsOptions(clientSettings()))
    if (!outcome.ok) throw new Error(`handshake failed: ${outcome.code}`)
    return outcome.peer
  }

  it("accepts the analyzer whose CN is in the serial list", async () => {
    expect(verifyAnalyzerSerial(await peerOfAnalyzer(), ["FAZ-VM0000000009", ANALYZER], "enable")).toEqual({ ok: true })
  })

  it("refuses another serial with FortiOS's wording", async () => {
    expect(verifyAnalyzerSerial(await peerOfAnalyzer(), ["FAZ-VM0000000002", "FAZ-VM0000000003"], "enable")).toEqual({
      ok: false,
      reason: "serial number of server is unauthorized (certificate CN FAZ-VM0000000001, expected one of FAZ-VM0000000002, FAZ-VM0000000003)"
    })
    expect(verifyAnalyzerSerial(await peerOfAnalyzer(), [], "enable")).toEqual({
      ok: false,
      reason: "serial number of server is unauthorized (certificate CN FAZ-VM0000000001, no analyzer serial is configured)"
    })
  })

  it("accepts anything with certificate-verification disable", async () => {
    expect(verifyAnalyzerSerial(await peerOfAnalyzer(), ["FAZ-VM0000000002"], "disable")).toEqual({ ok: true })
  })
})

interface Run {
  readonly code: number | null
  readonly output: string
}

/** Runs a program with stdin at /dev/null and collects stdout and stderr. */
const run = (command: string, args: ReadonlyArray<string>): Promise<Run> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, output }))
  })

describe("the openssl binary as a client", () => {
  it("verifies the chain against ca.pem and shows the lab CA", async () => {
    const port = await tlsServer(serverSettings())
    const { output } = await run("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-CAfile", path.join(dir, "pki", "ca.pem"), "-showcerts"])
    expect(output).toContain("Verify return code: 0 (ok)")
    expect(output).toMatch(/^ 0 s:CN ?= ?FAZ-VM0000000001$/m)
    expect(output).toMatch(/^ 1 s:CN ?= ?fazlab test CA$/m)
  })

  it("passes mutual TLS with the device certificate and key from the PKI folder", async () => {
    const port = await tlsServer(serverSettings({ requestClientCert: true }))
    const pkiDir = path.join(dir, "pki")
    const { output } = await run("openssl", [
      "s_client", "-connect", `127.0.0.1:${port}`, "-CAfile", path.join(pkiDir, "ca.pem"),
      "-cert", path.join(pkiDir, `${DEVICE}.pem`), "-key", path.join(pkiDir, `${DEVICE}.key`), "-tls1_2"
    ])
    expect(output).toContain("Verify return code: 0 (ok)")
    expect(output).toMatch(/Cipher is ECDHE-ECDSA-AES256-GCM-SHA384/)
  })
})

describe("upgradeToTls", () => {
  /**
   * A plain TCP listener that reads the first byte, as the analyzer's TCP/514 does, and hands the
   * socket to `upgradeToTls`; upgraded sockets answer "pong".
   */
  interface SniffingServer {
    readonly port: number
    readonly firstBytes: Array<number>
    /** The upgrade of the n-th accepted connection, once the server has started it (wrapped: awaiting must not settle it). */
    nthUpgrade(n: number): Promise<{ readonly upgrade: Promise<tls.TLSSocket> }>
  }

  /**
   * A plain TCP listener that reads the first byte, as the analyzer's TCP/514 does, and hands the
   * socket to `upgradeToTls`; upgraded sockets answer "pong".
   */
  const sniffingServer = async (settings: ServerTlsSettings, handshakeTimeoutMs?: number): Promise<SniffingServer> => {
    const started: Array<Promise<tls.TLSSocket>> = []
    const waiting: Array<(started: { readonly upgrade: Promise<tls.TLSSocket> }) => void> = []
    const firstBytes: Array<number> = []
    const sockets = new Set<net.Socket>()
    const server = net.createServer((socket) => {
      sockets.add(socket)
      socket.once("close", () => sockets.delete(socket))
      socket.once("readable", () => {
        const first = socket.read(1) as Buffer | null
        if (first === null) return
        firstBytes.push(first[0] ?? -1)
        const upgrade = upgradeToTls(
          socket,
          { tls: serverTlsOptions(settings), ...(handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs }) },
          first
        )
        upgrade.then(
          (secure) => {
            secure.on("error", () => undefined)
            secure.on("data", () => secure.end("pong"))
          },
          () => undefined
        )
        started.push(upgrade)
        waiting[started.length - 1]?.({ upgrade })
      })
    })
    const port = await listen(server)
    closers.push(async () => {
      for (const socket of sockets) socket.destroy()
    })
    const nthUpgrade = (n: number): Promise<{ readonly upgrade: Promise<tls.TLSSocket> }> => {
      const known = started[n]
      return known === undefined ? new Promise((resolve) => (waiting[n] = resolve)) : Promise.resolve({ upgrade: known })
    }
    return { port, firstBytes, nthUpgrade }
  }

  /** A raw TCP client that sends `bytes` and stays open; `closed` resolves when the server drops it. */
  const rawClient = (port: number, bytes: string | Buffer): { readonly closed: Promise<void> } => {
    const client = net.connect(port, "127.0.0.1", () => client.write(bytes))
    client.on("error", () => undefined)
    closers.push(async () => void client.destroy())
    return { closed: new Promise((resolve) => client.once("close", () => resolve())) }
  }

  it("completes the handshake with the first byte pushed back, and carries data", async () => {
    const server = await sniffingServer(serverSettings())
    expect(await dial(server.port, clientTlsOptions(clientSettings()))).toMatchObject({ ok: true, protocol: "TLSv1.3", reply: "pong" })
    expect(server.firstBytes).toEqual([0x16])
    await expect((await server.nthUpgrade(0)).upgrade).resolves.toBeInstanceOf(tls.TLSSocket)
  })

  it("rejects garbage instead of a ClientHello with tls-error, not a timeout", async () => {
    const server = await sniffingServer(serverSettings())
    const client = rawClient(server.port, "<134>Nov 27 10:00:00 fgt: plain syslog\n")
    const failure = await (await server.nthUpgrade(0)).upgrade.then(() => null, (error: unknown) => error)
    await client.closed
    expect(failure).toBeInstanceOf(TlsHandshakeError)
    expect(failure).toMatchObject({ code: "tls-error" })
    expect((failure as TlsHandshakeError).reason).toMatch(/^tls-error: \S/)
  })

  it("rejects with handshake-timeout when the client goes quiet after the first byte", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] })
    const server = await sniffingServer(serverSettings())
    const client = rawClient(server.port, Buffer.from([0x16]))
    const { upgrade } = await server.nthUpgrade(0)
    let settled = false
    upgrade.then(() => (settled = true), () => (settled = true))
    await vi.advanceTimersByTimeAsync(9_999)
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await expect(upgrade).rejects.toMatchObject({ code: "handshake-timeout", reason: "handshake-timeout" })
    await client.closed
  })

  it("honours a named handshake timeout", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] })
    const server = await sniffingServer(serverSettings(), 250)
    rawClient(server.port, Buffer.from([0x16]))
    const { upgrade } = await server.nthUpgrade(0)
    let settled = false
    upgrade.then(() => (settled = true), () => (settled = true))
    await vi.advanceTimersByTimeAsync(249)
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await expect(upgrade).rejects.toMatchObject({ code: "handshake-timeout" })
  })

  it("with requestClientCert, says why a client certificate is refused", async () => {
    const server = await sniffingServer(serverSettings({ requestClientCert: true }))
    const port = server.port
    expect(await dial(port, clientTlsOptions(clientSettings({ identity: device })))).toMatchObject({ ok: true, reply: "pong" })
    await expect((await server.nthUpgrade(0)).upgrade).resolves.toMatchObject({ authorized: true })

    await dial(port, clientTlsOptions(clientSettings()))
    await expect((await server.nthUpgrade(1)).upgrade).rejects.toMatchObject({
      reason: expect.stringMatching(/^tls-error: (the client sent no certificate|peer did not return a certificate)$/)
    })

    await dial(port, clientTlsOptions(clientSettings({ identity: stranger })))
    await expect((await server.nthUpgrade(2)).upgrade).rejects.toMatchObject({
      reason: "tls-error: the client certificate does not verify against the lab CA (SELF_SIGNED_CERT_IN_CHAIN)"
    })
  })
})

describe("a dial cancelled before it began", () => {
  /** A TCP server that counts the connections it accepted, and a TLS server beside it. */
  const counting = async (): Promise<{ readonly port: number; readonly accepted: () => number }> => {
    let accepted = 0
    const server = net.createServer((socket) => {
      accepted++
      socket.destroy()
    })
    return { port: await listen(server), accepted: () => accepted }
  }

  it("dialTcp connects nothing with a signal already aborted", async () => {
    const server = await counting()
    const dialled = dialTcp({ host: "127.0.0.1", port: server.port, timeoutMs: 5000, signal: AbortSignal.abort() })
    await expect(dialled).rejects.toMatchObject({ code: "ABORTED" })
    // The server answers a connection made after the refused one: none came before it.
    await new Promise<void>((resolve) => net.connect(server.port, "127.0.0.1").once("close", () => resolve()).on("error", () => undefined))
    expect(server.accepted()).toBe(1)
  })

  it("dialTls gives no socket for a signal aborted while the device issued its certificate", async () => {
    const port = await tlsServer(serverSettings())
    const controller = new AbortController()
    // As DeviceDialer does: the certificate is issued (asynchronously) before the dial, and a stop comes meanwhile.
    const identity = pki.issue({ serial: DEVICE, role: "client" })
    controller.abort()
    const dialled = dialTls({ host: "127.0.0.1", port, timeoutMs: 5000, signal: controller.signal, tls: clientTlsOptions(clientSettings({ identity: await identity })) })
    await expect(dialled).rejects.toThrow(/cancelled/u)
  })
})
