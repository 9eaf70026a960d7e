/**
 * The emulated Fortinet Registry against real `curl` (`--resolve` to its lab address, `--cacert`
 * the lab CA): an application's manifest on TCP/443 and its image on TCP/4443, under
 * registry.fortinet.com only. Then an analyzer with `config system docker` fetching its enabled
 * management extension applications through the lab's DNS: FortiWLM downloaded (manifest from
 * TCP/443, image from TCP/4443), FortiSOAR refused by the registry with the reason in the event.
 */
import { execFile } from "node:child_process"
import * as crypto from "node:crypto"
import { readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { promisify } from "node:util"
import * as Effect from "effect/Effect"
import { afterAll, describe, expect, it } from "vitest"
import type { LabEvent } from "../../src/events/events.ts"
import { isEvent, sharedLab, waitForEvent } from "../support/lab.ts"
import { removeTempDirs, tempDir } from "../support/cli.ts"

const run = promisify(execFile)

afterAll(() => removeTempDirs())

const started = sharedLab(`
name: registry-test
devices:
  dns-1: { kind: dns-server }
  reg-1: { kind: fortinet-registry, unavailable: [fortisoar] }
  faz-1:
    kind: fortianalyzer
    dns: { primary: dns-1 }
    docker: { status: enable, fortiwlm: enable, fortisoar: enable }
`)

/** curl to `name` at reg-1's `port`, trusting the lab CA. */
const curl = async (name: string, port: "tcp/443" | "tcp/4443", urlPath: string) => {
  const { lab } = started()
  const dir = tempDir()
  const ca = path.join(dir, "ca.pem")
  writeFileSync(ca, lab.pki.caPem)
  const at = lab.plan.resolve("reg-1", port)
  const out = path.join(dir, "body")
  const result = await run("curl", ["-sS", "--max-time", "10", "--cacert", ca, "--resolve", `${name}:${at.actualPort}:${at.address}`, "-o", out, "-w", "%{http_code}", `https://${name}:${at.actualPort}${urlPath}`])
    .then(({ stdout }) => ({ code: 0, status: Number(stdout), stderr: "" }))
    .catch((error: { code: number; stderr: string }) => ({ code: error.code, status: 0, stderr: error.stderr }))
  return { ...result, body: () => readFileSync(out) }
}

describe("Fortinet Registry ↔ curl, and the analyzer's MEA check", () => {
  it("lists an application on TCP/443 and serves its image on TCP/4443, under registry.fortinet.com", async () => {
    const manifest = await curl("registry.fortinet.com", "tcp/443", "/mea/v1/manifest/fortiwlm")
    expect(manifest.status).toBe(200)
    const described = JSON.parse(manifest.body().toString("utf8")) as { version: string; size: number; sha256: string }
    expect(described).toMatchObject({ object: "fortiwlm", version: "8.6.3", size: 131_072 })
    const image = await curl("registry.fortinet.com", "tcp/4443", `/mea/v1/package/fortiwlm/${described.version}`)
    expect(image.status).toBe(200)
    expect(crypto.createHash("sha256").update(image.body()).digest("hex")).toBe(described.sha256)
    const wrongName = await curl("globalupdate.fortinet.net", "tcp/443", "/mea/v1/manifest/fortiwlm")
    expect(wrongName.code).toBe(60)
  })

  it("lets the analyzer download FortiWLM (manifest on TCP/443, image on TCP/4443) and says why FortiSOAR failed", async () => {
    const { lab, events } = started()
    const wlm = await waitForEvent(started(), "mea-update", (event) => event.device === "faz-1" && event.app === "fortiwlm")
    expect(wlm).toMatchObject({ name: "registry.fortinet.com", state: "downloaded", version: "8.6.3" })
    expect(wlm.reason).toBe(`fortiwlm MEA: registry.fortinet.com is ${lab.plan.addressOf("reg-1")} (by dns-1); downloaded v8.6.3 (131072 bytes)`)
    const served = events.filter(isEvent("object-request", (event) => event.device === "reg-1" && event.object === "fortiwlm" && event.peer.startsWith(`${lab.plan.addressOf("faz-1")}:`)))
    expect(served.map((event) => `${event.port} ${event.path} ${event.status}`)).toEqual(["tcp/443 /mea/v1/manifest/fortiwlm 200", "tcp/4443 /mea/v1/package/fortiwlm/8.6.3 200"])
    const soar = await waitForEvent(started(), "mea-update", (event) => event.device === "faz-1" && event.app === "fortisoar")
    expect(soar.state).toBe("http-error")
    expect(soar.reason).toBe(`fortisoar MEA update failed: registry.fortinet.com is ${lab.plan.addressOf("reg-1")} (by dns-1) but registry.fortinet.com answered 503 fortisoar is unavailable on reg-1 (unavailable in its settings); try again later (GET /mea/v1/manifest/fortisoar)`)
    expect(events.some(isEvent("mea-update", (event) => event.app === "fortisigconverter"))).toBe(false)
  })

  it("announces its two ports in order on every start and says them closed on every stop, before the device's own event", async () => {
    const { lab, events } = started()
    const registry = lab.device("reg-1")
    if (registry === undefined) throw new Error("no reg-1")
    const from = events.length
    await Effect.runPromise(registry.stop())
    await Effect.runPromise(registry.start())
    const sequence = (list: ReadonlyArray<LabEvent>) =>
      list.flatMap((event) =>
        "device" in event && event.device === "reg-1" && ["listener-bound", "listener-closed", "device-started", "device-stopped"].includes(event.type)
          ? [`${event.type}${"port" in event ? ` ${event.port}` : ""}`]
          : []
      )
    const first = ["listener-bound tcp/443", "listener-bound tcp/4443", "device-started"]
    expect(sequence(events.slice(0, from))).toEqual(first)
    expect(sequence(events.slice(from))).toEqual(["listener-closed tcp/443", "listener-closed tcp/4443", "device-stopped", ...first])
    expect(await curl("registry.fortinet.com", "tcp/4443", "/mea/v1/manifest/fortiwlm")).toMatchObject({ code: 0, status: 200 })
  })
})
