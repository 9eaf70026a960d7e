/**
 * FortiClient endpoint logs as FortiClient sends them to a syslog server: key=value text much
 * like FortiOS's, identified by the endpoint's `hostname` and `devid` (its FCT serial).
 *
 * Fortinet documents the fields but not a full grammar; the field set here follows the
 * FortiClient log reference (traffic, event and vulnerability logs) and is marked emulated in
 * docs/protocols/syslog.md.
 */
export type ForticlientLogKind = "traffic" | "event" | "vuln"

const PROCESSES = ["chrome.exe", "firefox.exe", "Teams.exe", "outlook.exe", "svchost.exe"] as const
const SITES = ["www.example.com", "intranet.example.org", "files.example.net", "updates.example.com"] as const
const VULNS = [
  ["Microsoft Edge Security Update", "High"],
  ["Adobe Reader Remote Code Execution", "Critical"],
  ["OpenSSL Denial of Service", "Medium"]
] as const

const pick = <T>(items: ReadonlyArray<T>, random: () => number): T => items[Math.floor(random() * items.length) % items.length] as T

export const makeForticlientLog = (input: {
  readonly hostname: string
  readonly serial: string
  readonly user: string
  readonly now: Date
  readonly random: () => number
}): { readonly fields: ReadonlyArray<readonly [string, string | number]>; readonly level: string } => {
  const { random, now } = input
  const iso = now.toISOString()
  const roll = random()
  const kind: ForticlientLogKind = roll < 0.75 ? "traffic" : roll < 0.92 ? "event" : "vuln"
  const head: Array<readonly [string, string | number]> = [
    ["date", iso.slice(0, 10)],
    ["time", iso.slice(11, 19)],
    ["logver", 1],
    ["type", kind],
    ["level", kind === "vuln" ? "warning" : "info"],
    ["hostname", input.hostname],
    ["devid", input.serial],
    ["uid", `${input.serial.slice(3)}0F1E2D3C`],
    ["user", input.user],
    ["deviceip", `10.20.${Math.floor(random() * 250)}.${1 + Math.floor(random() * 250)}`],
    ["os", "Microsoft Windows 11 Professional Edition, 64-bit (build 22631)"]
  ]
  const body: ReadonlyArray<readonly [string, string | number]> =
    kind === "traffic"
      ? [
        ["subtype", "webfilter"],
        ["srcname", pick(PROCESSES, random)],
        ["direction", "outbound"],
        ["dstip", `203.0.113.${1 + Math.floor(random() * 250)}`],
        ["dstport", 443],
        ["proto", 6],
        ["service", "HTTPS"],
        ["url", `https://${pick(SITES, random)}/`],
        ["action", random() < 0.95 ? "passthrough" : "blocked"]
      ]
      : kind === "event"
      ? [["subtype", "system"], ["msg", "FortiClient connected to EMS"], ["action", "connect"]]
      : [["subtype", "vulnerability"], ...((([name, severity]) => [["vulnname", name], ["vulnseverity", severity]] as const)(pick(VULNS, random)))]
  const fields = [...head, ...body]
  return { fields, level: kind === "vuln" ? "warning" : "information" }
}
