/**
 * The RADIUS server kind: the peer of the vendor table's "RADIUS · UDP/1812" row. It names no
 * other device.
 */
import { defineKind } from "../kind.ts"
import { RADIUS_PORT, RadiusServer } from "./radius-server.ts"
import { radiusServerSettings } from "./settings.ts"

export const radiusServer = defineKind({
  name: "radius-server",
  settings: radiusServerSettings,
  hostname: false,
  serialPrefix: "RADIUS",
  catalogRows: ["out-non-fortinet-radius"],
  ports: [RADIUS_PORT],
  references: () => [],
  autostart: () => true,
  build: ({ id, spec, context }) => new RadiusServer(id, spec, context)
})
