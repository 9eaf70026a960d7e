/**
 * The DNS server kind: the peer of the vendor table's "DNS · UDP/53, TCP/53" row. It binds both
 * ports and names no other device (its records may name devices, which need not start first).
 */
import { defineKind } from "../kind.ts"
import { DNS_PORTS, DnsServer } from "./dns-server.ts"
import { dnsServerSettings } from "./settings.ts"

export const dnsServer = defineKind({
  name: "dns-server",
  settings: dnsServerSettings,
  hostname: false,
  serialPrefix: "DNS",
  catalogRows: ["out-non-fortinet-dns"],
  ports: DNS_PORTS,
  references: () => [],
  autostart: () => true,
  build: ({ id, spec, context }) => new DnsServer(id, spec, context)
})
