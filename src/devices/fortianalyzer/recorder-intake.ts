/**
 * What the analyzer serves a FortiRecorder (the vendor table's "FortiRecorder · Logging,
 * management · TCP/21, 80, 443, 3011, 3010, UDP/554 by default, TCP/554 when changed"), as a
 * FortiAnalyzer 7.2 with `config fortirecorder` did (the feature was removed in 7.4.0; fazlab
 * keeps it: docs/protocols/fortirecorder.md):
 *
 * - TCP/3010, the notify channel (fazlab's line protocol, `protocols/fortirecorder/notify.ts`):
 *   HELLO, then NOTIFY lines, each acknowledged once the analyzer has taken it;
 * - TCP/3011, the same notices as HTTP (`POST /notify`, JSON);
 * - RTSP on UDP/554, or TCP/554 with `fortirecorder rtsp-transport tcp`: OPTIONS and DESCRIBE of
 *   `rtsp://<analyzer>/fortirecorder/<recorder serial>/<camera>` (an SDP of one H.264 track);
 *   other methods get 405, a path of no recorder 404;
 * - TCP/21, FTP (`shared/ftp-server.ts`): video clips and logs uploaded by a recorder, logged in
 *   as one of the analyzer's administrators, kept under `<data>/<analyzer>/fortirecorder/` (a
 *   temporary folder for a lab in memory); each file a `file-received` event, a refused login or
 *   transfer a `file-refused` event;
 * - TCP/80 and TCP/443 are the web admin's (the recorder's API calls).
 *
 * Each notice is kept once per recorder and channel: a resent sequence number (a recorder that
 * lost an ACK sends again) is acknowledged again and not counted twice. Each is a
 * `recorder-notice` event; each RTSP request an `rtsp-request` event. What cannot be used is
 * answered as its protocol says (ERR, HTTP 400, RTSP 400), counted by code (`refused`) and
 * published as `recorder-refused` with a sentence.
 */
import * as fs from "node:fs"
import type * as http from "node:http"
import type * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as Schema from "effect/Schema"
import type { EventBus } from "../../events/bus.ts"
import { isReported, type PortKey } from "../../events/events.ts"
import { peerOf } from "../../net/tcp.ts"
import { LineReader } from "../../protocols/shared/line-reader.ts"
import { decodeNotifyLine, encodeNotifyLine, Notice, NOTIFY_MAX_LINE_BYTES, type NotifyErrorCode } from "../../protocols/fortirecorder/notify.ts"
import { decodeRequest, encodeResponse, type RtspRequest, RtspMessageReader } from "../../protocols/rtsp/messages.ts"
import { Duration, settingsStruct, withDefault } from "../settings.ts"
import { FtpService } from "../shared/ftp-server.ts"
import type { AdminAccounts } from "./admin.ts"

export const UPLOAD_PORT: PortKey = "tcp/21"
export const NOTIFY_TCP_PORT: PortKey = "tcp/3010"
export const NOTIFY_HTTP_PORT: PortKey = "tcp/3011"
export const RTSP_PORTS = { udp: "udp/554", tcp: "tcp/554" } as const satisfies Record<string, PortKey>

/**
 * `config fortirecorder global` as fazlab keeps it: where RTSP listens (UDP/554 unless changed),
 * and the interface's `camera-discovery` (`camera-discovery.ts`) with fazlab's poll interval.
 */
export const AnalyzerRecorderSettings = settingsStruct({
  rtspTransport: withDefault(Schema.Literals(["udp", "tcp"]), "udp"),
  cameraDiscovery: withDefault(Schema.Literals(["enable", "disable"]), "disable"),
  discoveryInterval: withDefault(Duration, "60s")
})
export type AnalyzerRecorderSettings = typeof AnalyzerRecorderSettings.Type

/** What the analyzer keeps of a recorder: its name and, per notify port, the last notice taken. */
export interface RecorderState {
  name: string
  version: string
  readonly lastSeq: Map<PortKey, number>
  /** Notices taken (each once). */
  notices: number
}

/** What a refusal is counted under. */
export type RecorderRefusal = NotifyErrorCode | "bad-json" | "bad-rtsp"

const RTSP_METHODS = "OPTIONS, DESCRIBE"

const decodeNotice = Schema.decodeUnknownExit(Schema.fromJsonString(Notice))

export interface RecorderIntakeOptions {
  readonly device: string
  readonly serial: string
  readonly bus: EventBus
  /** Who may log in to TCP/21. */
  readonly admins: AdminAccounts
  /** The analyzer's own address (FTP's passive data listeners bind there). */
  readonly address: string
  /** The lab's data folder, or null for a lab in memory (uploads then go to a temporary folder). */
  readonly dataDir: string | null
}

export class RecorderIntake {
  readonly #options: RecorderIntakeOptions
  /** Recorders by serial, from their first HELLO or notice. */
  readonly recorders = new Map<string, RecorderState>()
  readonly refused = new Map<RecorderRefusal, number>()
  /** TCP/21: where recorders upload their clips and logs. */
  readonly uploads: FtpService
  /** The folder uploads go to. */
  readonly uploadRoot: string
  /** Files received on TCP/21. */
  received = 0

  constructor(options: RecorderIntakeOptions) {
    this.#options = options
    const { bus, device, admins } = options
    this.uploadRoot = options.dataDir === null
      ? path.join(os.tmpdir(), `fazlab-${device}-fortirecorder-${process.pid}-${Math.random().toString(36).slice(2, 10)}`)
      : path.join(options.dataDir, device, "fortirecorder")
    this.uploads = new FtpService({
      address: options.address,
      root: this.uploadRoot,
      authenticate: (user, password) => admins.password(user, password, "ftp").then((login) => (login.ok ? null : login.reason)),
      onLogin: (login) => {
        if (!login.ok) bus.publish({ type: "file-refused", device, via: "ftp", user: login.user, peer: login.peer, reason: login.reason })
      },
      onStored: (file) => {
        this.received++
        bus.publish({ type: "file-received", device, via: "ftp", user: file.user, peer: file.peer, path: file.path, bytes: file.bytes, total: this.received })
      },
      onStoreFailed: (failed) => bus.publish({ type: "file-refused", device, via: "ftp", user: failed.user, peer: failed.peer, reason: failed.reason })
    })
  }

  /** For good: a lab in memory removes its temporary upload folder. */
  dispose(): void {
    if (this.#options.dataDir === null) fs.rmSync(this.uploadRoot, { recursive: true, force: true })
  }

  /** A TCP/3010 connection: HELLO, NOTIFY..., BYE. */
  readonly notifyConnection = (socket: net.Socket): void => {
    const peer = peerOf(socket)
    const reader = new LineReader(NOTIFY_MAX_LINE_BYTES)
    let serial: string | null = null
    const refuse = (code: NotifyErrorCode, reason: string) => {
      this.#refuse(peer, NOTIFY_TCP_PORT, code, reason)
      socket.end(encodeNotifyLine({ verb: "ERR", code, reason }))
      socket.removeAllListeners("data")
    }
    socket.on("data", (chunk: Buffer) => {
      const { lines, tooLong } = reader.push(chunk)
      if (tooLong) return refuse("line-too-long", `a line longer than ${NOTIFY_MAX_LINE_BYTES} bytes`)
      for (const line of lines) {
        const decoded = decodeNotifyLine(line)
        if ("refused" in decoded) return refuse(decoded.refused, decoded.reason)
        if (decoded.verb === "HELLO") {
          serial = decoded.serial
          this.#recorder(serial, decoded)
          socket.write(encodeNotifyLine({ verb: "OK", serial: this.#options.serial }))
        } else if (decoded.verb === "NOTIFY") {
          if (serial === null) return refuse("hello-required", "NOTIFY before HELLO")
          this.#take(NOTIFY_TCP_PORT, { serial, seq: decoded.seq, camera: decoded.camera, event: decoded.event })
          socket.write(encodeNotifyLine({ verb: "ACK", seq: decoded.seq }))
        } else if (decoded.verb === "BYE") {
          socket.end(encodeNotifyLine({ verb: "BYE" }))
          return
        } else {
          return refuse("unknown-verb", `${decoded.verb} is the analyzer's to send, not the recorder's`)
        }
      }
    })
  }

  /** TCP/3011: `POST /notify` with a notice as JSON; `{"status":"ok","seq":n}` once taken. */
  readonly notifyHttp = (request: http.IncomingMessage, response: http.ServerResponse): void => {
    const peer = `${request.socket.remoteAddress ?? "?"}:${request.socket.remotePort ?? 0}`
    const answer = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" })
      response.end(JSON.stringify(body))
    }
    if (request.method !== "POST" || request.url !== "/notify") {
      answer(404, { status: "error", reason: "the notify channel takes POST /notify only" })
      request.resume()
      return
    }
    const chunks: Array<Buffer> = []
    let size = 0
    request.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size <= 4096) chunks.push(chunk)
    })
    request.on("end", () => {
      if (size > 4096) {
        this.#refuse(peer, NOTIFY_HTTP_PORT, "bad-json", `a body of ${size} bytes, more than 4096`)
        return answer(413, { status: "error", reason: `a notice is at most 4096 bytes; this body has ${size}` })
      }
      const decoded = decodeNotice(Buffer.concat(chunks).toString("utf8"))
      if (decoded._tag === "Failure") {
        const reason = "the body is not a notice: JSON with serial, seq (from 1), camera and event (motion, online, offline or tamper)"
        this.#refuse(peer, NOTIFY_HTTP_PORT, "bad-json", reason)
        return answer(400, { status: "error", reason })
      }
      const notice = decoded.value
      this.#take(NOTIFY_HTTP_PORT, notice)
      answer(200, { status: "ok", seq: notice.seq })
    })
  }

  /** RTSP over UDP: one request a datagram, one response a datagram. */
  rtspDatagram(message: Buffer, peer: string, reply: (bytes: Buffer) => void): void {
    reply(this.#rtsp(message, peer, RTSP_PORTS.udp))
  }

  /** RTSP over TCP: requests one after another on the connection. */
  readonly rtspConnection = (socket: net.Socket): void => {
    const peer = peerOf(socket)
    const reader = new RtspMessageReader()
    socket.on("data", (chunk: Buffer) => {
      const { messages, error } = reader.push(chunk)
      for (const message of messages) socket.write(this.#rtsp(message, peer, RTSP_PORTS.tcp))
      if (error !== undefined) {
        this.#refuse(peer, RTSP_PORTS.tcp, "bad-rtsp", error)
        socket.end(encodeResponse(400, "Bad Request", null, []))
        socket.removeAllListeners("data")
      }
    })
  }

  #rtsp(message: Buffer, peer: string, port: PortKey): Buffer {
    const { bus, device } = this.#options
    const request = decodeRequest(message)
    if (typeof request === "string") {
      this.#refuse(peer, port, "bad-rtsp", request)
      return encodeResponse(400, "Bad Request", null, [])
    }
    const answer = this.#answerRtsp(request)
    bus.publish({ type: "rtsp-request", device, peer, port, method: request.method, uri: request.uri, status: answer.status, reason: answer.reason })
    return encodeResponse(answer.status, answer.phrase, request.cseq, answer.headers, answer.body)
  }

  #answerRtsp(request: RtspRequest): { status: number; phrase: string; reason: string; headers: ReadonlyArray<readonly [string, string]>; body?: string } {
    const server: readonly [string, string] = ["Server", "FortiAnalyzer FortiRecorder"]
    if (request.method === "OPTIONS") return { status: 200, phrase: "OK", reason: `OPTIONS answered: ${RTSP_METHODS}`, headers: [server, ["Public", RTSP_METHODS]] }
    if (request.method !== "DESCRIBE") {
      return { status: 405, phrase: "Method Not Allowed", reason: `${request.method} is not served: only ${RTSP_METHODS}`, headers: [server, ["Allow", RTSP_METHODS]] }
    }
    const path = /^rtsp:\/\/[^/]+(\/.*)?$/u.exec(request.uri)?.[1] ?? ""
    const stream = /^\/fortirecorder\/([^/]+)\/([^/]+)$/u.exec(path)
    const recorder = stream === null ? undefined : this.recorders.get(stream[1] ?? "")
    if (stream === null || recorder === undefined) {
      return { status: 404, phrase: "Not Found", reason: `no stream at ${path === "" ? "/" : path}: streams are /fortirecorder/<recorder serial>/<camera> of recorders that said HELLO`, headers: [server] }
    }
    const camera = stream[2] ?? ""
    const sdp = ["v=0", `o=- ${recorder.notices} 1 IN IP4 0.0.0.0`, `s=${recorder.name} ${camera}`, "c=IN IP4 0.0.0.0", "t=0 0", "m=video 0 RTP/AVP 96", "a=rtpmap:96 H264/90000", "a=control:trackID=1", ""].join("\r\n")
    return {
      status: 200,
      phrase: "OK",
      reason: `DESCRIBE of ${camera} on ${recorder.name} answered with its SDP`,
      headers: [server, ["Content-Base", `${request.uri}/`], ["Content-Type", "application/sdp"]],
      body: sdp
    }
  }

  /** The recorder of `serial`, known from now on; a HELLO gives its name and version. */
  #recorder(serial: string, hello: { readonly name: string; readonly version: string } | null): RecorderState {
    const state = this.recorders.get(serial) ?? { name: serial, version: "", lastSeq: new Map<PortKey, number>(), notices: 0 }
    if (hello !== null) {
      state.name = hello.name
      state.version = hello.version
    }
    this.recorders.set(serial, state)
    return state
  }

  /** Takes a notice once: a sequence number at or below the last taken on this port is a resend. */
  #take(port: PortKey, notice: Notice): void {
    const recorder = this.#recorder(notice.serial, null)
    const last = recorder.lastSeq.get(port) ?? 0
    const duplicate = notice.seq <= last
    if (!duplicate) {
      recorder.lastSeq.set(port, notice.seq)
      recorder.notices++
    }
    this.#options.bus.publish({ type: "recorder-notice", device: this.#options.device, serial: notice.serial, port, seq: notice.seq, camera: notice.camera, event: notice.event, duplicate })
  }

  #refuse(peer: string, port: PortKey, code: RecorderRefusal, reason: string): void {
    const count = (this.refused.get(code) ?? 0) + 1
    this.refused.set(code, count)
    if (isReported(count)) this.#options.bus.publish({ type: "recorder-refused", device: this.#options.device, peer, port, code, reason: `${reason} (${code}; ${count} so far)` })
  }
}
