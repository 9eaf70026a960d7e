/**
 * The emulated FortiGuard against real `curl` (`--resolve` to its lab address, `--cacert` the lab
 * CA): its certificate covers every FortiGuard name of the vendor table and no other, it serves
 * each object's manifest and bytes, and refuses what is not its protocol with a sentence and a
 * count. Then an analyzer updating from it through the lab's DNS on a simulated clock: the first
 * round downloads, the next one finds itself up to date, a release later it downloads the newer
 * version; and each way an update fails says why (TCP/443 refused, a certificate that does not
 * cover the name, an HTTP error).
 */
import { execFile } from "node:child_process"
import * as crypto from "node:crypto"
import { readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { promisify } from "node:util"
import { afterAll, describe, expect, it, onTestFinished } from "vitest"
import { vendorHostNames } from "../../src/catalog/catalog.ts"
import type { ObjectServer } from "../../src/devices/shared/object-server.ts"
import { VirtualLabClock } from "../../src/machines/virtual-clock.ts"
import { removeTempDirs, tempDir } from "../support/cli.ts"
import { sharedLab, useLab, waitForEvent } from "../support/lab.ts"

const run = promisify(execFile)

afterAll(() => removeTempDirs())

describe("FortiGuard ↔ curl", () => {
  const started = sharedLab(`
name: fortiguard-curl
devices:
  fg-1: { kind: fortiguard, unavailable: [geoip] }
`)

  /** curl to `name` at fg-1's TCP/443, trusting the lab CA; resolves with the exit code too. */
  const curl = async (name: string, urlPath: string, args: ReadonlyArray<string> = []) => {
    const { lab } = started()
    const dir = tempDir()
    const ca = path.join(dir, "ca.pem")
    writeFileSync(ca, lab.pki.caPem)
    const at = lab.plan.resolve("fg-1", "tcp/443")
    const out = path.join(dir, "body")
    const result = await run("curl", ["-sS", "--max-time", "10", "--cacert", ca, "--resolve", `${name}:${at.actualPort}:${at.address}`, "-o", out, "-w", "%{http_code}", ...args, `https://${name}:${at.actualPort}${urlPath}`])
      .then(({ stdout }) => ({ code: 0, status: Number(stdout), stderr: "" }))
      .catch((error: { code: number; stderr: string }) => ({ code: error.code, status: 0, stderr: error.stderr }))
    return { ...result, body: () => readFileSync(out) }
  }

  it("presents a certificate the lab CA signed for every FortiGuard name of the vendor table", async () => {
    const names = vendorHostNames().filter(({ row }) => row.startsWith("out-fortiguard-")).map(({ name }) => name)
    expect(names).toEqual(expect.arrayContaining(["globalupdate.fortinet.net", "fds1.fortinet.com", "usupdate2.fortinet.net", "productapi.fortinet.com", "filestore.fortinet.com", "mapserver.fortinet.com"]))
    for (const name of names) {
      const { code, status, stderr } = await curl(name, "/fds/v1/manifest/license")
      expect({ name, code, status, stderr }).toEqual({ name, code: 0, status: 200, stderr: "" })
    }
  })

  it("serves an object's manifest and the bytes it describes", async () => {
    const manifest = await curl("globalupdate.fortinet.net", "/fds/v1/manifest/av-ips")
    const described = JSON.parse(manifest.body().toString("utf8")) as { object: string; version: string; size: number; sha256: string }
    expect(described).toMatchObject({ object: "av-ips", version: "92.01234", size: 65_536 })
    const pkg = await curl("fds1.fortinet.com", `/fds/v1/package/av-ips/${described.version}`)
    expect(pkg.status).toBe(200)
    expect(pkg.body().length).toBe(described.size)
    expect(crypto.createHash("sha256").update(pkg.body()).digest("hex")).toBe(described.sha256)
  })

  it("refuses a name its certificate does not cover (curl exit 60)", async () => {
    const { code, stderr } = await curl("www.example.com", "/fds/v1/manifest/av-ips")
    expect(code).toBe(60)
    expect(stderr).toMatch(/subject name|does not match/iu)
  })

  it("answers what is not its protocol with a sentence, and counts it", async () => {
    const server = started().lab.device("fg-1") as ObjectServer
    const before = { ...server.refused }
    const unknown = await curl("globalupdate.fortinet.net", "/fds/v1/manifest/antispam")
    expect(unknown.status).toBe(404)
    expect(JSON.parse(unknown.body().toString("utf8"))).toEqual({ error: "antispam is not an object of fg-1; it offers av-ips, fct-av-ips, geoip, license, sprite-map, web-gui, google-maps-license" })
    const stale = await curl("globalupdate.fortinet.net", "/fds/v1/package/av-ips/1.0")
    expect(stale.status).toBe(404)
    expect(JSON.parse(stale.body().toString("utf8"))).toEqual({ error: "av-ips v1.0 is not the current version (v92.01234); ask the manifest again" })
    const post = await curl("globalupdate.fortinet.net", "/fds/v1/manifest/av-ips", ["-X", "POST", "-d", "{}"])
    expect(post.status).toBe(405)
    const down = await curl("globalupdate.fortinet.net", "/fds/v1/manifest/geoip")
    expect(down.status).toBe(503)
    expect(server.refused).toEqual({ "not-found": before["not-found"] + 1, method: before.method + 1, "stale-version": before["stale-version"] + 1, unavailable: before.unavailable + 1 })
  })
})

describe("the analyzer updating from FortiGuard", () => {
  it("downloads at start, is up to date on schedule, downloads a newer release, and says why each failure failed", async () => {
    // `clock: simulated`: lab time jumps to the next timer whenever the lab is idle.
    const clock = new VirtualLabClock()
    onTestFinished(() => clock.close())
    const started = await useLab(`
name: fortiguard-updates
devices:
  dns-1:
    kind: dns-server
    records: { globalfctupdate.fortinet.net: faz-2, filestore.fortinet.com: 127.0.0.254 }
  fg-1: { kind: fortiguard, release-interval: 90m, unavailable: [google-maps-license] }
  faz-2: { kind: fortianalyzer }
  faz-1:
    kind: fortianalyzer
    dns: { primary: dns-1 }
    fds-setting: { update-schedule: { frequency: every, time: "01:00" } }
`, { clock })
    const update = (service: string) => waitForEvent(started, "fortiguard-update", (event) => event.device === "faz-1" && event.service === service)
    const fg = started.lab.plan.addressOf("fg-1")

    const avips = await update("AV-IPS packages")
    expect(avips).toMatchObject({ name: "globalupdate.fortinet.net", state: "downloaded", version: "92.01234" })
    expect(avips.reason).toBe(`AV-IPS packages: globalupdate.fortinet.net is ${fg} (by dns-1); downloaded v92.01234 (65536 bytes)`)
    expect(await update("GeoIP")).toMatchObject({ state: "downloaded", version: "3.00150" })
    expect(await update("Licensing")).toMatchObject({ state: "downloaded", version: "1.00007" })
    expect(await update("Sprite map")).toMatchObject({ name: "productapi.fortinet.com", state: "downloaded" })
    const tlsFailed = await update("AV-IPS packages (FortiClient)")
    expect(tlsFailed.state).toBe("tls-failed")
    expect(tlsFailed.reason).toBe(`AV-IPS packages (FortiClient) update failed: globalfctupdate.fortinet.net is ${started.lab.plan.addressOf("faz-2")} (by dns-1) but TLS on TCP/443 failed: the certificate there does not cover globalfctupdate.fortinet.net`)
    const refused = await update("Web GUI")
    expect(refused.state).toBe("connect-failed")
    expect(refused.reason).toMatch(/^Web GUI update failed: filestore\.fortinet\.com is 127\.0\.0\.254 \(by dns-1\) but TCP\/443 there failed: .*ECONNREFUSED/u)
    const unavailable = await update("Google Maps license")
    expect(unavailable.state).toBe("http-error")
    expect(unavailable.reason).toBe(`Google Maps license update failed: mapserver.fortinet.com is ${fg} (by dns-1) but mapserver.fortinet.com answered 503 google-maps-license is unavailable on fg-1 (unavailable in its settings); try again later (GET /fds/v1/manifest/google-maps-license)`)

    await update("AV-IPS packages").then(() => waitForEvent(started, "fortiguard-update", (event) => event.service === "AV-IPS packages" && event.version === "92.01235"))
    const rounds = started.events.flatMap((event) => (event.type === "fortiguard-update" && event.service === "AV-IPS packages" ? [event] : []))
    expect(rounds.map(({ state, version }) => `${state} ${version}`)).toEqual(["downloaded 92.01234", "up-to-date 92.01234", "downloaded 92.01235"])
    // Every hour of lab time (update-schedule time 01:00): 60 minutes after the first round ended, then 60 after the second.
    expect(rounds[1]!.at).toBeGreaterThanOrEqual(60 * 60_000)
    expect(rounds[2]!.at).toBeGreaterThanOrEqual(120 * 60_000)
    expect(rounds[1]!.reason).toBe(`AV-IPS packages: globalupdate.fortinet.net is ${fg} (by dns-1); v92.01234 is the newest (globalupdate.fortinet.net has v92.01234); up to date`)
    expect(rounds[2]!.reason).toContain("downloaded v92.01235 (65536 bytes, was v92.01234)")
    expect(started.lab.analyzer("faz-1")?.fortiguard.installed.get("av-ips")).toBe("92.01235")
  })
})
