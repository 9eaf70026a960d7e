/**
 * The analyzer's upload client: one file to an FTP, SFTP or SCP server, as its log uploads
 * (`config system log settings` → `rolling-regular`) and configuration backups (`config system
 * backup all-settings`, `execute backup all-settings`) send them.
 *
 * - FTP: `basic-ftp` (the FTP client of the Node ecosystem, passive mode, as FortiAnalyzer
 *   uploads), creating the directory when missing. It has no option for a source address, so its
 *   control and data sockets are bound to the analyzer's own address where they are made.
 * - SFTP: `ssh2`'s client and its SFTP session: the directory is made level by level when
 *   missing, then the file written and closed (the server's OK to the close is the acknowledgement).
 * - SCP: `ssh2`'s client running `scp -r -t /` on the server: the directory levels as `D` records,
 *   the file as a `C` record, each acknowledged by the server's zero byte.
 *
 * The SSH host key is not checked (FortiAnalyzer's uploads do not pin it either). A transfer
 * that does not finish within `timeoutMs` (a real-time limit: the network's), whose server closes
 * the connection first, or whose `signal` aborts (the analyzer stops) fails, and its connection
 * is closed. Every failure comes back as one sentence naming the server and the step that failed.
 */
import * as net from "node:net"
import * as path from "node:path"
import { Readable } from "node:stream"
import { Client as FtpClient } from "basic-ftp"
import ssh2 from "ssh2"

export type UploadProtocol = "ftp" | "sftp" | "scp"

export interface UploadRequest {
  readonly protocol: UploadProtocol
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string
  /** Where on the server; "" or "/" for its top folder. */
  readonly directory: string
  readonly name: string
  readonly content: Buffer
  /** The analyzer's own address to dial from (the default source when absent). */
  readonly localAddress?: string
  readonly timeoutMs: number
}

/** The server's folders of `directory`, outermost first ("/a/b" → ["a", "b"]). */
const levels = (directory: string): ReadonlyArray<string> => directory.split("/").filter((part) => part !== "" && part !== ".")

/** Where the file lands on the server. */
export const remotePath = (request: Pick<UploadRequest, "directory" | "name">): string => path.posix.join("/", ...levels(request.directory), request.name)

const message = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

/** What a transfer registers to be closed when it ends, however it ends. */
type OnEnd = (close: () => void) => void

/**
 * Makes every socket `client` opens (control and passive data) dial from `localAddress`.
 * basic-ftp 6.2.6 (pinned) makes them all in `FTPContext._newSocket` (typed, public, "replaced for
 * unit tests"), and connects them with `{ host, port, family }`; the address is added there.
 */
const dialFrom = (client: FtpClient, localAddress: string): void => {
  client.ftp._newSocket = () => {
    const socket = new net.Socket()
    const connect = socket.connect.bind(socket) as (options: net.TcpSocketConnectOpts, listener?: () => void) => net.Socket
    socket.connect = ((options: net.TcpSocketConnectOpts, listener?: () => void) => connect({ ...options, localAddress }, listener)) as typeof socket.connect
    return socket
  }
}

const viaFtp = async (request: UploadRequest, onEnd: OnEnd): Promise<void> => {
  const client = new FtpClient(request.timeoutMs)
  if (request.localAddress !== undefined) dialFrom(client, request.localAddress)
  onEnd(() => client.close())
  try {
    await client.access({ host: request.host, port: request.port, user: request.user, password: request.password, secure: false })
    await client.cd("/")
    if (levels(request.directory).length > 0) await client.ensureDir(levels(request.directory).join("/"))
    await client.uploadFrom(Readable.from([request.content]), request.name)
  } finally {
    client.close()
  }
}

/**
 * Connects and logs in over SSH; resolves with the client and `closed`, which rejects when the
 * connection closes (a transfer races its steps against it: ssh2 leaves their callbacks uncalled).
 */
const sshConnect = (request: UploadRequest, onEnd: OnEnd): Promise<{ readonly client: ssh2.Client; readonly closed: Promise<never> }> =>
  new Promise((resolve, reject) => {
    const client = new ssh2.Client()
    onEnd(() => client.end())
    const closed = new Promise<never>((_, fail) => {
      client.once("close", () => fail(new Error("the server closed the connection")))
      client.once("error", (cause) => fail(cause))
    })
    // Before `ready`, the same ends reject the connect itself.
    closed.catch((cause: unknown) => reject(cause))
    client.once("ready", () => resolve({ client, closed }))
    client.connect({
      host: request.host,
      port: request.port,
      username: request.user,
      password: request.password,
      readyTimeout: request.timeoutMs,
      tryKeyboard: false,
      hostVerifier: () => true,
      ...(request.localAddress === undefined ? {} : { localAddress: request.localAddress })
    })
  })

const viaSftp = async (request: UploadRequest, onEnd: OnEnd): Promise<void> => {
  const { client, closed } = await sshConnect(request, onEnd)
  await Promise.race([closed, sftpSteps(client, request)])
}

const sftpSteps = async (client: ssh2.Client, request: UploadRequest): Promise<void> => {
  const sftp = await new Promise<ssh2.SFTPWrapper>((resolve, reject) => client.sftp((error, session) => (error === undefined ? resolve(session) : reject(error))))
  let folder = "/"
  for (const level of levels(request.directory)) {
    folder = path.posix.join(folder, level)
    const here = folder
    const exists = await new Promise<boolean>((resolve) => sftp.stat(here, (error) => resolve(error === undefined || error === null)))
    if (!exists) await new Promise<void>((resolve, reject) => sftp.mkdir(here, (error) => (error === undefined || error === null ? resolve() : reject(error))))
  }
  await new Promise<void>((resolve, reject) => sftp.writeFile(remotePath(request), request.content, (error) => (error === undefined || error === null ? resolve() : reject(error))))
}

const viaScp = async (request: UploadRequest, onEnd: OnEnd): Promise<void> => {
  const { client, closed } = await sshConnect(request, onEnd)
  await Promise.race([closed, scpSteps(client, request)])
}

const scpSteps = async (client: ssh2.Client, request: UploadRequest): Promise<void> => {
  const channel = await new Promise<ssh2.ClientChannel>((resolve, reject) => client.exec("scp -r -t /", (error, stream) => (error === undefined ? resolve(stream) : reject(error))))
  let buffered = Buffer.alloc(0)
  let waiting: ((answer: Buffer | null) => void) | null = null
  let ended = false
  const settle = () => {
    if (waiting === null) return
    const end = buffered.length > 0 && buffered[0] !== 0 ? buffered.indexOf(0x0a) : 0
    if (buffered.length === 0 || end < 0) {
      if (ended) waiting(null)
      else return
    } else {
      const answer = buffered.subarray(0, end + 1)
      buffered = buffered.subarray(end + 1)
      waiting(answer)
    }
    waiting = null
  }
  channel.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk])
    settle()
  })
  channel.on("close", () => {
    ended = true
    settle()
  })
  /** The server's answer: a zero byte, or a line saying why not. */
  const acknowledged = async (what: string): Promise<void> => {
    const answer = await new Promise<Buffer | null>((resolve) => {
      waiting = resolve
      settle()
    })
    if (answer === null) throw new Error(`the server closed the scp session before it acknowledged ${what}`)
    if (answer[0] !== 0) throw new Error(answer.subarray(1).toString("utf8").trim() || `the server refused ${what}`)
  }
  await acknowledged("the start of the transfer")
  for (const level of levels(request.directory)) {
    channel.write(`D0755 0 ${level}\n`)
    await acknowledged(`the folder ${level}`)
  }
  channel.write(`C0644 ${request.content.length} ${request.name}\n`)
  await acknowledged(`the file ${request.name}`)
  channel.write(Buffer.concat([request.content, Buffer.from([0])]))
  await acknowledged(`the content of ${request.name}`)
  for (let depth = levels(request.directory).length; depth > 0; depth--) {
    channel.write("E\n")
    await acknowledged("the end of a folder")
  }
  channel.end()
}

const TRANSFERS: Readonly<Record<UploadProtocol, (request: UploadRequest, onEnd: OnEnd) => Promise<void>>> = { ftp: viaFtp, sftp: viaSftp, scp: viaScp }

/** Uploads one file; resolves with its path on the server, rejects with one sentence. */
export const uploadFile = async (request: UploadRequest, signal: AbortSignal): Promise<string> => {
  const closers: Array<() => void> = []
  let timer: NodeJS.Timeout | undefined
  let onAbort: () => void = () => undefined
  const limits = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${request.timeoutMs / 1000} s`)), request.timeoutMs)
    onAbort = () => reject(new Error("the analyzer stopped"))
    if (signal.aborted) onAbort()
    signal.addEventListener("abort", onAbort, { once: true })
  })
  try {
    await Promise.race([TRANSFERS[request.protocol](request, (close) => closers.push(close)), limits])
    return remotePath(request)
  } catch (cause) {
    throw new Error(`${request.protocol.toUpperCase()} upload of ${request.name} to ${request.user}@${request.host}:${request.port} failed: ${message(cause)}`)
  } finally {
    clearTimeout(timer)
    signal.removeEventListener("abort", onAbort)
    for (const close of closers) close()
  }
}
