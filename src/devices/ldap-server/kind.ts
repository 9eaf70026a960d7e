/**
 * The LDAP server kind: the peer of the vendor table's "LDAP & PKI authentication" and "Report
 * query" rows (TCP/389, UDP/389). It names no other device.
 */
import { defineKind } from "../kind.ts"
import { LDAP_PORTS, LdapServer } from "./ldap-server.ts"
import { ldapServerSettings } from "./settings.ts"

export const ldapServer = defineKind({
  name: "ldap-server",
  settings: ldapServerSettings,
  hostname: false,
  serialPrefix: "LDAP",
  catalogRows: ["out-non-fortinet-ldap-pki-auth", "out-non-fortinet-report-query"],
  ports: LDAP_PORTS,
  references: () => [],
  autostart: () => true,
  build: ({ id, spec, context }) => new LdapServer(id, spec, context)
})
