/**
 * The network a netns lab derives from its lab file: namespace and link names (Linux's 15
 * characters), zones (declared, an HA group's, one per device otherwise), addresses per zone, and
 * the one sentence for a layout that cannot be.
 */
import { describe, expect, it } from "vitest"
import { NetnsPlanError, netnsPlan } from "../../src/placement/netns-plan.ts"
import { parseScenario } from "../../src/lab/scenario/load.ts"

const lab = (extra: string) =>
  parseScenario(
    `
name: a-rather-long-lab-name-for-links
devices:
  faz-a: { kind: fortianalyzer }
  faz-b: { kind: fortianalyzer }
  fgt-with-a-long-device-id: { kind: fortigate, syslog: { server: lab } }
  fmg-1: { kind: fortimanager }
ha:
  lab: { members: [faz-a, faz-b] }
${extra}
`,
    "lab.yaml",
    { stepsRequired: false }
  )

describe("netnsPlan", () => {
  it("lays out zones, addresses and names from the lab file alone", () => {
    const plan = netnsPlan(lab("netns: { zones: { mgmt: [fmg-1] } }"))
    expect(plan.router).toBe("fz-a-rather-long-lab-name-for-links")
    expect(plan.zones.map((zone) => [zone.name, zone.gateway, zone.devices])).toEqual([
      ["mgmt", "10.250.0.1", ["fmg-1"]],
      ["lab", "10.250.1.1", ["faz-a", "faz-b"]],
      ["fgt-with-a-long-device-id", "10.250.2.1", ["fgt-with-a-long-device-id"]]
    ])
    expect(Object.fromEntries(plan.addresses)).toEqual({
      "fmg-1": "10.250.0.2",
      "faz-a": "10.250.1.2",
      "faz-b": "10.250.1.3",
      lab: "10.250.1.4",
      "fgt-with-a-long-device-id": "10.250.2.2"
    })
    const device = plan.devices.get("fgt-with-a-long-device-id")
    expect(device?.namespace).toBe("fz-a-rather-long-lab-name-for-links-fgt-with-a-long-device-id")
    const links = [...plan.devices.values()].map((d) => d.link).concat(plan.zones.map((zone) => zone.bridge))
    for (const link of links) expect(link.length).toBeLessThanOrEqual(15)
    expect(new Set(links).size).toBe(links.length)
    // The same file gives the same plan (the lab and every node compute it).
    expect(netnsPlan(lab("netns: { zones: { mgmt: [fmg-1] } }"))).toEqual(plan)
  })

  it("takes the subnet the lab file sets", () => {
    expect(netnsPlan(lab("netns: { subnet: 192.168.0.0/16 }")).addresses.get("faz-a")).toBe("192.168.0.2")
  })

  it("refuses in one sentence what cannot be laid out", () => {
    expect(() => netnsPlan(lab("netns: { zones: { a: [faz-a], b: [faz-b] } }"))).toThrow(
      new NetnsPlanError("the members of HA group lab are in zones a and b; put them in one zone, so its virtual IP can move between them on one network")
    )
    expect(() => netnsPlan(lab("netns: { zones: { a: [nope] } }"))).toThrow(/netns.zones.a names nope, which is no device of lab/u)
    expect(() => netnsPlan(lab("netns: { zones: { a: [fmg-1], b: [fmg-1] } }"))).toThrow("fmg-1 is in two zones, a and b; put each device in one zone")
    expect(() => netnsPlan(lab("netns: { subnet: 10.0.0.0/24 }"))).toThrow(/has 3 zones and netns.subnet 10.0.0.0\/24 holds 1 \/24 networks/u)
  })
})
