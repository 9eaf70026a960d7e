/**
 * A FortiRecorder's exchanges with its analyzer, one function each; each resolves with a phrase
 * saying what it did or rejects with one sentence saying why not (the device turns both into a
 * `recorder-flow` event):
 *
 * - `sendNoticesTcp`: TCP/3010, HELLO, the notices one NOTIFY line each, BYE; resolves with the
 *   sequence numbers the analyzer acknowledged (the caller forgets only those);
 * - `postNotice`: TCP/3011, one notice as `POST /notify`;
 * - `describeStream`: RTSP OPTIONS then DESCRIBE, one datagram each on UDP/554 or one connection on TCP/554;
 * - `callApi`: TCP/80 (it must redirect to HTTPS) and the JSON-RPC API on TLS/443 (`get sys/status`).
 *
 * The timeouts are real time: they bound a network exchange, not lab behaviour.
 */
import * as dgram from "node:dgram"
import * as http from "node:http"
import type * as net from "node:net"
import { dialTcp } from "../../net/tcp.ts"
import { LineReader } from "../../protocols/shared/line-reader.ts"
import { decodeNotifyLine, encodeNotifyLine, type Notice, NOTIFY_MAX_LINE_BYTES } from "../../protocols/fortirecorder/notify.ts"
import { decodeResponse, encodeRequest, type RtspResponse, RtspMessageReader } from "../../protocols/rtsp/messages.ts"
import { rpcCall } from "../fortianalyzer/management-client.ts"

export interface Endpoint {
  readonly host: string
  readonly port: number
}

/** Rejects with "no answer to `what`" unless `promise` settles within `ms`; the caller closes its socket either way. */
const within = <A>(ms: number, what: string, promise: Promise<A>): Promise<A> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${what} within ${ms} ms`)), ms)
    promise.then((value) => {
      clearTimeout(timer)
      resolve(value)
    }, (error: unknown) => {
      clearTimeout(timer)
      reject(error instanceof Error ? error : new Error(String(error)))
    })
  })

/** HELLO, the notices, BYE on TCP/3010; resolves with the sequence numbers acknowledged. */
export const sendNoticesTcp = async (
  at: Endpoint,
  from: string | undefined,
  hello: { readonly serial: string; readonly name: string; readonly version: string },
  notices: ReadonlyArray<Notice>,
  timeoutMs: number
): Promise<ReadonlyArray<number>> => {
  const socket: net.Socket = await dialTcp({ host: at.host, port: at.port, timeoutMs, ...(from === undefined ? {} : { localAddress: from }) })
  const acked: Array<number> = []
  const exchange = new Promise<ReadonlyArray<number>>((resolve, reject) => {
    const reader = new LineReader(NOTIFY_MAX_LINE_BYTES)
    socket.on("error", (cause) => reject(new Error(`TCP/3010 at ${at.host}:${at.port} failed: ${cause.message}`)))
    socket.on("close", () => reject(new Error(`the analyzer closed TCP/3010 after ${acked.length} of ${notices.length} ACKs`)))
    socket.on("data", (chunk: Buffer) => {
      for (const line of reader.push(chunk).lines) {
        const answer = decodeNotifyLine(line)
        if ("refused" in answer) return reject(new Error(`the analyzer sent "${line.slice(0, 60)}" on TCP/3010: ${answer.reason}`))
        if (answer.verb === "ERR") return reject(new Error(`the analyzer refused on TCP/3010 (${answer.code}): ${answer.reason}`))
        if (answer.verb === "OK") {
          socket.write(notices.map((n) => encodeNotifyLine({ verb: "NOTIFY", seq: n.seq, camera: n.camera, event: n.event })).join("") + (notices.length === 0 ? encodeNotifyLine({ verb: "BYE" }) : ""))
        } else if (answer.verb === "ACK") {
          acked.push(answer.seq)
          if (acked.length === notices.length) socket.write(encodeNotifyLine({ verb: "BYE" }))
        } else if (answer.verb === "BYE") {
          socket.end()
          return resolve(acked)
        }
      }
    })
    socket.write(encodeNotifyLine({ verb: "HELLO", ...hello }))
  })
  try {
    return await within(timeoutMs, `HELLO/NOTIFY on TCP/3010 at ${at.host}:${at.port}`, exchange)
  } finally {
    socket.destroy()
  }
}

/** One notice as `POST /notify` on TCP/3011; resolves when the analyzer answers 200. */
export const postNotice = (at: Endpoint, from: string | undefined, notice: Notice, timeoutMs: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const body = JSON.stringify(notice)
    const request = http.request({
      host: at.host,
      port: at.port,
      path: "/notify",
      method: "POST",
      timeout: timeoutMs,
      ...(from === undefined ? {} : { localAddress: from }),
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }
    }, (response) => {
      let text = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => (text += chunk))
      response.on("end", () =>
        response.statusCode === 200 ? resolve() : reject(new Error(`POST /notify on TCP/3011 answered HTTP ${response.statusCode ?? "?"}: ${text.slice(0, 200)}`)))
    })
    request.on("timeout", () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    request.on("error", (cause) => reject(new Error(`HTTP to ${at.host}:${at.port} (TCP/3011) failed: ${cause.message}`)))
    request.end(body)
  })

/** OPTIONS then DESCRIBE of `uri`, over UDP (a datagram each) or TCP (one connection); resolves with the DESCRIBE response. */
export const describeStream = async (at: Endpoint, from: string | undefined, transport: "udp" | "tcp", uri: string, timeoutMs: number): Promise<RtspResponse> => {
  const requests = [encodeRequest("OPTIONS", uri, 1), encodeRequest("DESCRIBE", uri, 2, [["Accept", "application/sdp"]])]
  const where = `RTSP on ${transport.toUpperCase()}/554 at ${at.host}:${at.port}`
  const answers = transport === "udp" ? await rtspOverUdp(at, from, requests, where, timeoutMs) : await rtspOverTcp(at, from, requests, where, timeoutMs)
  const options = answers[0]
  const describe = answers[1]
  if (options === undefined || describe === undefined) throw new Error(`${where} answered ${answers.length} of 2 requests`)
  if (options.status !== 200) throw new Error(`${where} answered OPTIONS with ${options.status} ${options.reason}`)
  if (describe.status !== 200) throw new Error(`${where} answered DESCRIBE ${uri} with ${describe.status} ${describe.reason}`)
  return describe
}

const decodeOrThrow = (bytes: Buffer, where: string): RtspResponse => {
  const response = decodeResponse(bytes)
  if (typeof response === "string") throw new Error(`${where} sent no RTSP response: ${response}`)
  return response
}

const rtspOverUdp = async (at: Endpoint, from: string | undefined, requests: ReadonlyArray<Buffer>, where: string, timeoutMs: number): Promise<ReadonlyArray<RtspResponse>> => {
  const socket = dgram.createSocket("udp4")
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject)
      socket.bind({ port: 0, ...(from === undefined ? {} : { address: from }) }, () => resolve())
    })
    const answers: Array<RtspResponse> = []
    for (const request of requests) {
      const answer = new Promise<Buffer>((resolve) => socket.once("message", resolve))
      socket.send(request, at.port, at.host)
      answers.push(decodeOrThrow(await within(timeoutMs, where, answer), where))
    }
    return answers
  } finally {
    socket.close()
  }
}

const rtspOverTcp = async (at: Endpoint, from: string | undefined, requests: ReadonlyArray<Buffer>, where: string, timeoutMs: number): Promise<ReadonlyArray<RtspResponse>> => {
  const socket = await dialTcp({ host: at.host, port: at.port, timeoutMs, ...(from === undefined ? {} : { localAddress: from }) })
  try {
    const reader = new RtspMessageReader()
    const exchange = new Promise<ReadonlyArray<Buffer>>((resolve, reject) => {
      const received: Array<Buffer> = []
      socket.on("error", (cause) => reject(new Error(`${where} failed: ${cause.message}`)))
      socket.on("close", () => reject(new Error(`${where} closed after ${received.length} of ${requests.length} answers`)))
      socket.on("data", (chunk: Buffer) => {
        const { messages, error } = reader.push(chunk)
        if (error !== undefined) return reject(new Error(`${where} sent no RTSP response: ${error}`))
        received.push(...messages)
        if (received.length >= requests.length) resolve(received)
      })
    })
    socket.write(Buffer.concat(requests))
    return (await within(timeoutMs, where, exchange)).map((bytes) => decodeOrThrow(bytes, where))
  } finally {
    socket.destroy()
  }
}

/** TCP/80 must redirect to HTTPS; then `get sys/status` on the JSON-RPC API; resolves with the analyzer's version. */
export const callApi = async (
  web: Endpoint,
  api: Endpoint & { readonly user: string; readonly password: string; readonly caPem: string },
  timeoutMs: number
): Promise<string> => {
  const redirect = await new Promise<{ readonly status: number; readonly location: string }>((resolve, reject) => {
    const request = http.get({ host: web.host, port: web.port, path: "/", timeout: timeoutMs }, (response) => {
      response.resume()
      resolve({ status: response.statusCode ?? 0, location: response.headers.location ?? "" })
    })
    request.on("timeout", () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    request.on("error", (cause) => reject(new Error(`HTTP to ${web.host}:${web.port} failed: ${cause.message}`)))
  })
  if (redirect.status < 300 || redirect.status > 399 || !redirect.location.startsWith("https://")) {
    throw new Error(`TCP/80 answered HTTP ${redirect.status}${redirect.location === "" ? "" : ` to ${redirect.location}`}, not a redirect to HTTPS`)
  }
  const status = await rpcCall({ host: api.host, port: api.port, user: api.user, password: api.password, apiKey: null }, api.caPem, { method: "get", url: "/sys/status", data: undefined }, timeoutMs)
  if (status.code !== 0) throw new Error(`JSON-RPC get /sys/status answered ${status.code} (${status.message})`)
  const version = (status.data as { readonly Version?: unknown } | null)?.Version
  return typeof version === "string" ? version : "?"
}
