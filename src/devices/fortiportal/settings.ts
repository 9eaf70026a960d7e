/**
 * A FortiPortal's settings in a scenario, as Effect Schema fields (the only source of its type):
 * its version, and the FortiAnalyzers it polls with the fields FortiPortal keeps for each one
 * (`ipAddress`, `adminUserName`, its password; the poll interval is fazlab's).
 */
import * as Schema from "effect/Schema"
import type { SpecOf } from "../kind.ts"
import { Duration, NonEmpty, Server, settingsStruct, withDefault } from "../settings.ts"

/** One FortiAnalyzer FortiPortal polls. */
export const PortalAnalyzer = settingsStruct({
  /** FortiPortal's `ipAddress`: a lab analyzer, or host / host:port outside the lab (443 if none). */
  server: Server,
  adminUserName: withDefault(NonEmpty, "admin"),
  password: withDefault(Schema.String, ""),
  /** fazlab's: how often it polls (lab time), and how long one call may take. */
  pollInterval: withDefault(Duration, "60s"),
  timeout: withDefault(Duration, "10s")
})
export type PortalAnalyzer = typeof PortalAnalyzer.Type

export const fortiPortalSettings = {
  version: withDefault(NonEmpty, "v7.4.2"),
  fortianalyzers: withDefault(Schema.Array(PortalAnalyzer), [])
}

export type FortiPortalSpec = SpecOf<"fortiportal", typeof fortiPortalSettings, true>
