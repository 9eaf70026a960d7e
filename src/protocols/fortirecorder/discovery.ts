/**
 * FortiRecorder camera discovery on UDP/6666 and UDP/59123 (the vendor table's outgoing
 * "FortiRecorder Cameras · Polling for camera discovery (broadcast)"). No public source describes
 * these datagrams (FortiRecorder's guides name mDNS, UPnP and ONVIF), so they are fazlab's own
 * (docs/protocols/fortirecorder.md): one FortiOS key=value line each,
 *
 *   analyzer: `FRCAM DISCOVER seq=7 from="FAZ-VM0000000001"`
 *   camera:   `FRCAM ANNOUNCE seq=7 serial="FCM-..." name="lobby" model="FCM-MB40" mac="..." http=80 rtsp=554`
 *
 * both ports alike; a camera answers the datagram's source.
 */
import { formatKeyValues, parseKeyValues } from "../fortios/kv.ts"

export const DISCOVERY_PORTS = ["udp/6666", "udp/59123"] as const
export type DiscoveryPort = (typeof DISCOVERY_PORTS)[number]

export interface CameraAnnounce {
  readonly seq: number
  readonly serial: string
  readonly name: string
  readonly model: string
  readonly mac: string
  readonly http: number
  readonly rtsp: number
}

const PREFIX = "FRCAM "

export const encodeDiscover = (seq: number, from: string): Buffer =>
  Buffer.from(`${PREFIX}DISCOVER ${formatKeyValues([["seq", seq], ["from", from]])}`, "utf8")

export const encodeAnnounce = (announce: CameraAnnounce): Buffer =>
  Buffer.from(
    `${PREFIX}ANNOUNCE ${formatKeyValues([["seq", announce.seq], ["serial", announce.serial], ["name", announce.name], ["model", announce.model], ["mac", announce.mac], ["http", announce.http], ["rtsp", announce.rtsp]])}`,
    "utf8"
  )

/** The fields of a datagram of `verb`, or why it is not one. */
const fieldsOf = (datagram: Buffer, verb: "DISCOVER" | "ANNOUNCE"): Record<string, string> | string => {
  const text = datagram.subarray(0, 512).toString("utf8")
  const head = `${PREFIX}${verb} `
  if (!text.startsWith(head)) return `"${text.slice(0, 40)}" is not an FRCAM ${verb} datagram`
  return parseKeyValues(text.slice(head.length)) ?? `the fields of "${text.slice(0, 40)}" are not key=value`
}

const whole = (value: string | undefined): number | null => (value !== undefined && /^\d{1,9}$/u.test(value) ? Number(value) : null)

/** A camera's reading of a DISCOVER: its seq and who asks, or why it is not one. */
export const decodeDiscover = (datagram: Buffer): { readonly seq: number; readonly from: string } | string => {
  const fields = fieldsOf(datagram, "DISCOVER")
  if (typeof fields === "string") return fields
  const seq = whole(fields["seq"])
  return seq === null ? "a DISCOVER without seq=" : { seq, from: fields["from"] ?? "" }
}

/** The analyzer's reading of an ANNOUNCE, or why it is not one. */
export const decodeAnnounce = (datagram: Buffer): CameraAnnounce | string => {
  const fields = fieldsOf(datagram, "ANNOUNCE")
  if (typeof fields === "string") return fields
  const seq = whole(fields["seq"])
  const serial = fields["serial"] ?? ""
  if (seq === null || serial === "") return "an ANNOUNCE without seq= or serial="
  return {
    seq,
    serial,
    name: fields["name"] ?? serial,
    model: fields["model"] ?? "",
    mac: fields["mac"] ?? "",
    http: whole(fields["http"]) ?? 80,
    rtsp: whole(fields["rtsp"]) ?? 554
  }
}
