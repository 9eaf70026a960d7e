/**
 * The client side of the analyzer's management plane, for the lab's own checks (the scenario
 * expectations `cli` and `api`): one CLI command over SSH (`ssh2`'s client, on the analyzer's
 * real TCP/22), and one JSON-RPC call over HTTPS (TLS/443, trusting the lab CA), logged in
 * with a password (then logged out) or with an API user's bearer key.
 *
 * Each resolves with what came back or rejects with one sentence naming the address and why.
 */
import * as https from "node:https"
import ssh2 from "ssh2"

export interface AdminEndpoint {
  readonly host: string
  readonly port: number
  readonly user: string
  /** The password, or null for an API user (then `apiKey`). */
  readonly password: string | null
  readonly apiKey: string | null
}

/** Runs `command` over SSH; resolves with what it printed and its exit status. */
export const cliCommand = (endpoint: AdminEndpoint, command: string, timeoutMs: number): Promise<{ readonly output: string; readonly code: number | null }> =>
  new Promise((resolve, reject) => {
    const client = new ssh2.Client()
    let output = ""
    const timer = setTimeout(() => {
      client.end()
      reject(new Error(`no answer from ${endpoint.host}:${endpoint.port} within ${timeoutMs} ms`))
    }, timeoutMs)
    const fail = (why: string) => {
      clearTimeout(timer)
      client.end()
      reject(new Error(why))
    }
    client.on("error", (cause) => fail(`SSH to ${endpoint.user}@${endpoint.host}:${endpoint.port} failed: ${cause.message}`))
    client.on("ready", () => {
      client.exec(command, (error, channel) => {
        if (error !== undefined) {
          fail(`SSH exec failed: ${error.message}`)
          return
        }
        let code: number | null = null
        channel.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")))
        channel.on("exit", (status: number | null) => (code = status))
        // "close" comes after the last data: "exit" may come before it.
        channel.on("close", () => {
          clearTimeout(timer)
          client.end()
          resolve({ output, code })
        })
      })
    })
    client.connect({ host: endpoint.host, port: endpoint.port, username: endpoint.user, password: endpoint.password ?? "", readyTimeout: timeoutMs })
  })

const post = (endpoint: AdminEndpoint, caPem: string, body: unknown, timeoutMs: number): Promise<Record<string, unknown>> =>
  new Promise((resolve, reject) => {
    const text = JSON.stringify(body)
    const request = https.request({
      host: endpoint.host,
      port: endpoint.port,
      path: "/jsonrpc",
      method: "POST",
      ca: caPem,
      servername: "localhost",
      timeout: timeoutMs,
      headers: {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(text),
        ...(endpoint.apiKey === null ? {} : { authorization: `Bearer ${endpoint.apiKey}` })
      }
    }, (response) => {
      const chunks: Buffer[] = []
      response.on("data", (chunk: Buffer) => chunks.push(chunk))
      response.on("end", () => {
        try {
          const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"))
          if (typeof parsed !== "object" || parsed === null) throw new Error("not a JSON object")
          resolve(parsed as Record<string, unknown>)
        } catch (cause) {
          reject(new Error(`${endpoint.host}:${endpoint.port} answered HTTP ${response.statusCode ?? "?"} without a JSON-RPC body (${cause instanceof Error ? cause.message : String(cause)})`))
        }
      })
    })
    request.on("timeout", () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    request.on("error", (cause) => reject(new Error(`HTTPS to ${endpoint.host}:${endpoint.port} failed: ${cause.message}`)))
    request.end(text)
  })

/** The first result of a classic answer: its status code and its data. */
const firstResult = (answer: Record<string, unknown>): { readonly code: number; readonly message: string; readonly data: unknown } => {
  const result = Array.isArray(answer["result"]) ? (answer["result"][0] as Record<string, unknown> | undefined) : undefined
  const status = (result?.["status"] ?? {}) as { code?: unknown; message?: unknown }
  return { code: typeof status.code === "number" ? status.code : Number.NaN, message: String(status.message ?? ""), data: result?.["data"] }
}

/** One call (`method`, `url`, `data`) as the endpoint's user: logs in first and out after, unless it is an API user. */
export const rpcCall = async (
  endpoint: AdminEndpoint,
  caPem: string,
  call: { readonly method: string; readonly url: string; readonly data: unknown },
  timeoutMs: number
): Promise<{ readonly code: number; readonly message: string; readonly data: unknown }> => {
  let session: string | null = null
  if (endpoint.apiKey === null) {
    const login = await post(endpoint, caPem, { id: 1, method: "exec", params: [{ url: "/sys/login/user", data: { user: endpoint.user, passwd: endpoint.password ?? "" } }], session: null }, timeoutMs)
    if (typeof login["session"] !== "string") return firstResult(login)
    session = login["session"]
  }
  try {
    const params = call.data === undefined ? { url: call.url } : { url: call.url, data: call.data }
    return firstResult(await post(endpoint, caPem, { id: 2, method: call.method, params: [params], session, verbose: 1 }, timeoutMs))
  } finally {
    if (session !== null) await post(endpoint, caPem, { id: 3, method: "exec", params: [{ url: "/sys/logout" }], session }, timeoutMs).catch(() => undefined)
  }
}
