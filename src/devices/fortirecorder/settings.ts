/**
 * A FortiRecorder's settings in a scenario, as Effect Schema fields (the only source of its type):
 * the analyzer it reports to and how (`fortianalyzer`, the admin it calls the API as, RTSP over UDP
 * or TCP), its cameras, and fazlab's pacing (`notify-interval`, `timeout`).
 */
import * as Schema from "effect/Schema"
import type { SpecOf } from "../kind.ts"
import { Duration, NonEmpty, Server, withDefault } from "../settings.ts"

export const fortiRecorderSettings = {
  version: withDefault(NonEmpty, "v7.2.6"),
  /** The analyzer it logs to and is managed by: a lab analyzer, or a host outside the lab (documented ports). */
  fortianalyzer: Server,
  /** The analyzer's administrator its API calls (TCP/80, TLS/443) log in as. */
  adminUserName: withDefault(NonEmpty, "admin"),
  password: withDefault(Schema.String, ""),
  /** Its cameras, by name: each notify round sends one notice per camera. */
  cameras: withDefault(Schema.Array(NonEmpty).check(Schema.isMinLength(1, { expected: "at least one camera name" })), ["cam-1"]),
  /** RTSP to the analyzer over UDP/554 (the default) or TCP/554; the analyzer's `fortirecorder rtsp-transport` must match. */
  rtspTransport: withDefault(Schema.Literals(["udp", "tcp"]), "udp"),
  /** fazlab's: how often it runs its flows (lab time), and how long one exchange may take. */
  notifyInterval: withDefault(Duration, "60s"),
  timeout: withDefault(Duration, "10s")
}

export type FortiRecorderSpec = SpecOf<"fortirecorder", typeof fortiRecorderSettings, true>
