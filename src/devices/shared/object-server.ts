/**
 * An emulated Fortinet update server: HTTPS on the ports its kind documents, with a certificate
 * of the lab CA whose SANs are the vendor names it stands for (so a client that checks the name
 * it dialed, as `curl` and the analyzer do, accepts it only under those names), serving small
 * emulated objects, each with a version, in fazlab's update protocol
 * (`src/protocols/fortiguard/objects.ts`, docs/protocols/fortiguard.md). The `fortiguard` kind
 * (the FortiGuard Distribution Network) and the `fortinet-registry` kind (management extension
 * applications) are this server with their own objects, names and ports.
 *
 * With a `release-interval`, each object's version moves up by one every interval of lab time
 * after the server first started (a new AV/IPS package every hour ...), so a scheduled client
 * finds something newer to download. An object listed as unavailable answers 503 (a FortiGuard
 * outage). Every request is an `object-request` event with its status and a sentence; requests
 * that are not the protocol's are refused with a 4xx sentence and counted in `refused`.
 *
 * It is a `PeerServer`: the run, binding on its own lab address and announcing what it bound
 * come from the shared base; a stop or a crash cuts the open HTTPS connections before the
 * listeners close.
 */
import * as https from "node:https"
import type * as http from "node:http"
import * as Effect from "effect/Effect"
import type { PortKey } from "../../events/events.ts"
import { type ConnectionLimitSettings, peerOf } from "../../net/tcp.ts"
import { serverTlsOptions } from "../../net/tls.ts"
import { describeObject, laterVersion, type Manifest, parsePath } from "../../protocols/fortiguard/objects.ts"
import type { DeviceContext } from "../device.ts"
import { ConnectionRules } from "./connection-rules.ts"
import { type BoundEndpoint, PeerServer } from "./peer-server.ts"

/** One object the server offers: its version when the server first starts, and its size in bytes. */
export interface OfferedObject {
  readonly version: string
  readonly size: number
}

export interface ObjectServerOptions {
  readonly kind: string
  readonly serial: string
  /** The ports it serves HTTPS on. */
  readonly ports: ReadonlyArray<PortKey>
  /** The vendor names its certificate covers (DNS SANs). */
  readonly names: ReadonlyArray<string>
  /** The path prefix: "/fds/v1" or "/mea/v1". */
  readonly prefix: string
  readonly objects: ReadonlyMap<string, OfferedObject>
  /** Milliseconds of lab time between two versions of every object; null: versions stay. */
  readonly releaseInterval: number | null
  /** Objects that answer 503. */
  readonly unavailable: ReadonlySet<string>
  /** The connection rules of each port, set at `devices.<id>`. */
  readonly connectionLimits: ConnectionLimitSettings
}

/** What a refused request is counted as. */
export type RefusedRequest = "not-found" | "method" | "stale-version" | "unavailable"

export class ObjectServer extends PeerServer<ObjectServerOptions> {
  readonly kind: string
  /** Its listeners' connection rules; `connections.closed` counts by rule. */
  readonly connections: ConnectionRules
  /** Requests answered with an object or a manifest. */
  served = 0
  /** Requests refused, by why. */
  readonly refused: Record<RefusedRequest, number> = { "not-found": 0, method: 0, "stale-version": 0, unavailable: 0 }
  #server: https.Server | null = null
  /** The documented port of each bound local port (requests say which they came in on). */
  readonly #portOf = new Map<number, PortKey>()
  /** Lab time of the first start: versions are released from there. */
  #firstStart: number | null = null

  constructor(id: string, options: ObjectServerOptions, context: DeviceContext) {
    super(id, options, context)
    this.kind = options.kind
    this.connections = new ConnectionRules(id, context)
  }

  /** An object's version now (lab time), or null when the server does not offer it. */
  versionOf(object: string): string | null {
    const offered = this.settings.objects.get(object)
    if (offered === undefined) return null
    const { releaseInterval } = this.settings
    if (releaseInterval === null || this.#firstStart === null) return offered.version
    return laterVersion(offered.version, Math.floor((this.context.clock.now() - this.#firstStart) / releaseInterval))
  }

  /** An object's manifest and bytes now, or null when the server does not offer it. */
  current(object: string): { readonly manifest: Manifest; readonly bytes: Buffer } | null {
    const version = this.versionOf(object)
    const offered = this.settings.objects.get(object)
    return version === null || offered === undefined ? null : describeObject(object, version, offered.size)
  }

  protected override prepare(): Effect.Effect<void> {
    const { pki, plan, clock } = this.context
    this.#firstStart ??= clock.now()
    if (pki === null) return Effect.void
    const request = { serial: this.serial, role: "server" as const, hostnames: [...this.settings.names, "localhost"], ips: [plan.addressOf(this.id), "127.0.0.1"] }
    return Effect.promise(() => pki.issue(request)).pipe(Effect.map((identity) => {
      const tls = serverTlsOptions({ identity, caPem: pki.caPem, encAlgorithm: "high", sslMinProtoVersion: "default", requestClientCert: false })
      const server = https.createServer(tls, (request, response) => this.#handle(request, response))
      // A client that gives up the handshake (a wrong name, an unknown CA) is its own business.
      server.on("tlsClientError", () => undefined)
      this.#server = server
    }))
  }

  protected bind() {
    const self = this
    return Effect.gen(function*() {
      const server = self.#server
      if (server === null) return
      const bound: Array<BoundEndpoint> = []
      for (const port of self.settings.ports) {
        const listener = yield* self.tcp(port, {
          ...self.connections.listener(self.settings.connectionLimits, `devices.${self.id}`, port),
          onConnection: (socket) => server.emit("connection", socket)
        })
        bound.push({ port, address: listener.address, actualPort: listener.actualPort })
        self.#portOf.set(listener.actualPort, port)
      }
      yield* self.announce(bound)
    })
  }

  #handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const host = (request.headers.host ?? "").replace(/:\d+$/u, "").toLowerCase()
    const path = (request.url ?? "/").split("?")[0] ?? "/"
    const peer = peerOf(request.socket)
    const port = this.#portOf.get(request.socket.localPort ?? 0) ?? "tcp/443"
    const answer = (status: number, object: string | null, version: string | null, body: Buffer, type: string, reason: string) => {
      response.writeHead(status, { "content-type": type, "content-length": body.length, ...(version === null ? {} : { "x-fazlab-version": version }) })
      response.end(request.method === "HEAD" ? undefined : body)
      this.context.bus.publish({ type: "object-request", device: this.id, peer, port, host, path, status, object, version, bytes: status === 200 ? body.length : 0, reason })
    }
    const refuse = (status: number, why: RefusedRequest, object: string | null, sentence: string) => {
      this.refused[why]++
      answer(status, object, null, Buffer.from(`${JSON.stringify({ error: sentence })}\n`), "application/json", sentence)
    }
    // The body of a GET is not read: drain it so the connection can carry the next request.
    request.resume()
    if (request.method !== "GET" && request.method !== "HEAD") {
      return refuse(405, "method", null, `${request.method ?? "?"} is not served here; use GET (docs/protocols/fortiguard.md)`)
    }
    const asked = parsePath(this.settings.prefix, path)
    if (asked === null) {
      return refuse(404, "not-found", null, `${path} is not a path of this server; ask ${this.settings.prefix}/manifest/<object> or ${this.settings.prefix}/package/<object>/<version>`)
    }
    const current = this.current(asked.object)
    if (current === null) {
      return refuse(404, "not-found", asked.object, `${asked.object} is not an object of ${this.id}; it offers ${[...this.settings.objects.keys()].join(", ")}`)
    }
    if (this.settings.unavailable.has(asked.object)) {
      return refuse(503, "unavailable", asked.object, `${asked.object} is unavailable on ${this.id} (unavailable in its settings); try again later`)
    }
    const { manifest, bytes } = current
    if (asked.ask === "manifest") {
      this.served++
      return answer(200, asked.object, manifest.version, Buffer.from(`${JSON.stringify(manifest)}\n`), "application/json", `${this.id} described ${asked.object} v${manifest.version} to ${peer} (asked as ${host || "no host"})`)
    }
    if (asked.version !== manifest.version) {
      return refuse(404, "stale-version", asked.object, `${asked.object} v${asked.version} is not the current version (v${manifest.version}); ask the manifest again`)
    }
    this.served++
    answer(200, asked.object, manifest.version, bytes, "application/octet-stream", `${this.id} sent ${asked.object} v${manifest.version} (${bytes.length} bytes) to ${peer} (asked as ${host || "no host"})`)
  }

  /** A stop and a crash alike cut the open HTTPS connections: a download cut short is the client's to ask again. */
  protected override closing(): Effect.Effect<void> {
    return Effect.sync(() => this.#server?.closeAllConnections())
  }

  protected override closed(): void {
    this.#server = null
  }
}
