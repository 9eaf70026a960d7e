/**
 * The FortiClient kind: its settings, its default serial (FCT...), the analyzer flows it
 * emulates, the analyzers its settings dial, and how it is built.
 */
import { fortianalyzer, LOG_SERVER_OUTSIDE } from "../fortianalyzer/kind.ts"
import { defineKind, referencesTo } from "../kind.ts"
import { FortiClient } from "./forticlient.ts"
import { fortiClientSettings } from "./settings.ts"

export const forticlient = defineKind({
  name: "forticlient",
  settings: fortiClientSettings,
  hostname: true,
  serialPrefix: "FCT",
  catalogRows: ["in-forticlient-logs", "in-forticlient-chromebook-logs", "in-forticlient-fabric-member", "in-forticlient-syslog"],
  references: (spec) =>
    referencesTo(fortianalyzer.name, LOG_SERVER_OUTSIDE, true, [
      [["syslog", "server"], spec.syslog?.server],
      [["chromebook", "server"], spec.chromebook?.server],
      [["fabric", "server"], spec.fabric?.server]
    ]),
  autostart: (spec) => spec.autostart,
  build: ({ id, spec, context }) => new FortiClient(id, spec, context)
})
