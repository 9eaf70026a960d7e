/**
 * The FortiRecorder camera kind: the peer of the vendor table's outgoing "FortiRecorder Cameras ·
 * Polling for camera discovery (broadcast) · UDP/6666, UDP/59123" row. It listens on both ports
 * and answers an analyzer's discovery; it names no other device.
 */
import { DISCOVERY_PORTS } from "../../protocols/fortirecorder/discovery.ts"
import { defineKind } from "../kind.ts"
import { FortiRecorderCamera } from "./camera.ts"
import { fortiRecorderCameraSettings } from "./settings.ts"

export const fortirecorderCamera = defineKind({
  name: "fortirecorder-camera",
  settings: fortiRecorderCameraSettings,
  hostname: true,
  serialPrefix: "FCM-VM",
  catalogRows: ["out-fortirecorder-cameras-discovery"],
  ports: DISCOVERY_PORTS,
  references: () => [],
  autostart: () => true,
  build: ({ id, spec, context }) => new FortiRecorderCamera(id, spec, context)
})
