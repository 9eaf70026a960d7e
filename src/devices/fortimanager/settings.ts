/**
 * A FortiManager's settings in a scenario, as Effect Schema fields (the only source of its
 * type): identity, its FGFM side (the FortiGates that register, the analyzers it manages), and its own logs (the FortiGate's `log syslogd` and
 * `log fortianalyzer` settings).
 */
import { FazLoggerSettings } from "../fortigate/faz-logger.ts"
import type { SpecOf } from "../kind.ts"
import * as Schema from "effect/Schema"
import { Duration, NonEmpty, orNull, Server, settingsStruct, withDefault } from "../settings.ts"
import { SyslogSenderSettings } from "../shared/syslog-sender.ts"
import { FgfmServerSettings } from "./fgfm-server.ts"

export const fortiManagerSettings = {
  platform: withDefault(NonEmpty, "FortiManager-VM64"),
  version: withDefault(NonEmpty, "v7.4.4"),
  fgfm: withDefault(FgfmServerSettings, {}),
  /**
   * The analyzers it adds by address and manages (Device Manager → Add Device): it connects to
   * each one's TCP/541, and the analyzer registers in its device list. A lab analyzer's id, or
   * host / host:port outside the lab.
   */
  managedAnalyzers: withDefault(Schema.Array(Server), []),
  /** fazlab's, for `managed-analyzers`: bounds connect + TLS, and the wait before connecting again. */
  analyzerLink: withDefault(settingsStruct({
    connectTimeout: withDefault(Duration, "10s"),
    retryInterval: withDefault(Duration, "10s")
  }), {}),
  /** Its own logs: syslog, and/or OFTP to an analyzer (the FortiGate's settings). */
  syslog: orNull(SyslogSenderSettings),
  fortianalyzer: orNull(FazLoggerSettings)
}

export type FortiManagerSpec = SpecOf<"fortimanager", typeof fortiManagerSettings, true>
