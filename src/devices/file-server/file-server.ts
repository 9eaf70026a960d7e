/**
 * An emulated upload server (the vendor table's "Non-Fortinet · Log & report · TCP/20, 21, 22"
 * and "Configuration backups · TCP/22" peer): FTP on TCP/21 (`devices/shared/ftp-server.ts`,
 * passive and active mode) and SFTP and SCP on TCP/22 (`ssh-files.ts`), for the users of its
 * settings. What they upload is kept in its folder, `<data folder>/<id>/files/` (a temporary
 * folder, removed with the lab, for a lab without one), and listed by `files()`: a scenario's
 * `file uploaded` expectation, `curl ftp://` and `sftp` see the same files.
 *
 * Each file stored is a `file-received` event; a refused login, command or transfer a
 * `file-refused` event with its reason, counted in `refused`.
 */
import * as fsSync from "node:fs"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import ssh2 from "ssh2"
import type { PortKey } from "../../events/events.ts"
import type { ConnectionLimitSettings } from "../../net/tcp.ts"
import { sameSecret } from "../fortianalyzer/admin.ts"
import type { DeviceContext } from "../device.ts"
import { ConnectionRules } from "../shared/connection-rules.ts"
import { FtpService } from "../shared/ftp-server.ts"
import { type BoundEndpoint, PeerServer } from "../shared/peer-server.ts"
import type { FileServerUser } from "./settings.ts"
import { SshFiles } from "./ssh-files.ts"

export const FILE_SERVER_PORTS: ReadonlyArray<PortKey> = ["tcp/21", "tcp/22"]

export interface FileServerSettings extends ConnectionLimitSettings {
  readonly serial: string
  readonly hostname: string
  readonly user: Readonly<Record<string, FileServerUser>>
}

/** One file the server keeps. */
export interface KeptFile {
  /** Its path under the server's folder, with a leading slash. */
  readonly path: string
  readonly bytes: number
}

/** Every file under `folder`, by path with a leading slash, sorted. */
const walk = (folder: string, prefix = ""): ReadonlyArray<KeptFile> => {
  let entries: ReadonlyArray<fsSync.Dirent>
  try {
    entries = fsSync.readdirSync(folder, { withFileTypes: true })
  } catch {
    return []
  }
  return entries
    .flatMap((entry) => {
      const where = `${prefix}/${entry.name}`
      const full = path.join(folder, entry.name)
      return entry.isDirectory() ? walk(full, where) : [{ path: where, bytes: fsSync.statSync(full).size }]
    })
    .sort((a, b) => a.path.localeCompare(b.path))
}

export class FileServer extends PeerServer<FileServerSettings> {
  readonly kind = "file-server" as const
  /** TCP/21's and TCP/22's connection rules; `connections.closed` counts by rule. */
  readonly connections: ConnectionRules
  #root: string | null = null
  #temporary = false
  #ftp: FtpService | null = null
  #ssh: SshFiles | null = null
  /** Logins, commands and transfers refused since the device was built. */
  refused = 0
  received = 0

  constructor(id: string, settings: FileServerSettings, context: DeviceContext) {
    super(id, settings, context)
    this.connections = new ConnectionRules(id, context)
  }

  /** The folder it keeps files in (null before its first start). */
  get folder(): string | null {
    return this.#root
  }

  /** The files it keeps, by path. */
  files(): ReadonlyArray<KeptFile> {
    return this.#root === null ? [] : walk(this.#root)
  }

  protected override prepare(): Effect.Effect<void> {
    const { dataDir, pki, bus } = this.context
    const self = this
    return Effect.promise(async () => {
      if (self.#root === null) {
        self.#temporary = dataDir === null
        self.#root = dataDir === null ? await fs.mkdtemp(path.join(os.tmpdir(), `fazlab-${self.id}-`)) : path.join(dataDir, self.id, "files")
      }
      const root = self.#root
      await fs.mkdir(root, { recursive: true })
      const hostKeyPem = pki === null ? ssh2.utils.generateKeyPairSync("ed25519").private : await pki.sshHostKey(self.serial)
      const refused = (via: "ftp" | "ssh" | "sftp" | "scp", user: string, peer: string, reason: string) => {
        self.refused++
        bus.publish({ type: "file-refused", device: self.id, via, user, peer, reason })
      }
      const stored = (via: "ftp" | "sftp" | "scp", user: string, peer: string, where: string, bytes: number) => {
        self.received++
        bus.publish({ type: "file-received", device: self.id, via, user, peer, path: where, bytes, total: self.received })
      }
      self.#ftp = new FtpService({
        address: self.host,
        root,
        authenticate: (name, password) => {
          const account = Object.hasOwn(self.settings.user, name) ? self.settings.user[name] : undefined
          if (account === undefined) return `no user named ${name} on this file server`
          return sameSecret(account.password, password) ? null : `wrong password for ${name}`
        },
        onLogin: (login) => {
          if (!login.ok) refused("ftp", login.user, login.peer, login.reason)
        },
        onStored: (file) => stored("ftp", file.user, file.peer, file.path, file.bytes),
        onStoreFailed: (failed) => refused("ftp", failed.user, failed.peer, failed.reason)
      })
      self.#ssh = new SshFiles({
        hostKeyPem,
        root,
        users: self.settings.user,
        onStored: (file) => stored(file.via, file.user, file.peer, file.path, file.bytes),
        onRefused: (why) => refused(why.via, why.user, why.peer, why.reason)
      })
    })
  }

  protected bind() {
    const self = this
    return Effect.gen(function*() {
      const ftp = self.#ftp
      const ssh = self.#ssh
      if (ftp === null || ssh === null) return
      const handlers: ReadonlyArray<readonly [PortKey, (socket: import("node:net").Socket) => void]> = [
        ["tcp/21", (socket) => ftp.connection(socket)],
        ["tcp/22", (socket) => ssh.connection(socket)]
      ]
      const bound: Array<BoundEndpoint> = []
      for (const [port, onConnection] of handlers) {
        const listener = yield* self.tcp(port, { ...self.connections.listener(self.settings, `devices.${self.id}`, port), onConnection })
        bound.push({ port, address: listener.address, actualPort: listener.actualPort })
      }
      yield* self.announce(bound)
      // Added after announce's finalizer, so it runs first: the sessions end, then the ports are said closed.
      yield* Effect.addFinalizer(() => Effect.sync(() => {
        ftp.close()
        ssh.close()
      }))
    })
  }

  /** Stops (a crash cuts the sessions as a stop does: a transfer not yet acknowledged is the client's to send again), then removes a temporary folder. */
  override dispose(): Effect.Effect<void> {
    return this.stop().pipe(Effect.andThen(Effect.promise(async () => {
      if (this.#temporary && this.#root !== null) await fs.rm(this.#root, { recursive: true, force: true })
    })))
  }
}
