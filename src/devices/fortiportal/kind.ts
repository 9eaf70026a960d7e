/**
 * The FortiPortal kind: the peer of the vendor table's "FortiPortal · API communications (JSON
 * and XML) · TCP/443, TCP/8080" row. It binds nothing; it polls the analyzers it names (and
 * starts after them).
 */
import { fortianalyzer } from "../fortianalyzer/kind.ts"
import { defineKind } from "../kind.ts"
import { FortiPortal } from "./fortiportal.ts"
import { fortiPortalSettings } from "./settings.ts"

export const fortiportal = defineKind({
  name: "fortiportal",
  settings: fortiPortalSettings,
  hostname: true,
  serialPrefix: "FPC-VM",
  catalogRows: ["in-fortiportal-api"],
  references: (spec) =>
    spec.fortianalyzers.map((entry, i) => ({ path: ["fortianalyzers", i, "server"], name: entry.server, kind: fortianalyzer.name, group: false, outside: "faz.example.com or 10.0.0.7:443" })),
  autostart: () => true,
  build: ({ id, spec, context }) => new FortiPortal(id, spec, context)
})
