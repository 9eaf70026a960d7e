/**
 * The DNS server kind: the peer of the vendor table's "DNS · UDP/53, TCP/53" row. It binds both
 * ports and names no other device (its records may name devices, which need not start first). A
 * vendor name whose catalog row a lab device emulates (a `fortiguard`, a `fortinet-registry`)
 * answers that device's address unless a record says otherwise.
 */
import { vendorHostNames } from "../../catalog/catalog.ts"
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
  build: ({ id, spec, context, peerOfRow }) => {
    const vendorPeers = new Map(vendorHostNames().flatMap(({ name, row }) => {
      const peer = peerOfRow(row)
      return peer === null ? [] : [[name, peer] as const]
    }))
    return new DnsServer(id, { ...spec, vendorPeers }, context)
  }
})
