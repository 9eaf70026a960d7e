/**
 * RTSP 1.0 (RFC 2326) requests and responses, as far as an OPTIONS / DESCRIBE exchange needs them:
 * a request line, headers, and a body of `Content-Length` bytes. Over UDP each datagram is one
 * whole message (RFC 2326 §10: "rtspu"); over TCP `RtspMessageReader` cuts the stream into
 * messages. Pure codec: `devices/fortianalyzer/recorder-rtsp.ts` answers, `devices/fortirecorder/`
 * asks.
 */

/** A message larger than this is no OPTIONS or DESCRIBE. */
export const RTSP_MAX_MESSAGE_BYTES = 8192

export interface RtspRequest {
  readonly method: string
  readonly uri: string
  readonly headers: ReadonlyMap<string, string>
  readonly cseq: number | null
}

export interface RtspResponse {
  readonly status: number
  readonly reason: string
  readonly headers: ReadonlyMap<string, string>
  readonly body: string
}

/** Why bytes are not an RTSP message, in a phrase ("no RTSP/1.0 request line"). */
export type RtspError = string

const HEADER_END = "\r\n\r\n"

const parseHead = (head: string): { readonly first: string; readonly headers: Map<string, string> } | RtspError => {
  const lines = head.split("\r\n")
  const first = lines[0] ?? ""
  const headers = new Map<string, string>()
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":")
    if (colon <= 0) return `header line "${line.slice(0, 40)}" has no name: value`
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
  }
  return { first, headers }
}

const cseqOf = (headers: ReadonlyMap<string, string>): number | null => {
  const value = headers.get("cseq")
  return value !== undefined && /^\d{1,9}$/u.test(value) ? Number(value) : null
}

/** One whole request (a datagram, or a message `RtspMessageReader` cut out). */
export const decodeRequest = (bytes: Buffer): RtspRequest | RtspError => {
  if (bytes.length > RTSP_MAX_MESSAGE_BYTES) return `a message of ${bytes.length} bytes, more than ${RTSP_MAX_MESSAGE_BYTES}`
  const text = bytes.toString("latin1")
  const end = text.indexOf(HEADER_END)
  if (end === -1) return "no blank line ends its headers"
  const head = parseHead(text.slice(0, end))
  if (typeof head === "string") return head
  const match = /^([A-Z_]{1,32}) (\S{1,1024}) RTSP\/1\.0$/u.exec(head.first)
  if (match === null) return `"${head.first.slice(0, 60)}" is no RTSP/1.0 request line`
  return { method: match[1] ?? "", uri: match[2] ?? "", headers: head.headers, cseq: cseqOf(head.headers) }
}

/** One whole response. */
export const decodeResponse = (bytes: Buffer): RtspResponse | RtspError => {
  const text = bytes.toString("utf8")
  const end = text.indexOf(HEADER_END)
  if (end === -1) return "no blank line ends its headers"
  const head = parseHead(text.slice(0, end))
  if (typeof head === "string") return head
  const match = /^RTSP\/1\.0 (\d{3}) (.*)$/u.exec(head.first)
  if (match === null) return `"${head.first.slice(0, 60)}" is no RTSP/1.0 status line`
  return { status: Number(match[1]), reason: match[2] ?? "", headers: head.headers, body: text.slice(end + HEADER_END.length) }
}

/** A request's bytes; `Content-Length` is added when there is a body. */
export const encodeRequest = (method: string, uri: string, cseq: number, headers: ReadonlyArray<readonly [string, string]> = []): Buffer =>
  Buffer.from([`${method} ${uri} RTSP/1.0`, `CSeq: ${cseq}`, ...headers.map(([name, value]) => `${name}: ${value}`), "", ""].join("\r\n"), "latin1")

/** A response's bytes, echoing the request's CSeq; `Content-Length` is added when there is a body. */
export const encodeResponse = (status: number, reason: string, cseq: number | null, headers: ReadonlyArray<readonly [string, string]>, body = ""): Buffer =>
  Buffer.from(
    [
      `RTSP/1.0 ${status} ${reason}`,
      ...(cseq === null ? [] : [`CSeq: ${cseq}`]),
      ...headers.map(([name, value]) => `${name}: ${value}`),
      ...(body === "" ? [] : [`Content-Length: ${Buffer.byteLength(body)}`]),
      "",
      body
    ].join("\r\n"),
    "utf8"
  )

/** Cuts a TCP stream into whole messages (headers, then `Content-Length` bytes of body). */
export class RtspMessageReader {
  #pending: Buffer = Buffer.alloc(0)

  /** The whole messages so far, or an error once the stream cannot be RTSP. */
  push(chunk: Buffer): { readonly messages: ReadonlyArray<Buffer>; readonly error?: RtspError } {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk])
    const messages: Array<Buffer> = []
    for (;;) {
      const end = this.#pending.indexOf(HEADER_END, 0, "latin1")
      if (end === -1) {
        return this.#pending.length > RTSP_MAX_MESSAGE_BYTES
          ? { messages, error: `${this.#pending.length} bytes without the blank line that ends RTSP headers` }
          : { messages }
      }
      const length = /\r\ncontent-length:\s*(\d{1,6})\r\n/iu.exec(this.#pending.subarray(0, end + 2).toString("latin1"))?.[1]
      const total = end + HEADER_END.length + Number(length ?? 0)
      if (total > RTSP_MAX_MESSAGE_BYTES) return { messages, error: `a message of ${total} bytes, more than ${RTSP_MAX_MESSAGE_BYTES}` }
      if (this.#pending.length < total) return { messages }
      messages.push(Buffer.from(this.#pending.subarray(0, total)))
      this.#pending = this.#pending.subarray(total)
    }
  }
}
