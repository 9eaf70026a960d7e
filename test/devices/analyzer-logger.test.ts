/**
 * The analyzer against a real third-party client: util-linux `logger` sends over UDP and TCP,
 * RFC 3164 and RFC 5424, with and without octet counting; the stored fields must match.
 */
import { execFile } from "node:child_process"
import { hostname } from "node:os"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"
import { sharedLab, waitForStored } from "../support/lab.ts"

const run = promisify(execFile)

const LAB = `
name: logger-test
devices:
  faz-1: { kind: fortianalyzer }
`

const started = sharedLab(LAB)

const logger = async (flags: ReadonlyArray<string>, device: string, message: string) => {
  const port = flags.includes("-T") ? "tcp/514" : "udp/514"
  const { address, actualPort } = started().lab.plan.resolve("faz-1", port)
  await run("logger", ["-n", address, "-P", String(actualPort), "-p", "local7.notice", "-t", "fgt", ...flags, message])
  await waitForStored(started(), device, 1)
  const [row] = started().lab.analyzers()[0]!.store.query({ device, limit: 1 })
  return row!
}

const fortiosLine = (devname: string) =>
  `date=2026-11-27 time=06:00:00 devname="${devname}" devid="FGT60FTK20000009" eventtime=1795845600000000000 tz="+0000" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.0.0.5 msg="he said \\"hi\\" twice"`

describe("logger → analyzer", () => {
  it.each([
    ["UDP RFC 3164", ["-d", "--rfc3164"], "rfc3164"],
    ["UDP RFC 5424", ["-d", "--rfc5424"], "rfc5424"],
    ["TCP LF RFC 3164", ["-T", "--rfc3164"], "rfc3164"],
    ["TCP LF RFC 5424", ["-T", "--rfc5424"], "rfc5424"],
    ["TCP octet-counted RFC 3164", ["-T", "--octet-count", "--rfc3164"], "rfc3164"],
    ["TCP octet-counted RFC 5424", ["-T", "--octet-count", "--rfc5424"], "rfc5424"]
  ] as const)("%s: FortiOS fields are parsed and stored", async (name, flags, format) => {
    const devname = `lgr-${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`
    const row = await logger(flags, devname, fortiosLine(devname))
    expect(row.format).toBe(format)
    expect(row.transport).toBe((flags as ReadonlyArray<string>).includes("-T") ? "tcp" : "udp")
    expect(row.facility).toBe(23)
    expect(row.severity).toBe(5)
    expect(row.devid).toBe("FGT60FTK20000009")
    expect(row.logid).toBe("0000000013")
    expect(row.type).toBe("traffic")
    expect(row.subtype).toBe("forward")
    expect(row.level).toBe("notice")
    expect(row.fields?.["msg"]).toBe('he said "hi" twice')
    expect(row.fields?.["srcip"]).toBe("10.0.0.5")
    expect(row.raw).toContain(`devname="${devname}"`)
  })

  it("stores a plain (non key=value) message raw with its syslog header fields", async () => {
    const { address, actualPort } = started().lab.plan.resolve("faz-1", "udp/514")
    await run("logger", ["-n", address, "-P", String(actualPort), "-d", "--rfc5424", "-t", "myapp", "-p", "auth.warning", "just some text"])
    // logger names this machine in the header; with no devname, the header's hostname identifies the sender.
    await waitForStored(started(), hostname(), 1)
    const [row] = started().lab.analyzers()[0]!.store.query({ device: hostname(), limit: 1 })
    expect(row?.format).toBe("rfc5424")
    expect(row?.facility).toBe(4)
    expect(row?.severity).toBe(4)
    expect(row?.fields).toBeNull()
    expect(row?.raw).toContain("just some text")
    expect(row?.raw).toContain(" myapp ")
  })
})
