/**
 * The FortiRecorder kind: the peer of the vendor table's "FortiRecorder · Logging, management ·
 * TCP/21, 80, 443, 3011, 3010, UDP/554 (TCP/554)" row. It binds nothing; it dials the analyzer it
 * names (and starts after it).
 */
import { fortianalyzer } from "../fortianalyzer/kind.ts"
import { defineKind } from "../kind.ts"
import { FortiRecorder } from "./fortirecorder.ts"
import { fortiRecorderSettings } from "./settings.ts"

export const fortirecorder = defineKind({
  name: "fortirecorder",
  settings: fortiRecorderSettings,
  hostname: true,
  serialPrefix: "FRC-VM",
  catalogRows: ["in-fortirecorder-logging-management"],
  references: (spec) => [{ path: ["fortianalyzer"], name: spec.fortianalyzer, kind: fortianalyzer.name, group: false, outside: "faz.example.com or 10.0.0.7" }],
  autostart: () => true,
  build: ({ id, spec, context }) => new FortiRecorder(id, spec, context)
})
