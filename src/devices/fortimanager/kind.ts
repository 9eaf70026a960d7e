/**
 * The FortiManager kind: its settings, its default serial (FMG-VM...), FGFM on TCP/541, the
 * analyzers its own logs go to and the analyzers it manages (it starts after them), and how it
 * is built.
 */
import { fortianalyzer, LOG_SERVER_OUTSIDE } from "../fortianalyzer/kind.ts"
import { defineKind, referencesTo } from "../kind.ts"
import { FORTIMANAGER_PORTS, FortiManager } from "./fortimanager.ts"
import { fortiManagerSettings } from "./settings.ts"

export const fortimanager = defineKind({
  name: "fortimanager",
  settings: fortiManagerSettings,
  hostname: true,
  serialPrefix: "FMG-VM",
  catalogRows: ["in-fortimanager-oftp", "in-fortimanager-syslog"],
  ports: FORTIMANAGER_PORTS,
  references: (spec) => [
    ...referencesTo(fortianalyzer.name, LOG_SERVER_OUTSIDE, true, [
      [["syslog", "server"], spec.syslog?.server],
      [["fortianalyzer", "server"], spec.fortianalyzer?.server]
    ]),
    // An analyzer it manages listens on its own address (TCP/541 is a management port), not on an HA group's.
    ...spec.managedAnalyzers.map((name, i) => ({ path: ["managedAnalyzers", i], name, kind: fortianalyzer.name, group: false, outside: "faz.example.com or 10.0.0.7:541" }))
  ],
  autostart: () => true,
  build: ({ id, spec, context }) => new FortiManager(id, spec, context)
})
