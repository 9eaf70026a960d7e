/**
 * The NTP server kind: the peer of the vendor table's "NTP · UDP/123" row. It binds UDP/123 and
 * names no other device.
 */
import { defineKind } from "../kind.ts"
import { NTP_PORT, NtpServer } from "./ntp-server.ts"
import { ntpServerSettings } from "./settings.ts"

export const ntpServer = defineKind({
  name: "ntp-server",
  settings: ntpServerSettings,
  hostname: false,
  serialPrefix: "NTP",
  catalogRows: ["out-non-fortinet-ntp"],
  ports: [NTP_PORT],
  references: () => [],
  autostart: () => true,
  build: ({ id, spec, context }) => new NtpServer(id, spec, context)
})
