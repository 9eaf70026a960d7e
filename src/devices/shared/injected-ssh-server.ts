/**
 * An SSH server (`ssh2`) fed the connections a device's own TCP listener accepted
 * (`injectSocket`), so the connection rules of `net/tcp.ts` apply to SSH as to every port: the
 * analyzer's CLI on TCP/22 and the file server's SFTP and SCP on TCP/22 extend it and say only
 * what a session does (`session`). It keeps the open sessions, so `close()` ends them all before
 * the listener's sockets close with its scope; a client that breaks the protocol or resets is its
 * own problem, never the process's.
 */
import type * as net from "node:net"
import ssh2 from "ssh2"

export abstract class InjectedSshServer {
  readonly #server: ssh2.Server
  readonly #clients = new Set<ssh2.Connection>()

  /** `hostKeyPem`: the host key, PEM; `ident`: what the server says it is ("SSH-2.0-FortiAnalyzer"). */
  constructor(hostKeyPem: string, ident: string) {
    this.#server = new ssh2.Server({ hostKeys: [hostKeyPem], ident }, (client, info) => {
      this.#clients.add(client)
      client.on("error", () => undefined)
      client.on("close", () => this.#clients.delete(client))
      this.session(client, `${info.ip}:${info.port}`)
    })
    this.#server.on("error", () => undefined)
  }

  /** Serves a connection accepted on the device's TCP/22 listener. */
  connection(socket: net.Socket): void {
    this.#server.injectSocket(socket)
  }

  /** Ends every session (a crash cuts them the same way: their sockets close with the listener). */
  close(): void {
    for (const client of this.#clients) client.end()
    this.#clients.clear()
  }

  /** One client, from its handshake on: authentication, channels, and what its end means. */
  protected abstract session(client: ssh2.Connection, peer: string): void
}
