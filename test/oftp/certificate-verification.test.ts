/**
 * FortiOS `certificate-verification enable` with the analyzer serial list: a FortiGate that
 * expects another analyzer closes the connection and says why, in FortiOS's words; with
 * `disable` it logs anyway.
 */
import { describe, expect, it } from "vitest"
import { useLab, waitForEvent, waitForStored } from "../support/lab.ts"

const lab = (settings: string) => `
name: cert-check
devices:
  faz-1: { kind: fortianalyzer, serial: FAZ-VM0000000001, oftp: { auto-authorize: true } }
  fgt-1: { kind: fortigate, fortianalyzer: { server: faz-1, rate: 50/s, ${settings} } }
`

describe("certificate-verification", () => {
  it("enable with a serial list that lacks the analyzer's serial: the FortiGate refuses it and says why", async () => {
    const started = await useLab(lab("serial: FAZ-VM0000000999, certificate-verification: enable"))
    const event = await waitForEvent(started, "oftp-link", (e) => e.device === "fgt-1" && e.state === "retrying")
    expect(event.reason).toBe("serial number of server is unauthorized (certificate CN FAZ-VM0000000001, expected one of FAZ-VM0000000999)")
    expect(started.lab.analyzers()[0]!.store.count({ device: "fgt-1" })).toBe(0)
  })

  it("enable with the analyzer's serial in the list: logs flow", async () => {
    const started = await useLab(lab("serial: FAZ-VM0000000001, certificate-verification: enable"))
    await waitForStored(started, "fgt-1", 10)
    // OFTP records are stored raw plus their indexed fields; the rest is rebuilt on read.
    const [row] = started.lab.analyzers()[0]!.store.query({ device: "fgt-1", limit: 1 })
    expect(row?.fields?.["devname"]).toBe("fgt-1")
    expect(row?.fields?.["logid"]).toBe(row?.logid)
  })

  it("disable: logs flow whatever the analyzer's serial", async () => {
    const started = await useLab(lab("serial: FAZ-VM0000000999, certificate-verification: disable"))
    await waitForStored(started, "fgt-1", 10)
  })
})
