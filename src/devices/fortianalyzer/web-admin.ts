/**
 * The analyzer's web admin: what TCP/443 serves besides FortiClient's Fabric join, and TCP/80.
 *
 * - `POST /jsonrpc`: the JSON-RPC API (`jsonrpc-api.ts`), within `api-max-body-bytes` and
 *   `api-rate` (fazlab's named limits).
 * - `GET /`: a small page: the login form (`POST /logincheck` with `username` and `secretkey`,
 *   the field names of FortiOS's GUI), then, with its session cookie, the system status and the
 *   devices; `GET /logout` ends the session. Sessions are the API's, so they expire alike.
 * - The XML (SOAP) API: a SOAP 1.1 fault saying that this version answers JSON-RPC only (Fortinet
 *   documents no XML API for FortiAnalyzer 7.x; docs/protocols/jsonrpc.md).
 * - TCP/80: `301` to the same path on HTTPS (`admin-https-redirect enable`, the default), or
 *   the same pages over plain HTTP when it is disabled.
 * - TCP/8080, the web service (SOAP/XML API) FortiPortal's "XML" reaches: the same SOAP fault
 *   for any request (`webService`).
 *
 * Every answer on the analyzer's HTTP ports (80, 443, 8443) starts with `Date` and then
 * `Server: xxxxxxxx-xxxxx`, the placeholder Fortinet's web servers send instead of a product name
 * (`answerAsFortinet`), so `nmap -sV` names them "Fortinet security device httpd".
 */
import type * as http from "node:http"
import type { JsonRpcApi } from "./jsonrpc-api.ts"
import { type AnalyzerView, haMode, systemStatus } from "./system-view.ts"

export interface WebAdminOptions {
  readonly view: AnalyzerView
  readonly api: JsonRpcApi
  /** Where TCP/443 listens now (for the redirect from TCP/80). */
  readonly httpsPort: () => number
}

const COOKIE = "APSCOOKIE_FAZ"

/** What Fortinet's web servers send as `Server`, in place of a product name. */
export const FORTINET_SERVER_HEADER = "xxxxxxxx-xxxxx"

/** Makes every answer of `server` start with `Date`, then `Server: xxxxxxxx-xxxxx`, as Fortinet's do. */
export const answerAsFortinet = <Server extends http.Server>(server: Server): Server =>
  server.prependListener("request", (_request: http.IncomingMessage, response: http.ServerResponse) => {
    response.setHeader("Date", new Date().toUTCString())
    response.setHeader("Server", FORTINET_SERVER_HEADER)
  })

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/gu, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c] ?? c)

const addressOf = (request: http.IncomingMessage): string => request.socket.remoteAddress ?? "?"
const peerOf = (request: http.IncomingMessage): string => `${addressOf(request)}:${request.socket.remotePort ?? 0}`

const SOAP_FAULT = `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">
<SOAP-ENV:Body>
<SOAP-ENV:Fault>
<faultcode>SOAP-ENV:Client</faultcode>
<faultstring>The XML API is not available on this FortiAnalyzer (v7.4); use the JSON-RPC API at POST /jsonrpc</faultstring>
</SOAP-ENV:Fault>
</SOAP-ENV:Body>
</SOAP-ENV:Envelope>
`

export class WebAdmin {
  readonly #options: WebAdminOptions

  constructor(options: WebAdminOptions) {
    this.#options = options
  }

  /** TCP/80: the redirect to HTTPS, or the pages themselves when `admin-https-redirect` is disabled. */
  readonly plain = (request: http.IncomingMessage, response: http.ServerResponse): void => {
    if (this.#options.view.admins.settings.setting.adminHttpsRedirect === "disable") {
      this.handle(request, response)
      return
    }
    const host = (request.headers.host ?? "").replace(/:\d+$/u, "") || (request.socket.localAddress ?? "localhost")
    const port = this.#options.httpsPort()
    const location = `https://${host}${port === 443 ? "" : `:${port}`}${request.url ?? "/"}`
    response.writeHead(301, { location, "content-type": "text/html" })
    response.end(`<html><body>Moved to <a href="${escapeHtml(location)}">${escapeHtml(location)}</a></body></html>\n`)
  }

  /** TCP/8080, the web service (SOAP/XML API): this version has none, so every request gets the SOAP fault that names the JSON-RPC API. */
  readonly webService = (request: http.IncomingMessage, response: http.ServerResponse): void => {
    request.resume()
    response.writeHead(500, { "content-type": "text/xml; charset=utf-8" })
    response.end(SOAP_FAULT)
  }

  /** A request to the web admin (TCP/443, or TCP/80 without the redirect). */
  readonly handle = (request: http.IncomingMessage, response: http.ServerResponse): void => {
    const url = new URL(request.url ?? "/", "https://faz")
    const method = request.method ?? "GET"
    const soap = request.headers["soapaction"] !== undefined || /\bxml\b/iu.test(request.headers["content-type"] ?? "")
    if (method === "POST" && url.pathname === "/jsonrpc" && !soap) {
      this.#jsonrpc(request, response)
      return
    }
    if (method === "POST" && soap) {
      this.webService(request, response)
      return
    }
    if (method === "POST" && url.pathname === "/logincheck") {
      this.#loginForm(request, response)
      return
    }
    if (method === "GET" && url.pathname === "/logout") {
      const session = this.#cookie(request)
      if (session !== null) this.#options.api.logout(session, "logged out of the web page")
      response.writeHead(302, { location: "/", "set-cookie": `${COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly` })
      response.end()
      return
    }
    if (method === "GET" && (url.pathname === "/" || url.pathname === "/index.html")) {
      const session = this.#cookie(request)
      const user = session === null ? null : this.#options.api.session(session)?.user ?? null
      this.#page(response, 200, user === null ? this.#loginPage(url.searchParams.get("error")) : this.#statusPage(user))
      return
    }
    request.resume()
    this.#page(response, 404, `<h1>Not Found</h1><p>${escapeHtml(method)} ${escapeHtml(url.pathname)} is not served here: the web admin is at / and the API at POST /jsonrpc.</p>`)
  }

  #cookie(request: http.IncomingMessage): string | null {
    const cookies = request.headers.cookie ?? ""
    for (const part of cookies.split(";")) {
      const [name, ...value] = part.trim().split("=")
      if (name === COOKIE) return decodeURIComponent(value.join("="))
    }
    return null
  }

  /** Reads the body up to `api-max-body-bytes`; null when it was larger (answered with 413 already). */
  #body(request: http.IncomingMessage, response: http.ServerResponse, done: (text: string) => void): void {
    const limit = this.#options.view.admins.settings.setting.apiMaxBodyBytes
    const chunks: Buffer[] = []
    let size = 0
    let over = false
    request.on("data", (chunk: Buffer) => {
      if (over) return
      size += chunk.length
      if (size > limit) {
        over = true
        const answer = this.#options.api.tooLarge()
        response.writeHead(answer.status, { ...answer.headers, connection: "close" })
        response.end(answer.body)
        return
      }
      chunks.push(chunk)
    })
    request.on("end", () => {
      if (!over) done(Buffer.concat(chunks).toString("utf8"))
    })
  }

  #jsonrpc(request: http.IncomingMessage, response: http.ServerResponse): void {
    const api = this.#options.api
    if (!api.allow(addressOf(request))) {
      request.resume()
      const answer = api.tooMany(addressOf(request))
      response.writeHead(answer.status, answer.headers)
      response.end(answer.body)
      return
    }
    this.#body(request, response, (text) => {
      api.handle(text, request.headers.authorization, peerOf(request)).then(
        (answer) => {
          response.writeHead(answer.status, answer.headers)
          response.end(answer.body)
        },
        (cause: unknown) => {
          // A bug, never the client's doing: answered as FortiAnalyzer answers an internal error.
          response.writeHead(500, { "content-type": "application/json" })
          response.end(`${JSON.stringify({ id: null, result: [{ status: { code: -1, message: "Internal error" }, detail: String(cause) }] })}\n`)
        }
      )
    })
  }

  #loginForm(request: http.IncomingMessage, response: http.ServerResponse): void {
    const api = this.#options.api
    if (!api.allow(addressOf(request))) {
      request.resume()
      this.#page(response, 429, "<p>Too many requests: slow down.</p>")
      return
    }
    this.#body(request, response, (text) => {
      const form = new URLSearchParams(text)
      void api.login(form.get("username") ?? "", form.get("secretkey") ?? "", peerOf(request)).then((result) => {
        if ("session" in result) {
          response.writeHead(302, { location: "/", "set-cookie": `${COOKIE}=${encodeURIComponent(result.session)}; Path=/; Secure; HttpOnly; SameSite=Strict` })
          response.end()
        } else {
          response.writeHead(302, { location: `/?error=${encodeURIComponent(result.reason)}` })
          response.end()
        }
      })
    })
  }

  #page(response: http.ServerResponse, status: number, body: string): void {
    const host = escapeHtml(this.#options.view.settings.hostname)
    response.writeHead(status, { "content-type": "text/html; charset=utf-8" })
    response.end(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${host} - FortiAnalyzer</title></head>
<body><h1>FortiAnalyzer ${host}</h1>
${body}
</body></html>
`)
  }

  #loginPage(error: string | null): string {
    return `${error === null ? "" : `<p role="alert">Login failed: ${escapeHtml(error)}</p>`}
<form method="post" action="/logincheck">
<label>Username <input name="username" autocomplete="username"></label>
<label>Password <input name="secretkey" type="password" autocomplete="current-password"></label>
<button type="submit">Login</button>
</form>
<p>Scripts use the JSON-RPC API: POST /jsonrpc.</p>`
  }

  #statusPage(user: string): string {
    const view = this.#options.view
    const rows = systemStatus(view, new Date()).map(([key, value]) => `<tr><th>${escapeHtml(key)}</th><td>${escapeHtml(value)}</td></tr>`).join("\n")
    const devices = view.store.devices.list().map((device) =>
      `<tr><td>${escapeHtml(device.name)}</td><td>${escapeHtml(device.serial)}</td><td>${escapeHtml(device.ip)}</td><td>${device.state === "authorized" ? `authorized (${escapeHtml(device.adom ?? "root")})` : "unauthorized"}</td><td>${device.heldLogs}</td></tr>`
    ).join("\n")
    return `<p>Logged in as ${escapeHtml(user)} · HA: ${escapeHtml(haMode(view))} · <a href="/logout">Log out</a></p>
<h2>System Information</h2>
<table>
${rows}
</table>
<h2>Devices</h2>
<table>
<tr><th>Name</th><th>Serial</th><th>IP</th><th>State</th><th>Held logs</th></tr>
${devices}
</table>`
  }
}
