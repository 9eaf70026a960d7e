/**
 * TLS settings for fazlab's encrypted links (OFTP on TCP/514, FGFM on TCP/541): FortiOS's knobs
 * mapped to real Node.js / OpenSSL 3 options, the analyzer-serial check FortiOS makes instead of a
 * host-name check, and the upgrade of an accepted plain socket to server-side TLS.
 *
 * `enc-algorithm` (`config log fortianalyzer setting`, `config system central-management`) picks
 * the cipher suites. Fortinet publishes only the level names, so the mapping is fazlab's:
 *
 * | level | TLS 1.2 suites (OpenSSL names) | TLS 1.3 suites |
 * | --- | --- | --- |
 * | `high` (FortiOS default) | ECDHE-ECDSA-AES256-GCM-SHA384, ECDHE-RSA-AES256-GCM-SHA384, ECDHE-ECDSA-CHACHA20-POLY1305, ECDHE-RSA-CHACHA20-POLY1305, ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-RSA-AES128-GCM-SHA256 | TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_GCM_SHA256 |
 * | `high-medium` | `high` + ECDHE-ECDSA-AES256-SHA384, ECDHE-RSA-AES256-SHA384, ECDHE-ECDSA-AES128-SHA256, ECDHE-RSA-AES128-SHA256 (AES-CBC) | the same three |
 * | `low` | `high-medium` + ECDHE-ECDSA-AES256-SHA, ECDHE-RSA-AES256-SHA, ECDHE-ECDSA-AES128-SHA, ECDHE-RSA-AES128-SHA (CBC, SHA-1 MAC) and static-RSA AES256-GCM-SHA384, AES128-GCM-SHA256, AES256-SHA256, AES128-SHA256, AES256-SHA, AES128-SHA | the same three |
 *
 * The lab PKI issues ECDSA certificates, so only the ECDSA and static-RSA-free suites can be
 * negotiated with them; the RSA ones take effect with an RSA certificate. 3DES, RC4 and export
 * suites are absent from every level (OpenSSL 3 no longer offers them by default).
 *
 * `ssl-min-proto-version`: `default` and `TLSv1-2` mean TLS 1.2, `TLSv1-3` means TLS 1.3; the
 * maximum is always TLS 1.3. FortiOS also lists `SSLv3`, `TLSv1` and `TLSv1-1`: they are accepted
 * as names and refused with a `TlsConfigError`, because Node.js with OpenSSL 3 does not negotiate
 * below TLS 1.2 at its default security level.
 */
import * as net from "node:net"
import * as tls from "node:tls"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import type { TlsIdentity } from "./pki.ts"
import { dialTcp } from "./tcp.ts"

export const ENC_ALGORITHMS = ["high", "high-medium", "low"] as const
export type EncAlgorithm = (typeof ENC_ALGORITHMS)[number]

export const SSL_MIN_PROTO_VERSIONS = ["default", "SSLv3", "TLSv1", "TLSv1-1", "TLSv1-2", "TLSv1-3"] as const
export type SslMinProtoVersion = (typeof SSL_MIN_PROTO_VERSIONS)[number]

/** TLS 1.3 suites, the same for every level. */
export const TLS13_CIPHERSUITES: ReadonlyArray<string> = [
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
  "TLS_AES_128_GCM_SHA256"
]

const HIGH: ReadonlyArray<string> = [
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256"
]
const MEDIUM: ReadonlyArray<string> = [
  "ECDHE-ECDSA-AES256-SHA384",
  "ECDHE-RSA-AES256-SHA384",
  "ECDHE-ECDSA-AES128-SHA256",
  "ECDHE-RSA-AES128-SHA256"
]
const LOW: ReadonlyArray<string> = [
  "ECDHE-ECDSA-AES256-SHA",
  "ECDHE-RSA-AES256-SHA",
  "ECDHE-ECDSA-AES128-SHA",
  "ECDHE-RSA-AES128-SHA",
  "AES256-GCM-SHA384",
  "AES128-GCM-SHA256",
  "AES256-SHA256",
  "AES128-SHA256",
  "AES256-SHA",
  "AES128-SHA"
]

/** TLS 1.2 suites per `enc-algorithm` level, strongest first (the table above). */
export const TLS12_CIPHERS: Readonly<Record<EncAlgorithm, ReadonlyArray<string>>> = {
  high: HIGH,
  "high-medium": [...HIGH, ...MEDIUM],
  low: [...HIGH, ...MEDIUM, ...LOW]
}

/** How long an accepted connection may take to complete its TLS handshake (OFTP error `handshake-timeout`). */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000

/** A TLS setting fazlab cannot honour; `message` says which and what to use instead. */
export class TlsConfigError extends Schema.TaggedError<TlsConfigError>()("TlsConfigError", {
  setting: Schema.String,
  value: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.setting} ${this.value} is not supported: ${this.reason}`
  }
}

/** A server-side handshake that did not complete: `reason` is "handshake-timeout" or "tls-error: <OpenSSL's words>". */
export class TlsHandshakeError extends Schema.TaggedError<TlsHandshakeError>()("TlsHandshakeError", {
  code: Schema.Literals(["handshake-timeout", "tls-error"]),
  detail: Schema.String
}) {
  get reason(): string {
    return this.code === "tls-error" ? `tls-error: ${this.detail}` : "handshake-timeout"
  }
  override get message(): string {
    return this.code === "tls-error"
      ? `TLS handshake failed: ${this.detail}`
      : `TLS handshake did not complete within the handshake timeout (${this.detail})`
  }
}

/** The OpenSSL cipher string for a level: TLS 1.3 suites first, then TLS 1.2 (Node splits them by the `TLS_` prefix). */
export const cipherString = (encAlgorithm: EncAlgorithm): string =>
  [...TLS13_CIPHERSUITES, ...TLS12_CIPHERS[encAlgorithm]].join(":")

/** The protocol range for `ssl-min-proto-version`; throws `TlsConfigError` for the pre-TLS 1.2 names. */
export const protocolRange = (
  sslMinProtoVersion: SslMinProtoVersion
): { readonly minVersion: tls.SecureVersion; readonly maxVersion: tls.SecureVersion } => {
  switch (sslMinProtoVersion) {
    case "default":
    case "TLSv1-2":
      return { minVersion: "TLSv1.2", maxVersion: "TLSv1.3" }
    case "TLSv1-3":
      return { minVersion: "TLSv1.3", maxVersion: "TLSv1.3" }
    case "SSLv3":
    case "TLSv1":
    case "TLSv1-1":
      throw new TlsConfigError({
        setting: "ssl-min-proto-version",
        value: sslMinProtoVersion,
        reason: "Node.js with OpenSSL 3 does not negotiate below TLS 1.2 at its default security level; use default, TLSv1-2 or TLSv1-3"
      })
  }
}

export interface ServerTlsSettings {
  /** What the server presents (from `LabPki.issue`, role "server"). */
  readonly identity: TlsIdentity
  /** The lab CA: client certificates must chain to it when `requestClientCert` is on. */
  readonly caPem: string
  readonly encAlgorithm: EncAlgorithm
  readonly sslMinProtoVersion: SslMinProtoVersion
  /** Ask every client for a certificate and refuse the handshake unless it is signed by the lab CA. */
  readonly requestClientCert: boolean
}

/** Options for `tls.createServer` / `tls.createSecureContext` (and `upgradeToTls`). */
export const serverTlsOptions = (settings: ServerTlsSettings): tls.TlsOptions => ({
  key: settings.identity.keyPem,
  cert: settings.identity.chainPem,
  ...protocolRange(settings.sslMinProtoVersion),
  ciphers: cipherString(settings.encAlgorithm),
  honorCipherOrder: true,
  requestCert: settings.requestClientCert,
  rejectUnauthorized: settings.requestClientCert,
  ...(settings.requestClientCert ? { ca: [settings.caPem] } : {})
})

export interface ClientTlsSettings {
  /** The lab CA the server certificate must chain to. */
  readonly caPem: string
  readonly encAlgorithm: EncAlgorithm
  readonly sslMinProtoVersion: SslMinProtoVersion
  /** SNI name to send; none by default (FortiOS dials the analyzer by address). */
  readonly serverName?: string
  /** Client certificate to present when the server asks for one. */
  readonly identity?: TlsIdentity
  /** Whether the server certificate must chain to `caPem` (default true). */
  readonly verifyChain?: boolean
}

/**
 * Options for `tls.connect`: the server certificate must chain to the lab CA, but the host name is
 * not checked; FortiOS identifies the analyzer by the serial in its CN (`verifyAnalyzerSerial`).
 */
export const clientTlsOptions = (settings: ClientTlsSettings): tls.ConnectionOptions => ({
  ca: [settings.caPem],
  // FortiOS `certificate-verification disable` accepts any analyzer certificate.
  rejectUnauthorized: settings.verifyChain ?? true,
  checkServerIdentity: () => undefined,
  ...protocolRange(settings.sslMinProtoVersion),
  ciphers: cipherString(settings.encAlgorithm),
  ...(settings.serverName === undefined ? {} : { servername: settings.serverName }),
  ...(settings.identity === undefined ? {} : { key: settings.identity.keyPem, cert: settings.identity.chainPem })
})

/**
 * FortiOS's `certificate-verification`: with `enable`, the analyzer's certificate CN must be one of
 * the configured analyzer serials (`serial` in `config log fortianalyzer setting`).
 */
export const verifyAnalyzerSerial = (
  peerCert: tls.PeerCertificate,
  serialList: ReadonlyArray<string>,
  certificateVerification: "enable" | "disable"
): { readonly ok: true } | { readonly ok: false; readonly reason: string } => {
  if (certificateVerification === "disable") return { ok: true }
  // `subject` is absent when the peer sent no certificate; a repeated CN comes as an array.
  const cn: unknown = (peerCert as Partial<tls.PeerCertificate>).subject?.CN
  const names = Predicate.isString(cn) ? [cn] : Array.isArray(cn) ? cn.filter(Predicate.isString) : []
  if (names.some((name) => serialList.includes(name))) return { ok: true }
  const shown = names.length === 0 ? "certificate has no CN" : `certificate CN ${names.join(", ")}`
  const expected = serialList.length === 0 ? "no analyzer serial is configured" : `expected one of ${serialList.join(", ")}`
  return { ok: false, reason: `serial number of server is unauthorized (${shown}, ${expected})` }
}

export interface UpgradeOptions {
  /** Server options, from `serverTlsOptions`. */
  readonly tls: tls.TlsOptions
  /** Named limit `handshake-timeout`; `DEFAULT_HANDSHAKE_TIMEOUT_MS` when absent. */
  readonly handshakeTimeoutMs?: number
}

/** How an upgrade ends: the TLS socket, or why not (with the socket to destroy). */
type UpgradeOutcome =
  | { readonly socket: tls.TLSSocket }
  | { readonly error: TlsHandshakeError; readonly socket: net.Socket }

/** A connection's name while it upgrades: both ends, as the plain and the TLS socket both report them. */
const connectionKey = (socket: net.Socket): string | null =>
  socket.remoteAddress === undefined || socket.remotePort === undefined || socket.localPort === undefined
    ? null
    : `${socket.localAddress}:${socket.localPort}<${socket.remoteAddress}:${socket.remotePort}`

/**
 * One `tls.Server` for every connection upgraded with the same server options and timeout, so
 * they share its SecureContext (the key, certificate chain and cipher list OpenSSL holds, ~50 KB
 * each) instead of building one per connection: with 1,000 OFTP sessions that was ~100 MB. The
 * server never listens; sockets are handed to it (Node's documented `'connection'` injection),
 * and its handshake outcomes are routed back to the waiting upgrade by the connection's ends.
 */
class Upgrader {
  readonly #server: tls.Server
  readonly #waiting = new Map<string, (outcome: UpgradeOutcome) => void>()

  constructor(options: tls.TlsOptions, timeoutMs: number) {
    // Node would destroy a socket with an unauthorized client certificate silently; the check below says why.
    const verifyClient = options.requestCert === true && options.rejectUnauthorized !== false
    // Node's own handshake timer stays behind ours, so a timeout is reported the same way whichever fires.
    this.#server = tls.createServer({ ...options, rejectUnauthorized: false, handshakeTimeout: timeoutMs + 1000 })
    this.#server.on("secureConnection", (tlsSocket: tls.TLSSocket) =>
      this.#settle(
        tlsSocket,
        verifyClient && !tlsSocket.authorized ? { error: clientCertificateError(tlsSocket), socket: tlsSocket } : { socket: tlsSocket }
      )
    )
    this.#server.on("tlsClientError", (cause: Error, tlsSocket: tls.TLSSocket) =>
      this.#settle(tlsSocket, { error: handshakeError(cause), socket: tlsSocket })
    )
  }

  /** Hands `socket` to the server; `settle` hears how its handshake ended. Null when the socket has no ends any more (it closed). */
  upgrade(socket: net.Socket, settle: (outcome: UpgradeOutcome) => void): { readonly forget: () => void } | null {
    const key = connectionKey(socket)
    if (key === null || this.#waiting.has(key)) return null
    this.#waiting.set(key, settle)
    this.#server.emit("connection", socket)
    return { forget: () => this.#waiting.delete(key) }
  }

  #settle(tlsSocket: tls.TLSSocket, outcome: UpgradeOutcome): void {
    const key = connectionKey(tlsSocket)
    const settle = key === null ? undefined : this.#waiting.get(key)
    if (key === null || settle === undefined) {
      // Its upgrade already ended (timeout, close): nobody waits for this socket.
      tlsSocket.destroy()
      return
    }
    this.#waiting.delete(key)
    settle(outcome)
  }
}

/** The upgraders by server options object (a device builds its options once) and handshake timeout. */
const upgraders = new WeakMap<tls.TlsOptions, Map<number, Upgrader>>()

const upgraderFor = (options: tls.TlsOptions, timeoutMs: number): Upgrader => {
  const byTimeout = upgraders.get(options) ?? new Map<number, Upgrader>()
  upgraders.set(options, byTimeout)
  const upgrader = byTimeout.get(timeoutMs) ?? new Upgrader(options, timeoutMs)
  byTimeout.set(timeoutMs, upgrader)
  return upgrader
}

/**
 * Turns an accepted plain socket whose first bytes were already read (TCP/514 reads one byte to
 * tell TLS from syslog) into a server-side TLS socket. `firstChunk` is pushed back before the
 * handshake. Resolves once the handshake is done (and the client certificate, when requested,
 * is signed by the lab CA); otherwise destroys the socket and rejects with a `TlsHandshakeError`.
 *
 * The socket goes through a `tls.Server` shared by every upgrade with the same options (see
 * `Upgrader`): unlike a bare `new tls.TLSSocket(socket, { isServer: true })`, that runs Node's
 * client certificate verification (`authorized`, `rejectUnauthorized`).
 */
export const upgradeToTls = (
  socket: net.Socket,
  options: UpgradeOptions,
  firstChunk?: Buffer
): Promise<tls.TLSSocket> =>
  new Promise((resolve, reject) => {
    const timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS
    let settled = false
    let forget = (): void => undefined
    const settle = (outcome: UpgradeOutcome) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      forget()
      socket.off("close", onClose)
      if ("error" in outcome) {
        outcome.socket.destroy()
        socket.destroy()
        reject(outcome.error)
      } else {
        resolve(outcome.socket)
      }
    }
    const onClose = () =>
      settle({ error: new TlsHandshakeError({ code: "tls-error", detail: "connection closed before the handshake completed" }), socket })
    const timer = setTimeout(
      () => settle({ error: new TlsHandshakeError({ code: "handshake-timeout", detail: `${timeoutMs} ms` }), socket }),
      timeoutMs
    )
    socket.once("close", onClose)
    if (firstChunk !== undefined && firstChunk.length > 0) socket.unshift(firstChunk)
    const waiting = upgraderFor(options.tls, timeoutMs).upgrade(socket, settle)
    if (waiting === null) onClose()
    else forget = waiting.forget
  })

/** Why a handshake that completed still fails: the client certificate was missing or does not chain to the lab CA. */
const clientCertificateError = (tlsSocket: tls.TLSSocket): TlsHandshakeError => {
  const detail = Object.keys(tlsSocket.getPeerCertificate()).length === 0
    ? "the client sent no certificate"
    : `the client certificate does not verify against the lab CA (${String(tlsSocket.authorizationError)})`
  return new TlsHandshakeError({ code: "tls-error", detail })
}

/** OpenSSL's own words ("wrong version number", "no shared cipher" ...) for a failed handshake. */
const handshakeError = (cause: Error): TlsHandshakeError => {
  const code = Predicate.hasProperty(cause, "code") ? cause.code : undefined
  if (code === "ERR_TLS_HANDSHAKE_TIMEOUT") return new TlsHandshakeError({ code: "handshake-timeout", detail: cause.message })
  const detail = Predicate.hasProperty(cause, "reason") && Predicate.isString(cause.reason) ? cause.reason : cause.message
  return new TlsHandshakeError({ code: "tls-error", detail })
}

/**
 * Dials TCP, then runs a client TLS handshake on it; rejects with a sentence naming the target
 * (the caller checks the peer certificate's identity afterwards). The caller owns the socket.
 * An abort of `signal` before the handshake is done (or before the dial began) cuts it.
 */
export const dialTls = async (options: {
  readonly host: string
  readonly port: number
  readonly localAddress?: string
  readonly timeoutMs: number
  readonly signal: AbortSignal
  readonly tls: tls.ConnectionOptions
}): Promise<tls.TLSSocket> => {
  const raw = await dialTcp({
    host: options.host,
    port: options.port,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress })
  })
  return new Promise<tls.TLSSocket>((resolve, reject) => {
    const secure = tls.connect({ socket: raw, ...options.tls })
    const fail = (error: Error) => {
      options.signal.removeEventListener("abort", cancelled)
      secure.destroy()
      reject(new Error(`TLS with ${options.host}:${options.port} failed: ${error.message}`))
    }
    const cancelled = () => fail(new Error("cancelled"))
    secure.once("error", fail)
    if (options.signal.aborted) return cancelled()
    options.signal.addEventListener("abort", cancelled, { once: true })
    secure.once("secureConnect", () => {
      secure.off("error", fail)
      options.signal.removeEventListener("abort", cancelled)
      resolve(secure)
    })
  })
}
