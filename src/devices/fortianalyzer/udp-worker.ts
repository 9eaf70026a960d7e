/**
 * Worker-thread entry of the analyzers' UDP/514 syslog receiver (see `udp-intake.ts` for the why).
 *
 * Binds and closes sockets when the main thread asks ("bind" / "close", each with the socket's
 * id) and does nothing else with a datagram than keep it: a socket's datagrams go to the main
 * thread as one batch, copied into one transferred buffer, once no more are ready
 * (`setImmediate`, after libuv's up to 32 reads of one poll) or at `MAX_BATCH` datagrams. So this
 * thread reads the socket as fast as a bare receiver does; parsing is the main thread's. On
 * "close" it closes the socket, posts what it still holds of it, then "closed": the main thread
 * has then seen every datagram it received.
 *
 * What this thread posted and the main thread has not taken yet is bounded (`MAX_BACKLOG_BYTES`,
 * counted in the shared `backlog` both threads update): when the analyzer's store falls that far
 * behind, a datagram is dropped here, counted and reported with the next batch (`shed`), so the
 * process's memory stays bounded and the loss is said, where the kernel would drop silently.
 * What the kernel itself drops (the receive buffer full before this thread read it) is read from
 * /proc/net/udp once a second while sockets are open and reported the same way (`kernelDropped`).
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram"
import { parentPort, workerData } from "node:worker_threads"
import { procAddress, readUdpDrops, type UdpDropTable } from "../../net/udp-kernel-drops.ts"
import { MAX_BACKLOG_BYTES, type UdpBindRequest, type UdpReceiverData, type UdpReceiverReport, type UdpReceiverRequest } from "./udp-intake.ts"

/** Most datagrams in one batch. */
const MAX_BATCH = 1000
/** How often the kernel's drop counters are read. */
const KERNEL_DROPS_EVERY_MS = 1000

const port = parentPort
if (port === null) throw new Error("udp-worker.ts runs only as a worker thread")
/** Bytes posted to the main thread and not yet taken by it (slot 0). */
const backlog = new Int32Array((workerData as UdpReceiverData).backlog)

const post = (report: UdpReceiverReport, transfer: ReadonlyArray<ArrayBuffer> = []): void => port.postMessage(report, transfer)

/** One bound socket and the datagrams it received since its last batch. */
class Receiver {
  readonly #id: number
  readonly socket: Socket
  #datagrams: Buffer[] = []
  #bytes = 0
  /** Senders in the batch: `peers[k]` sent the datagrams from index `peerStarts[k]` on. */
  #peers: string[] = []
  #peerStarts: number[] = []
  #scheduled = false
  /** Datagrams dropped since the last batch because the main thread was too far behind. */
  #shed = 0
  /** Datagrams the kernel dropped since the last batch, and its counter when last read (null: not read yet). */
  #kernelDropped = 0
  #kernelDropsSeen: number | null = null
  /** This socket's key in /proc/net/udp, once bound. */
  procKey: string | null = null
  #lastPeer: { readonly address: string; readonly port: number; readonly text: string } | null = null

  constructor(request: UdpBindRequest) {
    this.#id = request.id
    this.socket = createSocket({ type: request.family, recvBufferSize: request.receiveBufferBytes }, this.#onMessage)
  }

  readonly #onMessage = (message: Buffer, peer: RemoteInfo): void => {
    if (Atomics.load(backlog, 0) + this.#bytes + message.length > MAX_BACKLOG_BYTES) {
      this.#shed++
      this.#schedule()
      return
    }
    const last = this.#lastPeer
    if (last === null || last.address !== peer.address || last.port !== peer.port) {
      this.#lastPeer = { address: peer.address, port: peer.port, text: `${peer.address}:${peer.port}` }
      this.#peers.push(this.#lastPeer.text)
      this.#peerStarts.push(this.#datagrams.length)
    } else if (this.#datagrams.length === 0) {
      this.#peers.push(last.text)
      this.#peerStarts.push(0)
    }
    this.#datagrams.push(message)
    this.#bytes += message.length
    if (this.#datagrams.length >= MAX_BATCH) this.flush()
    else this.#schedule()
  }

  /** Takes the kernel's drop counter for this socket; drops since the last reading go with the next batch. */
  kernelDrops(table: UdpDropTable): void {
    const drops = this.procKey === null ? undefined : table.get(this.procKey)
    if (drops === undefined) return
    if (this.#kernelDropsSeen !== null && drops > this.#kernelDropsSeen) {
      this.#kernelDropped += drops - this.#kernelDropsSeen
      this.#schedule()
    }
    this.#kernelDropsSeen = drops
  }

  #schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(this.flush)
  }

  readonly flush = (): void => {
    this.#scheduled = false
    const datagrams = this.#datagrams
    if (datagrams.length === 0 && this.#shed === 0 && this.#kernelDropped === 0) return
    const bytes = Buffer.allocUnsafeSlow(this.#bytes)
    const ends = new Uint32Array(datagrams.length)
    let at = 0
    for (let i = 0; i < datagrams.length; i++) {
      at += (datagrams[i] as Buffer).copy(bytes, at)
      ends[i] = at
    }
    Atomics.add(backlog, 0, this.#bytes)
    post({ kind: "batch", id: this.#id, bytes: bytes.buffer, ends, peers: this.#peers, peerStarts: this.#peerStarts, shed: this.#shed, kernelDropped: this.#kernelDropped }, [bytes.buffer, ends.buffer])
    this.#shed = 0
    this.#kernelDropped = 0
    this.#datagrams = []
    this.#bytes = 0
    this.#peers = []
    this.#peerStarts = []
  }
}

const receivers = new Map<number, Receiver>()

/** Reads the kernel's drop counters once a second while a socket is open (it does not keep the thread alive). */
const kernelDropsTimer = setInterval(() => {
  if (receivers.size === 0) return
  const table = readUdpDrops()
  for (const receiver of receivers.values()) receiver.kernelDrops(table)
}, KERNEL_DROPS_EVERY_MS)
kernelDropsTimer.unref()

const bind = (request: UdpBindRequest): void => {
  const receiver = new Receiver(request)
  const { socket } = receiver
  socket.once("error", (cause: NodeJS.ErrnoException) => {
    post({ kind: "bind-failed", id: request.id, code: cause.code ?? "UNKNOWN", reason: cause.message })
    socket.close()
  })
  socket.bind({ port: request.port, address: request.host, exclusive: true }, () => {
    socket.removeAllListeners("error")
    socket.on("error", () => undefined)
    receivers.set(request.id, receiver)
    const address = socket.address()
    receiver.procKey = procAddress(address.address, address.port)
    receiver.kernelDrops(readUdpDrops())
    post({ kind: "bound", id: request.id, address: address.address, port: address.port, receiveBufferBytes: socket.getRecvBufferSize() })
  })
}

const close = (id: number): void => {
  const receiver = receivers.get(id)
  if (receiver === undefined) {
    post({ kind: "closed", id })
    return
  }
  receivers.delete(id)
  receiver.socket.close(() => {
    receiver.flush()
    post({ kind: "closed", id })
  })
}

port.on("message", (request: UdpReceiverRequest) => {
  if (request.kind === "bind") bind(request)
  else close(request.id)
})
post({ kind: "ready" })
