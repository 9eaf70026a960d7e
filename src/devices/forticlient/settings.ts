/**
 * A FortiClient's settings in a scenario, as Effect Schema fields (the only source of its type):
 * syslog (udp or reliable), FortiClient for Chromebook's HTTPS logs, and the Fabric join.
 */
import * as Schema from "effect/Schema"
import type { SpecOf } from "../kind.ts"
import { orNull, withDefault } from "../settings.ts"
import { ForticlientSyslogSettings } from "../shared/syslog-sender.ts"
import { ChromebookSettings, FabricSettings } from "./https-client.ts"

export const fortiClientSettings = {
  /** false: the lab starts it only on a `start` step or command. */
  autostart: withDefault(Schema.Boolean, true),
  syslog: orNull(ForticlientSyslogSettings),
  /** FortiClient for Chromebook: logs as JSON over HTTPS to the analyzer's TCP/8443. */
  chromebook: orNull(ChromebookSettings),
  /** Joins the analyzer's Security Fabric over TLS/443. */
  fabric: orNull(FabricSettings)
}

export type FortiClientSpec = SpecOf<"forticlient", typeof fortiClientSettings, true>
