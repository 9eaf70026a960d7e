/**
 * FortiClient's HTTPS flows seen by a real third-party client: curl posts Chromebook logs to the
 * analyzer's TCP/8443 and joins the Fabric on TLS/443, verifying the analyzer's certificate
 * against the lab CA; bad bodies get a 400 with a sentence and are counted.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { promisify } from "node:util"
import { beforeAll, describe, expect, it, vi } from "vitest"
import { StoreError } from "../../src/store/store-error.ts"
import { sharedLab, waitForStored } from "../support/lab.ts"

const run = promisify(execFile)

let caFile: string
const started = sharedLab("name: https-intake\ndevices:\n  faz-1: { kind: fortianalyzer }\n")
beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fazlab-https-"))
  caFile = path.join(dir, "ca.pem")
  fs.writeFileSync(caFile, started().lab.pki.caPem)
})

const curl = async (port: "tcp/8443" | "tcp/443", urlPath: string, body: string) => {
  const { address, actualPort } = started().lab.plan.resolve("faz-1", port)
  const { stdout } = await run("curl", ["-sS", "--cacert", caFile, "-w", "\\n%{http_code}", `https://${address}:${actualPort}${urlPath}`, "-d", body])
  const [text = "", status = ""] = stdout.split(/\n(?=\d{3}$)/)
  return { status: Number(status), body: JSON.parse(text) as Record<string, unknown> }
}

describe("the analyzer's HTTPS endpoints with curl", () => {
  it("stores Chromebook logs posted to TCP/8443", async () => {
    const reply = await curl("tcp/8443", "/api/v1/logs", JSON.stringify({
      serial: "FCT8001000000099",
      hostname: "chromebook-9",
      logs: [{ type: "traffic", subtype: "webfilter", level: "notice", url: "https://www.example.com/" }, { type: "event", level: "warning", msg: "two words" }]
    }))
    expect(reply).toEqual({ status: 200, body: { stored: 2 } })
    await waitForStored(started(), "chromebook-9", 2)
    const rows = started().lab.analyzers()[0]!.store.query({ device: "chromebook-9", order: "asc" })
    expect(rows.map((row) => [row.devid, row.type, row.level])).toEqual([["FCT8001000000099", "traffic", "notice"], ["FCT8001000000099", "event", "warning"]])
    expect(rows[1]?.fields?.["msg"]).toBe("two words")
  })

  it("answers 200 only once the logs are stored: 503 when the store refuses them, and they can be sent again", async () => {
    const analyzer = started().lab.analyzers()[0]!
    const body = JSON.stringify({ serial: "FCT8001000000098", hostname: "chromebook-8", logs: [{ type: "event", level: "notice", msg: "once" }] })
    const append = vi.spyOn(analyzer.store, "append").mockImplementationOnce(() => {
      throw new StoreError("store-write-failed", "database or disk is full")
    })
    const refused = await curl("tcp/8443", "/api/v1/logs", body)
    append.mockRestore()
    expect(refused.status).toBe(503)
    expect(String(refused.body["error"])).toBe("faz-1 could not store the logs (see its store-failed event); send them again")
    expect(analyzer.store.count({ device: "chromebook-8" })).toBe(0)
    // Stored by the time the 200 arrives, not a few milliseconds later.
    expect(await curl("tcp/8443", "/api/v1/logs", body)).toEqual({ status: 200, body: { stored: 1 } })
    expect(analyzer.store.count({ device: "chromebook-8" })).toBe(1)
  })

  it("answers a body that is not the expected JSON with 400 and counts it", async () => {
    const analyzer = started().lab.analyzers()[0]!
    const before = analyzer.intake.malformed.get("bad-json") ?? 0
    const reply = await curl("tcp/8443", "/api/v1/logs", '{"serial": 1}')
    expect(reply.status).toBe(400)
    expect(String(reply.body["error"])).toMatch(/^the body must be JSON .*serial/)
    expect(analyzer.intake.malformed.get("bad-json")).toBe(before + 1)
  })

  it("registers a Fabric member that joins on TLS/443", async () => {
    const reply = await curl("tcp/443", "/api/v1/fabric/join", JSON.stringify({ serial: "FCT8001000000100", hostname: "kiosk-2" }))
    expect(reply).toEqual({ status: 200, body: { status: "pending", analyzerSerial: "FAZ-VM0000000001", adom: null } })
    expect(started().lab.analyzers()[0]!.store.devices.get("FCT8001000000100")).toMatchObject({ name: "kiosk-2", state: "unauthorized", platform: "FortiClient" })
  })
})
