/** The forwarded-log codec: FortiAnalyzer's leading fields, the device's quoting kept, CEF escapes, logver. */
import { describe, expect, it } from "vitest"
import { encodeForwardedCef, encodeForwardedSyslog, type ForwardedLogInput, forwardedBody, logverOf } from "../../src/protocols/logforward/forwarded.ts"

const text = 'date=2026-12-05 time=06:00:00 devname="fgt a" devid="FGT60F0000000001" logid="0000000013" type="traffic" subtype="forward" level="warning" srcport=443 action="deny" msg="a=b | c\\\\d"'

const input = (over: Partial<ForwardedLogInput> = {}): ForwardedLogInput => ({
  fields: [["date", "2026-12-05"], ["time", "06:00:00"], ["devname", "fgt a"], ["devid", "FGT60F0000000001"], ["logid", "0000000013"], ["type", "traffic"], ["subtype", "forward"], ["level", "warning"], ["srcport", "443"], ["action", "deny"], ["msg", "a=b | c\\d"]],
  text,
  receivedAt: Date.UTC(2026, 11, 5, 6, 0, 1, 500),
  devid: "FGT60F0000000001",
  devname: "fgt a",
  logver: "704042662",
  facility: 23,
  severity: 4,
  platform: "FortiGate-60F",
  version: "v7.4.4",
  ...over
})

describe("forwarded logs", () => {
  it("leads with itime, logver, devid, devname and keeps the rest as the device wrote it", () => {
    expect(forwardedBody(input())).toBe(
      'itime=1796450401 logver=704042662 devid="FGT60F0000000001" devname="fgt a" date=2026-12-05 time=06:00:00 logid="0000000013" type="traffic" subtype="forward" level="warning" srcport=443 action="deny" msg="a=b | c\\\\d"'
    )
  })

  it("keeps a body that is not key=value whole as msg", () => {
    expect(forwardedBody(input({ fields: [], text: "link down on port3" }))).toBe('itime=1796450401 logver=704042662 devid="FGT60F0000000001" devname="fgt a" msg="link down on port3"')
  })

  it("writes fgt as RFC 3164 and rfc-5424 as RFC 5424, HOSTNAME the device's first word", () => {
    expect(encodeForwardedSyslog(input(), "fgt", 23).toString()).toMatch(/^<188>Dec  5 06:00:01 fgt itime=1796450401 /u)
    expect(encodeForwardedSyslog(input(), "rfc-5424", 16).toString()).toMatch(/^<132>1 2026-12-05T06:00:01Z fgt - - - - itime=/u)
  })

  it("writes CEF:0 with the header's pipes and the extension's equals signs and backslashes escaped", () => {
    const cef = encodeForwardedCef(input({ platform: "Forti|Gate" }), 23).toString()
    expect(cef).toBe(
      "<188>Dec  5 06:00:01 fgt CEF:0|Fortinet|Forti\\|Gate|v7.4.4|0000000013|forward traffic deny|6|start=Dec 05 2026 06:00:01 logver=704042662 deviceExternalId=FGT60F0000000001 dvchost=fgt a ad.logid=0000000013 cat=traffic ad.subtype=forward deviceSeverity=warning spt=443 act=deny msg=a\\=b | c\\\\d"
    )
  })

  it("derives logver from a firmware version", () => {
    expect(logverOf("v7.4.4")).toBe("704040000")
    expect(logverOf("v6.4.8,build1914 (GA)")).toBe("604081914")
    expect(logverOf("unknown")).toBeNull()
  })
})
