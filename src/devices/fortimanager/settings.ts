/**
 * A FortiManager's settings in a scenario, as Effect Schema fields (the only source of its
 * type): identity, its FGFM side, and its own logs (the FortiGate's `log syslogd` and
 * `log fortianalyzer` settings).
 */
import { FazLoggerSettings } from "../fortigate/faz-logger.ts"
import type { SpecOf } from "../kind.ts"
import { NonEmpty, orNull, withDefault } from "../settings.ts"
import { SyslogSenderSettings } from "../shared/syslog-sender.ts"
import { FgfmServerSettings } from "./fgfm-server.ts"

export const fortiManagerSettings = {
  platform: withDefault(NonEmpty, "FortiManager-VM64"),
  version: withDefault(NonEmpty, "v7.4.4"),
  fgfm: withDefault(FgfmServerSettings, {}),
  /** Its own logs: syslog, and/or OFTP to an analyzer (the FortiGate's settings). */
  syslog: orNull(SyslogSenderSettings),
  fortianalyzer: orNull(FazLoggerSettings)
}

export type FortiManagerSpec = SpecOf<"fortimanager", typeof fortiManagerSettings, true>
