/**
 * A FortiGate's settings in a scenario, as Effect Schema fields (the only source of its type):
 * identity, `log syslogd`, `log fortianalyzer` and `central-management`, with FortiOS names, and
 * `replay`: a real log file its destinations send instead of generated logs.
 */
import * as Schema from "effect/Schema"
import type { SpecOf } from "../kind.ts"
import { NonEmpty, orNull, withDefault } from "../settings.ts"
import { SyslogSenderSettings } from "../shared/syslog-sender.ts"
import { FazLoggerSettings } from "./faz-logger.ts"
import { CentralManagementSettings } from "./fgfm-client.ts"

export const fortiGateSettings = {
  vdom: withDefault(NonEmpty, "root"),
  platform: withDefault(NonEmpty, "FortiGate-60F"),
  version: withDefault(NonEmpty, "v7.4.4"),
  /** false: the lab starts it only on a `start` step or command. */
  autostart: withDefault(Schema.Boolean, true),
  /** `config log syslogd setting`. */
  syslog: orNull(SyslogSenderSettings),
  /** `config log fortianalyzer setting`: OFTP on TCP/514 (or UDP/514 with `reliable disable`). */
  fortianalyzer: orNull(FazLoggerSettings),
  /** `config system central-management` (type fortimanager): FGFM to a FortiManager on TCP/541. */
  centralManagement: orNull(CentralManagementSettings),
  /**
   * A log file (relative to the scenario file's folder) whose logs this FortiGate sends, at their
   * original pace on the lab clock, instead of generating logs; null: generate them.
   */
  replay: orNull(NonEmpty)
}

export type FortiGateSpec = SpecOf<"fortigate", typeof fortiGateSettings, true>
