/**
 * A FortiGate's `config system central-management` (type fortimanager): its settings, and its
 * FGFM link to a FortiManager on TCP/541, which the FortiGate dials (TCP + TLS with a certificate
 * chained to the lab CA, the FortiOS `enc-algorithm` levels) and dials again `retry-interval`
 * after a failure. The session is `devices/shared/fgfm-device-link.ts`.
 */
import * as Schema from "effect/Schema"
import type { EncAlgorithm } from "../../net/tls.ts"
import type { DeviceContext } from "../device.ts"
import { Duration, Server, settingsStruct, withDefault } from "../settings.ts"
import { FGFM_PORT, FgfmDeviceLink, type FgfmIdentity } from "../shared/fgfm-device-link.ts"

/** A FortiGate's `config system central-management` (type fortimanager). Times in milliseconds (whole seconds on the wire). */
export const CentralManagementSettings = settingsStruct({
  /** `fmg`: a FortiManager of the lab, or host / host:port outside it. */
  fmg: Server,
  /** FortiOS `enc-algorithm`: default (high and medium suites), high or low. */
  encAlgorithm: withDefault(Schema.Literals(["default", "high", "low"]), "high"),
  /** FGFM `keepalive_interval` this FortiGate asks for. */
  keepaliveInterval: withDefault(Duration, "300s"),
  /** FGFM `sock_timeout` this FortiGate asks for. */
  sockTimeout: withDefault(Duration, "900s"),
  /** fazlab's: bounds connect + TLS + register reply. */
  connectTimeout: withDefault(Duration, "10s"),
  /** fazlab's: the wait between a failure and the next attempt. */
  retryInterval: withDefault(Duration, "10s")
})
export type CentralManagementSettings = typeof CentralManagementSettings.Type

/** FortiOS `enc-algorithm` of central-management → the TLS module's levels. */
const TLS_LEVELS: Readonly<Record<CentralManagementSettings["encAlgorithm"], EncAlgorithm>> = {
  default: "high-medium",
  high: "high",
  low: "low"
}

/** The FortiGate's FGFM session, dialling `settings.fmg`. */
export const fgfmToManager = (device: FgfmIdentity, settings: CentralManagementSettings, context: DeviceContext): FgfmDeviceLink =>
  new FgfmDeviceLink(device, {
    manager: settings.fmg,
    timers: {
      keepaliveIntervalMs: settings.keepaliveInterval,
      sockTimeoutMs: settings.sockTimeout,
      connectTimeoutMs: settings.connectTimeout,
      retryIntervalMs: settings.retryInterval
    },
    open: (link, signal) =>
      link.dial({
        protocol: "FGFM",
        server: settings.fmg,
        port: FGFM_PORT,
        timeoutMs: settings.connectTimeout,
        tls: { encAlgorithm: TLS_LEVELS[settings.encAlgorithm], sslMinProtoVersion: "default" }
      }, signal)
  }, context)
