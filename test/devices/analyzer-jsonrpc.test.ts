/**
 * The analyzer's web admin and JSON-RPC API with curl, verifying the analyzer's certificate
 * against the lab CA. The request bodies are shaped as public clients send them (pyFMG, the
 * Ansible httpapi plugin, fortianalyzer-mcp's LogView calls, the Postman collection's trailing
 * comma), and the answers are read as those clients read them: `result[0].status.code`, the
 * top-level `session`, `result.tid` / `percentage` / `data` for apiver 3.
 *
 * The flow of issue 10's "done when": log in, list devices, authorize an unauthorized FortiGate
 * (its held logs appear), search the stored logs; then every error code public clients check,
 * API keys and rpc-permit, expiring sessions (simulated clock), the named limits, TCP/80's
 * redirect, the login page and the XML API's answer (checked with xmllint).
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Lab } from "../../src/lab/lab.ts"
import { SimulatedLabClock } from "../../src/machines/clock.ts"
import { analyzer, useLab, waitForEvent, waitForStored } from "../support/lab.ts"

const run = promisify(execFile)
type Answer = { readonly status: number; readonly headers: string; readonly body: string }
type Data = { readonly [key: string]: unknown }
/** The classic answer: one result per params element. */
interface Reply {
  readonly session?: string
  readonly result: ReadonlyArray<{ readonly status: { readonly code: number; readonly message: string }; readonly url: string; readonly data?: unknown; readonly detail?: string }>
}
/** The `jsonrpc: "2.0"` answer (LogView, apiver 3): `result` is one object, or there is an `error`. */
interface Reply2 {
  readonly result?: Data
  readonly error?: { readonly code: number; readonly message: string }
}
/** `data` read as an object, or as a list of objects (a wrong shape fails the expectations that follow). */
const obj = (value: unknown): Data => (typeof value === "object" && value !== null ? value as Data : {})
const list = (value: unknown): ReadonlyArray<Data> => (Array.isArray(value) ? value.map(obj) : [])

let dir = ""
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fazlab-jsonrpc-"))
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

/** curl against one of the analyzer's ports; `-i` keeps the status line and headers. */
const curl = async (lab: Lab, port: "tcp/443" | "tcp/80", urlPath: string, args: ReadonlyArray<string> = []): Promise<Answer> => {
  const caFile = path.join(dir, "ca.pem")
  fs.writeFileSync(caFile, lab.pki.caPem)
  const { address, actualPort } = lab.plan.resolve("faz-1", port)
  const scheme = port === "tcp/443" ? "https" : "http"
  const { stdout } = await run("curl", ["-sS", "-i", "--cacert", caFile, ...args, `${scheme}://${address}:${actualPort}${urlPath}`])
  const split = stdout.indexOf("\r\n\r\n")
  const headers = stdout.slice(0, split)
  return { status: Number(/^HTTP\/[\d.]+ (\d{3})/u.exec(headers)?.[1]), headers, body: stdout.slice(split + 4) }
}

/** POST /jsonrpc with `body` exactly as given (a client's bytes), and optional extra headers. */
const post = async (lab: Lab, body: string, headers: ReadonlyArray<string>): Promise<unknown> => {
  const answer = await curl(lab, "tcp/443", "/jsonrpc", ["-H", "Content-Type: application/json", ...headers.flatMap((h) => ["-H", h]), "--data-binary", body])
  expect(answer.status).toBe(200)
  return JSON.parse(answer.body)
}
const rpc = async (lab: Lab, body: string, headers: ReadonlyArray<string> = []): Promise<Reply> => (await post(lab, body, headers)) as Reply
const rpc2 = async (lab: Lab, body: string): Promise<Reply2> => (await post(lab, body, [])) as Reply2

/** The first result of a classic answer. */
const first = (reply: Reply) => {
  const result = reply.result[0]
  if (result === undefined) throw new Error(`no result in ${JSON.stringify(reply)}`)
  return result
}

const labYaml = (extra = "") => `name: jsonrpc-test
devices:
  faz-1:
    kind: fortianalyzer
    serial: FAZ-VM0000000001
    hostname: FAZ-VM
    admin:
      setting: { idle-timeout-api: 60s${extra} }
      user:
        admin: { password: fortinet }
        reader: { user-type: api, api-key: reader0123456789abcdef, rpc-permit: read }
        nobody: { password: secret, rpc-permit: none }
  fgt-1:
    kind: fortigate
    serial: FGVM010000000001
    fortianalyzer: { server: faz-1, serial: FAZ-VM0000000001, rate: 100/s }
`

// pyFMG's login: data as an object, "session": null, "verbose": 1.
const pyfmgLogin = (user: string, passwd: string) =>
  `{"id": 1, "method": "exec", "params": [{"url": "sys/login/user", "data": {"user": "${user}", "passwd": "${passwd}"}}], "session": null, "verbose": 1}`

describe("JSON-RPC on TCP/443 (curl)", () => {
  it("logs in, lists devices, authorizes a held FortiGate and finds its logs with a log search", async () => {
    const started = await useLab(labYaml())
    const { lab } = started
    // fgt-1 registers unauthorized: its logs are stored, held.
    await waitForEvent(started, "device-registered", (e) => e.serial === "FGVM010000000001")
    const faz = analyzer(lab, "faz-1")
    const held = () => faz.store.devices.get("FGVM010000000001")?.heldLogs ?? 0
    await waitForEvent(started, "logs-acked", (e) => e.device === "fgt-1" && held() >= 10)

    const login = await rpc(lab, pyfmgLogin("admin", "fortinet"))
    expect(first(login).status).toEqual({ code: 0, message: "OK" })
    const session = login.session ?? ""
    expect(session).toMatch(/^[A-Za-z0-9+/=]{88}$/u)

    // Ansible's status call: leading slash, no verbose.
    const status = await rpc(lab, JSON.stringify({ id: 2, method: "get", params: [{ url: "/sys/status" }], session }))
    expect(first(status).data).toMatchObject({ "Serial Number": "FAZ-VM0000000001", Hostname: "FAZ-VM", "HA Mode": "Stand Alone", Major: 7, Minor: 4 })

    // The unauthorized devices, as the FortiAnalyzer collection filters them.
    const unreg = await rpc(lab, JSON.stringify({ id: 3, method: "get", params: [{ url: "/dvmdb/device", filter: ["mgmt_mode", "==", "unreg"], fields: ["name", "sn", "mgmt_mode"] }], session, verbose: 1 }))
    expect(first(unreg).data).toEqual([{ name: "fgt-1", sn: "FGVM010000000001", mgmt_mode: "unreg" }])
    const inRoot = await rpc(lab, JSON.stringify({ id: 4, method: "get", params: [{ url: "/dvmdb/adom/root/device" }], session }))
    expect(first(inRoot).data).toEqual([])

    // Authorize it as a task (promote_unreg), then read the task.
    const before = held()
    const add = await rpc(lab, JSON.stringify({
      id: 5,
      method: "exec",
      params: [{ url: "/dvm/cmd/add/device", data: { adom: "root", device: { name: "fgt-1", sn: "FGVM010000000001", mgmt_mode: "faz", "device action": "promote_unreg" }, flags: ["create_task", "nonblocking"] } }],
      session
    }))
    expect(first(add).status.code).toBe(0)
    const authorized = await waitForEvent(started, "device-authorized", (e) => e.serial === "FGVM010000000001", { timeoutMs: 5000 })
    expect(authorized.released).toBeGreaterThanOrEqual(before)
    const task = await rpc(lab, JSON.stringify({ id: 6, method: "get", params: [{ url: `/task/task/${obj(first(add).data)["taskid"]}` }], session }))
    expect(first(task).data).toMatchObject({ percent: 100, state: "done", num_done: 1, num_err: 0 })
    const managed = await rpc(lab, JSON.stringify({ id: 7, method: "get", params: [{ url: "/dvmdb/adom/root/device" }], session, verbose: 1 }))
    expect(list(first(managed).data)[0]).toMatchObject({ sn: "FGVM010000000001", mgmt_mode: "faz", adom: "root" })
    const again = await rpc(lab, JSON.stringify({ id: 8, method: "exec", params: [{ url: "/dvm/cmd/add/device", data: { adom: "root", device: { sn: "FGVM010000000001" } } }], session }))
    expect(first(again).status).toEqual({ code: -2, message: "Object already exists" })

    // fortianalyzer-mcp's three-step LogView search: jsonrpc 2.0, apiver 3 flat in params.
    await waitForStored(started, "fgt-1", authorized.released + 1)
    const search = await rpc2(lab, JSON.stringify({
      jsonrpc: "2.0",
      id: 9,
      method: "add",
      params: [{ url: "/logview/adom/root/logsearch", apiver: 3, logtype: "traffic", device: [{ devid: "FGVM010000000001[root]" }], "time-range": { start: "2000-01-01 00:00:00", end: "2099-12-31 23:59:59" }, "time-order": "desc" }],
      session
    }))
    const tid = Number(search.result?.["tid"])
    expect(tid).toBeGreaterThan(0)
    const page = await rpc2(lab, JSON.stringify({ jsonrpc: "2.0", id: 10, method: "get", params: [{ url: `/logview/adom/root/logsearch/${tid}`, apiver: 3, offset: 0, limit: 5 }], session }))
    expect(page.result).toMatchObject({ tid, percentage: 100, "return-lines": 5 })
    expect(page.result?.["total-count"]).toBeGreaterThanOrEqual(5)
    expect(list(page.result?.["data"])[0]).toMatchObject({ devid: "FGVM010000000001", devname: "fgt-1", type: "traffic" })
    const gone = await rpc2(lab, JSON.stringify({ jsonrpc: "2.0", id: 11, method: "delete", params: [{ url: `/logview/adom/root/logsearch/${tid}`, apiver: 3 }], session }))
    expect(gone.result).toBeDefined()
    const after = await rpc2(lab, JSON.stringify({ jsonrpc: "2.0", id: 12, method: "get", params: [{ url: `/logview/adom/root/logsearch/${tid}`, apiver: 3 }], session }))
    expect(after.error).toMatchObject({ code: -3, message: "Object does not exist" })

    const stats = await rpc2(lab, JSON.stringify({ jsonrpc: "2.0", id: 13, method: "get", params: [{ url: "/logview/adom/root/logstats", apiver: 3 }], session }))
    const fgt = list(stats.result)[0]
    expect(fgt).toMatchObject({ devid: "FGVM010000000001", devname: "fgt-1" })
    expect(fgt?.["log-count"]).toBeGreaterThan(0)
    const files = await rpc2(lab, JSON.stringify({ jsonrpc: "2.0", id: 14, method: "get", params: [{ url: "/logview/adom/root/logfiles/state", apiver: 3 }], session }))
    expect(list(list(files.result)[0]?.["logfiles"]).map((file) => file["name"])).toContain("tlog.log")

    // Logged out, the session is refused.
    const logout = await rpc(lab, JSON.stringify({ id: 15, method: "exec", params: [{ url: "/sys/logout" }], session }))
    expect(first(logout).status.code).toBe(0)
    const late = await rpc(lab, JSON.stringify({ id: 16, method: "get", params: [{ url: "/sys/status" }], session }))
    expect(first(late).status).toEqual({ code: -11, message: "No permission for the resource" })
  })

  it("answers every error with the code public clients check, and a sentence", async () => {
    const started = await useLab(labYaml())
    const { lab } = started
    const wrong = await rpc(lab, pyfmgLogin("admin", "nope"))
    expect(first(wrong).status.code).toBe(-11)
    expect(wrong.session).toBeUndefined()
    const none = await rpc(lab, pyfmgLogin("nobody", "secret"))
    expect(first(none)).toMatchObject({ status: { code: -11 }, detail: "nobody has rpc-permit none" })
    const refused = await waitForEvent(started, "admin-login", (e) => !e.ok && e.user === "admin")
    expect(refused).toMatchObject({ via: "jsonrpc", reason: "wrong password for admin" })

    // Ansible's login: data as a one-element list; the Postman collection's trailing comma.
    const login = await rpc(lab, `{"id": 1, "method": "exec", "params": [{"url": "/sys/login/user", "data": [{"user": "admin", "passwd": "fortinet"}]}], "session": null, }`)
    const session = login.session ?? ""
    expect(first(login).status.code).toBe(0)

    const noSession = await rpc(lab, JSON.stringify({ id: 2, method: "get", params: [{ url: "/sys/status" }] }))
    expect(first(noSession).status.code).toBe(-11)
    const badUrl = await rpc(lab, JSON.stringify({ id: 3, method: "get", params: [{ url: "/sys/nothing/here" }], session }))
    expect(first(badUrl).status).toEqual({ code: -6, message: "Invalid url" })
    const badData = await rpc(lab, JSON.stringify({ id: 4, method: "exec", params: [{ url: "/dvm/cmd/add/device", data: { adom: "root" } }], session }))
    expect(first(badData).status).toEqual({ code: -10, message: "The data is invalid for selected url" })
    const missing = await rpc(lab, JSON.stringify({ id: 5, method: "exec", params: [{ url: "/dvm/cmd/del/device", data: { adom: "root", device: "no-such-fgt" } }], session }))
    expect(first(missing).status).toEqual({ code: -3, message: "Object does not exist" })
    const noAdom = await rpc(lab, JSON.stringify({ id: 6, method: "get", params: [{ url: "/dvmdb/adom/nowhere/device" }], session }))
    expect(first(noAdom).status.code).toBe(-3)
    const garbage = await rpc(lab, "{this is not json")
    expect(first(garbage).status.code).toBe(-10)
    expect(first(garbage).detail).toMatch(/^the body is not JSON/u)
    const badFilter = await rpc(lab, JSON.stringify({ id: 7, method: "get", params: [{ url: "/dvmdb/device", filter: "mgmt_mode=unreg" }], session }))
    expect(first(badFilter).status.code).toBe(-10)

    // Several params in one call: one result each, in order.
    const two = await rpc(lab, JSON.stringify({ id: 8, method: "get", params: [{ url: "/cli/global/system/global" }, { url: "/dvmdb/adom" }], session, verbose: 1 }))
    expect(two.result.map((r) => r.url)).toEqual(["/cli/global/system/global", "/dvmdb/adom"])
    expect(first(two).data).toMatchObject({ hostname: "FAZ-VM", "adom-status": "disable" })
    expect(list(two.result[1]?.data).map((adom) => adom["name"])).toEqual(["root"])
    const admins = await rpc(lab, JSON.stringify({ id: 9, method: "get", params: [{ url: "/cli/global/system/admin/user" }], session }))
    expect(list(first(admins).data).map((user) => user["userid"])).toEqual(["admin", "reader", "nobody"])
    const ha = await rpc(lab, JSON.stringify({ id: 10, method: "get", params: [{ url: "/cli/global/system/ha" }], session }))
    expect(first(ha).data).toEqual({ mode: "standalone" })
  })

  it("lets an API user in by its bearer key, within its rpc-permit", async () => {
    const started = await useLab(labYaml())
    const { lab } = started
    const bearer = "Authorization: Bearer reader0123456789abcdef"
    const status = await rpc(lab, JSON.stringify({ id: 1, method: "get", params: [{ url: "/sys/status" }] }), [bearer])
    expect(obj(first(status).data)["Serial Number"]).toBe("FAZ-VM0000000001")
    const write = await rpc(lab, JSON.stringify({ id: 2, method: "exec", params: [{ url: "/dvm/cmd/del/device", data: { adom: "root", device: "fgt-1" } }] }), [bearer])
    expect(first(write)).toMatchObject({ status: { code: -11 }, detail: "reader has rpc-permit read: it may read, not exec /dvm/cmd/del/device" })
    const wrongKey = await rpc(lab, JSON.stringify({ id: 3, method: "get", params: [{ url: "/sys/status" }] }), ["Authorization: Bearer not-a-key"])
    expect(first(wrongKey).status.code).toBe(-11)
    // An API user has no password login.
    const login = await rpc(lab, pyfmgLogin("reader", "reader0123456789abcdef"))
    expect(first(login).status.code).toBe(-11)
  })

  it("expires a session unused for idle-timeout-api (lab clock), and enforces api-rate and api-max-body-bytes", async () => {
    const clock = new SimulatedLabClock()
    const started = await useLab(labYaml(", api-rate: 3/s, api-max-body-bytes: 512"), { clock })
    const { lab } = started
    const login = await rpc(lab, pyfmgLogin("admin", "fortinet"))
    const session = login.session ?? ""
    const ask = () => rpc(lab, JSON.stringify({ id: 2, method: "get", params: [{ url: "/sys/status" }], session }))
    expect(first(await ask()).status.code).toBe(0)
    // Three requests in this second (login and one get so far): the fourth is over api-rate.
    expect(first(await ask()).status.code).toBe(0)
    const over = await curl(lab, "tcp/443", "/jsonrpc", ["--data-binary", JSON.stringify({ id: 3, method: "get", params: [{ url: "/sys/status" }], session })])
    expect(over.status).toBe(429)
    expect(first(JSON.parse(over.body) as Reply).detail).toMatch(/^more than api-rate 3\/s requests from 127\.0\.\d+\.\d+; slow down or raise devices\.faz-1\.admin\.setting\.api-rate$/u)
    clock.advance(1000)
    const big = await curl(lab, "tcp/443", "/jsonrpc", ["--data-binary", JSON.stringify({ id: 4, method: "get", params: [{ url: "/sys/status", pad: "x".repeat(600) }], session })])
    expect(big.status).toBe(413)
    expect(first(JSON.parse(big.body) as Reply).status.code).toBe(-10)

    clock.advance(59_000)
    expect(first(await ask()).status.code).toBe(0)
    clock.advance(60_001)
    expect(first(await ask()).status).toEqual({ code: -11, message: "No permission for the resource" })
    const expired = await waitForEvent(started, "admin-logout", (e) => e.via === "jsonrpc")
    expect(expired.reason).toBe("unused for idle-timeout-api 60 s")
  })

  it("redirects TCP/80 to HTTPS, serves the login page and answers the XML API with a SOAP fault", async () => {
    const started = await useLab(labYaml())
    const { lab } = started
    const redirect = await curl(lab, "tcp/80", "/index.html")
    const https = lab.plan.resolve("faz-1", "tcp/443")
    expect(redirect.status).toBe(301)
    expect(redirect.headers).toMatch(new RegExp(`^location: https://${https.address.replaceAll(".", "\\.")}:${https.actualPort}/index\\.html\\r?$`, "imu"))

    const page = await curl(lab, "tcp/443", "/")
    expect(page.status).toBe(200)
    expect(page.body).toContain("<form method=\"post\" action=\"/logincheck\">")
    const form = await curl(lab, "tcp/443", "/logincheck", ["--data", "username=admin&secretkey=fortinet"])
    expect(form.status).toBe(302)
    const cookie = /^set-cookie: (APSCOOKIE_FAZ=[^;]+)/imu.exec(form.headers)?.[1] ?? ""
    const status = await curl(lab, "tcp/443", "/", ["-H", `Cookie: ${cookie}`])
    expect(status.body).toMatch(/<th>Serial Number<\/th><td>FAZ-VM0000000001<\/td>/u)

    const soap = await curl(lab, "tcp/443", "/", ["-H", "Content-Type: text/xml", "-H", "SOAPAction: \"\"", "--data", "<Envelope/>"])
    expect(soap.status).toBe(500)
    const xmlFile = path.join(dir, "fault.xml")
    fs.writeFileSync(xmlFile, soap.body)
    const { stdout } = await run("xmllint", ["--xpath", "string(//faultstring)", xmlFile])
    expect(stdout.trim()).toBe("The XML API is not available on this FortiAnalyzer (v7.4); use the JSON-RPC API at POST /jsonrpc")
  })
})
