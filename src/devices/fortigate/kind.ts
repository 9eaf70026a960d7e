/**
 * The FortiGate kind: its settings, its default serial (FGVM01...), the flows it emulates, the
 * analyzers and FortiManager its settings dial, the log file it may replay, and how it is built.
 */
import { readReplayFile } from "../../protocols/syslog/replay.ts"
import { defineKind, referencesTo } from "../kind.ts"
import { fortianalyzer, LOG_SERVER_OUTSIDE } from "../fortianalyzer/kind.ts"
import { fortimanager } from "../fortimanager/kind.ts"
import { FortiGate } from "./fortigate.ts"
import { fortiGateSettings } from "./settings.ts"

export const fortigate = defineKind({
  name: "fortigate",
  settings: fortiGateSettings,
  hostname: true,
  serialPrefix: "FGVM01",
  catalogRows: ["in-fortigate-oftp"],
  references: (spec) => [
    ...referencesTo(fortianalyzer.name, LOG_SERVER_OUTSIDE, true, [
      [["syslog", "server"], spec.syslog?.server],
      [["fortianalyzer", "server"], spec.fortianalyzer?.server]
    ]),
    ...referencesTo(fortimanager.name, "fmg.example.com or 10.0.0.7:541", false, [[["centralManagement", "fmg"], spec.centralManagement?.fmg]])
  ],
  files: (spec) =>
    spec.replay === null
      ? []
      : [{
        path: ["replay"],
        file: spec.replay,
        expected: "a readable log file, one log a line (FortiOS key=value with or without a syslog header, RFC 3164, RFC 5424)",
        check: (text) => (readReplayFile(text).logs.length === 0 ? "a file that holds no logs" : null)
      }],
  autostart: (spec) => spec.autostart,
  build: ({ id, spec, context }) => new FortiGate(id, spec, context)
})
