/**
 * Who may use a lab's control channel and how a client finds it: the bind address (loopback by
 * default), the random token, and the two files a lab with a data folder writes beside lab.json:
 * `control.json` ({ url, pid, version }) and `control.token` (mode 0600, readable by its owner only).
 */
import { randomBytes, timingSafeEqual } from "node:crypto"
import * as fs from "node:fs"
import type * as http from "node:http"
import * as net from "node:net"
import * as path from "node:path"
import * as Result from "effect/Result"

export const CONTROL_FILE = "control.json"
export const TOKEN_FILE = "control.token"

/** Where the control server listens; port 0 lets the kernel choose. */
export interface ControlBind {
  readonly host: string
  readonly port: number
}

export const DEFAULT_CONTROL_BIND: ControlBind = { host: "127.0.0.1", port: 0 }

/** What `control.json` holds. `version` is the control protocol version; `unixSocket` the channel's Unix socket. */
export interface ControlInfo {
  readonly url: string
  readonly pid: number
  readonly version: number
  readonly unixSocket?: string
}

/**
 * 32 random bytes, base64url: the secret a client presents. Never one that starts with "-":
 * `fazlab ctl --token T` would take it for an option (one token in 64 did). Drawing again keeps
 * every allowed token equally likely.
 */
export const newToken = (): string => {
  for (;;) {
    const token = randomBytes(32).toString("base64url")
    if (!token.startsWith("-")) return token
  }
}

/**
 * Parses `--control-bind HOST:PORT` ("127.0.0.1:7400", "0.0.0.0:0", "[::1]:7400",
 * "localhost:7400"); fails with the sentence to show the user.
 */
export const parseControlBind = (text: string): Result.Result<ControlBind, string> => {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/u.exec(text)
  const host = match?.[1] ?? match?.[2]
  const port = Number(match?.[3])
  if (match === null || host === undefined || (match[1] !== undefined && !net.isIPv6(host))) {
    return Result.fail(`--control-bind must be HOST:PORT such as 127.0.0.1:7400 or [::1]:7400, got "${text}"`)
  }
  if (port > 65535) return Result.fail(`--control-bind port must be from 0 (any free port) to 65535, got ${match[3]}`)
  return Result.succeed({ host, port })
}

/** The URL a client dials for a server bound to `host:port`; a wildcard bind is dialled on loopback. */
export const controlUrl = (host: string, port: number): string => {
  const dial = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host
  return `ws://${net.isIPv6(dial) ? `[${dial}]` : dial}:${port}/`
}

/** The token a connection request presents: `Authorization: Bearer <token>` or `?token=<token>`. */
export const presentedToken = (request: http.IncomingMessage): string | null => {
  const header = /^Bearer\s+(\S+)\s*$/iu.exec(request.headers.authorization ?? "")?.[1]
  if (header !== undefined) return header
  return new URL(request.url ?? "/", "http://control").searchParams.get("token")
}

/** Compares in constant time, so the time a refusal takes says nothing about the token. */
export const tokenMatches = (presented: string, token: string): boolean => {
  const a = Buffer.from(presented)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Writes the token (0600, first) and then control.json, so a reader of control.json finds its token. */
export const writeControlFiles = (dataDir: string, info: ControlInfo, token: string): void => {
  fs.mkdirSync(dataDir, { recursive: true })
  const tokenFile = path.join(dataDir, TOKEN_FILE)
  fs.writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 })
  // `mode` applies only when the file is created: a token file left from an earlier run keeps
  // its old mode unless it is set again.
  fs.chmodSync(tokenFile, 0o600)
  fs.writeFileSync(path.join(dataDir, CONTROL_FILE), `${JSON.stringify(info, null, 2)}\n`)
}

/** Removes the files when they still describe this server (another lab may have taken the folder since). */
export const removeControlFiles = (dataDir: string, url: string): void => {
  const file = path.join(dataDir, CONTROL_FILE)
  const info = readControlInfo(file)
  if (info === null || info.url !== url) return
  fs.rmSync(file, { force: true })
  fs.rmSync(path.join(dataDir, TOKEN_FILE), { force: true })
}

/** control.json's contents, or null when it is missing or not one. */
export const readControlInfo = (file: string): ControlInfo | null => {
  try {
    const value: unknown = JSON.parse(fs.readFileSync(file, "utf8"))
    if (typeof value !== "object" || value === null) return null
    const { url, pid, version, unixSocket } = value as Record<string, unknown>
    if (typeof url !== "string" || typeof pid !== "number" || typeof version !== "number") return null
    return typeof unixSocket === "string" ? { url, pid, version, unixSocket } : { url, pid, version }
  } catch {
    return null
  }
}
