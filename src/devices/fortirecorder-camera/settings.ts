/**
 * A FortiRecorder camera's settings in a scenario, as Effect Schema fields (the only source of its
 * type): its model and the ports it says it serves when it answers a discovery.
 */
import type { SpecOf } from "../kind.ts"
import { NonEmpty, wholeNumber, withDefault } from "../settings.ts"

export const fortiRecorderCameraSettings = {
  model: withDefault(NonEmpty, "FCM-MB40"),
  /** The ports its ANNOUNCE names (its web settings and its RTSP stream). */
  httpPort: withDefault(wholeNumber(1, 65535), 80),
  rtspPort: withDefault(wholeNumber(1, 65535), 554)
}

export type FortiRecorderCameraSpec = SpecOf<"fortirecorder-camera", typeof fortiRecorderCameraSettings, true>
