/**
 * Real FortiGate lines sent with util-linux `logger`: one that logger cuts at its default 1 KiB
 * in the middle of a quoted value (over UDP), and one followed by a stray `|` (over TCP, RFC 5424
 * header as logger writes it), are stored with their well-formed fields (devname, devid, logid,
 * type), marked truncated or damaged when read back, counted by reason on the intake and
 * published as `log-partial`. The lab has a file store on the real clock, so the analyzer's store
 * thread parses them (the path a lab takes by default).
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { promisify } from "node:util"
import { afterAll, describe, expect, it } from "vitest"
import { analyzer, sharedLab, waitForEvent, waitForStored } from "../support/lab.ts"

const run = promisify(execFile)

const head = (devname: string) =>
  `date=2024-03-14 time=09:22:41 devname="${devname}" devid="FGT60FTK2109XXXX" eventtime=1710404561000000000 tz="+0100" logid="0317013312" type="utm" subtype="webfilter" eventtype="ftgd_blk" level="warning" vd="root" policyid=4 sessionid=9124410 srcip=10.10.20.44 srcport=50344 srcintf="internal" dstip=203.0.113.80 dstport=443 dstintf="wan1" proto=6 service="HTTPS" hostname="ads.example.net" profile="default" action="blocked" reqtype="direct"`
/** Over 1 KiB, so logger cuts it inside the quoted url. */
const LONG_LINE = `${head("FGT60F-Cut")} url="https://ads.example.net/track?${"id=7&ref=home&".repeat(60)}" sentbyte=517 rcvdbyte=0 msg="URL belongs to a denied category in policy"`
/** A whole line with one stray `|` after it, as captures carry them. */
const STRAY_LINE = `${head("FGT60F-Stray")} url="https://ads.example.net/" msg="blocked" |`

describe("cut and damaged FortiOS logs sent with logger keep their fields", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "fazlab-partial-"))
  // Registered before the lab, so it runs after the lab has closed.
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))
  const started = sharedLab("name: partial-logs\ndevices:\n  faz-1: { kind: fortianalyzer }\n", { dataDir })

  it("logger's 1 KiB cut inside a quoted value: stored with devname, logid and type, marked truncated", async () => {
    const { address, actualPort } = started().lab.plan.resolve("faz-1", "udp/514")
    expect(LONG_LINE.length).toBeGreaterThan(1024)
    await run("logger", ["-n", address, "-P", String(actualPort), "-d", "-t", "fgt", LONG_LINE])
    await waitForStored(started(), "FGT60F-Cut", 1)
    const [log] = analyzer(started().lab, "faz-1").store.query({ device: "FGT60F-Cut" })
    expect(log).toMatchObject({ devid: "FGT60FTK2109XXXX", logid: "0317013312", type: "utm", subtype: "webfilter", level: "warning", damage: { reason: "truncated", detail: "the text ends inside the quoted value of url" } })
    expect(log?.fields?.["reqtype"]).toBe("direct")
    // logger cut the MSG (not the header) at 1 KiB.
    expect(log?.message?.length).toBeLessThanOrEqual(1024)
    expect(log?.message?.length).toBeLessThan(LONG_LINE.length)
    expect(analyzer(started().lab, "faz-1").intake.partial.get("truncated")).toBe(1)
    const event = await waitForEvent(started(), "log-partial", (e) => e.reason === "truncated")
    expect(event).toMatchObject({ device: "faz-1", port: "udp/514", count: 1 })
    expect(event.detail).toBe("the text ends inside the quoted value of url; stored with the fields before it (util-linux logger cuts messages at 1 KiB unless given --size)")
  })

  it("a stray | after a whole line (logger over TCP): every field kept, marked damaged", async () => {
    const { address, actualPort } = started().lab.plan.resolve("faz-1", "tcp/514")
    await run("logger", ["-n", address, "-P", String(actualPort), "-T", "--octet-count", "-t", "fgt", "--size", "4096", STRAY_LINE])
    await waitForStored(started(), "FGT60F-Stray", 1)
    const [log] = analyzer(started().lab, "faz-1").store.query({ device: "FGT60F-Stray" })
    expect(log).toMatchObject({ format: "rfc5424", devid: "FGT60FTK2109XXXX", logid: "0317013312", type: "utm", damage: { reason: "damaged" } })
    expect(log?.fields?.["msg"]).toBe("blocked")
    expect(analyzer(started().lab, "faz-1").intake.partial.get("damaged")).toBe(1)
    const event = await waitForEvent(started(), "log-partial", (e) => e.reason === "damaged")
    expect(event).toMatchObject({ device: "faz-1", port: "tcp/514", count: 1 })
    expect(event.detail).toMatch(/^stray text "\|" at character \d+; skipped it and stored the fields around it$/)
  })
})
