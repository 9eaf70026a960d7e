/**
 * The file server's TCP/22: SSH (`ssh2`, as the analyzer's CLI) with two ways in and nothing
 * else: the `sftp` subsystem (OpenSSH `sftp`, `scp` of OpenSSH 9, `curl sftp://`) and `scp -t`
 * (the classic SCP sink, `scp -O`; the analyzer's SCP uploads). A shell or any other command is
 * refused with one line on stderr and exit status 1.
 *
 * Users log in with their password or one of their public keys. Paths are the server's folder
 * seen as `/`; `..` never leads out of it. SFTP serves what an upload client asks (open, write,
 * read, close, stat, realpath, list, mkdir, remove, rename); SCP takes files (`C`), folders
 * (`D`/`E`, with `-r`) and times (`T`), and acknowledges each file only once it is on disk.
 * Each file written is said through `onStored`; what a client got wrong through `onRefused`.
 */
import { constants as fsConstants } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import ssh2 from "ssh2"
import { sameSecret } from "../fortianalyzer/admin.ts"
import { InjectedSshServer } from "../shared/injected-ssh-server.ts"
import type { FileServerUser } from "./settings.ts"

const { STATUS_CODE, OPEN_MODE } = ssh2.utils.sftp

/** SFTP's open flags as the flags of open(2) (every combination: `flagsToString` knows only some, not scp's WRITE|CREAT). */
const openFlags = (flags: number): number => {
  const { O_RDONLY, O_WRONLY, O_RDWR, O_APPEND, O_CREAT, O_TRUNC, O_EXCL } = fsConstants
  const read = (flags & OPEN_MODE.READ) !== 0
  const write = (flags & OPEN_MODE.WRITE) !== 0
  return (read && write ? O_RDWR : write ? O_WRONLY : O_RDONLY)
    | ((flags & OPEN_MODE.APPEND) !== 0 ? O_APPEND : 0)
    | ((flags & OPEN_MODE.CREAT) !== 0 ? O_CREAT : 0)
    | ((flags & OPEN_MODE.TRUNC) !== 0 ? O_TRUNC : 0)
    | ((flags & OPEN_MODE.EXCL) !== 0 ? O_EXCL : 0)
}

export interface SshFilesOptions {
  /** The host key, PEM. */
  readonly hostKeyPem: string
  readonly root: string
  readonly users: Readonly<Record<string, FileServerUser>>
  readonly onStored: (stored: { readonly via: "sftp" | "scp"; readonly user: string; readonly peer: string; readonly path: string; readonly bytes: number }) => void
  readonly onRefused: (refused: { readonly via: "ssh" | "sftp" | "scp"; readonly user: string; readonly peer: string; readonly reason: string }) => void
}

/** `/a/../b` → `/b`: a client's path as a path under the root, never above it. */
export const virtualPath = (wanted: string, cwd = "/"): string => path.posix.resolve(cwd, wanted === "" ? "." : wanted)

/** A path of the file server on disk. */
const onDisk = (root: string, virtual: string): string => path.join(root, virtual)

const attrsOf = (stat: import("node:fs").Stats): ssh2.Attributes => ({
  mode: stat.mode,
  uid: 0,
  gid: 0,
  size: stat.size,
  atime: Math.floor(stat.atimeMs / 1000),
  mtime: Math.floor(stat.mtimeMs / 1000)
})

/** An `ls -l` line, as SFTP's long names are. */
const longName = (name: string, stat: import("node:fs").Stats): string => {
  const type = stat.isDirectory() ? "d" : "-"
  const bits = "rwxrwxrwx".split("").map((letter, i) => (stat.mode & (0o400 >> i)) !== 0 ? letter : "-").join("")
  const when = stat.mtime.toISOString().slice(0, 16).replace("T", " ")
  return `${type}${bits} 1 files files ${String(stat.size).padStart(10)} ${when} ${name}`
}

const codeOf = (cause: unknown): number => {
  const code = (cause as { code?: unknown }).code
  if (code === "ENOENT") return STATUS_CODE.NO_SUCH_FILE
  if (code === "EACCES" || code === "EPERM") return STATUS_CODE.PERMISSION_DENIED
  return STATUS_CODE.FAILURE
}

/** The largest file `scp -t` takes: it is held in memory until it is written. */
const MAX_SCP_FILE = 1_073_741_824

/** `scp [-r] [-p] [-d] -t [--] TARGET` (one target without spaces), or null for any other command (`scp -f` included). */
export const scpSinkOf = (command: string): { readonly target: string; readonly recursive: boolean } | null => {
  const words = command.trim().split(/\s+/u)
  if (words[0] !== "scp") return null
  const letters = words.slice(1).filter((word) => word.startsWith("-") && word !== "--").join("")
  const rest = words.slice(1).filter((word) => !word.startsWith("-"))
  if (!letters.includes("t") || letters.includes("f") || rest.length > 1) return null
  return { target: (rest[0] ?? ".").replace(/^'(.*)'$/u, "$1"), recursive: letters.includes("r") }
}

const messageOf = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

export class SshFiles extends InjectedSshServer {
  readonly #options: SshFilesOptions
  readonly #keys: ReadonlyMap<string, ReadonlyArray<ssh2.ParsedKey>>

  constructor(options: SshFilesOptions) {
    super(options.hostKeyPem, "SSH-2.0-fazlab_file_server")
    this.#options = options
    const keys = new Map<string, ReadonlyArray<ssh2.ParsedKey>>()
    for (const [name, user] of Object.entries(options.users)) {
      keys.set(name, user.sshPublicKey.map((line) => ssh2.utils.parseKey(line)).filter((key): key is ssh2.ParsedKey => !(key instanceof Error)))
    }
    this.#keys = keys
  }

  protected session(client: ssh2.Connection, peer: string): void {
    let user = ""
    client.on("authentication", (context) => {
      const name = context.username
      const account = Object.hasOwn(this.#options.users, name) ? this.#options.users[name] : undefined
      const refuse = (reason: string) => {
        this.#options.onRefused({ via: "ssh", user: name, peer, reason })
        context.reject(["password", "publickey"])
      }
      if (context.method === "password") {
        if (account === undefined) return refuse(`no user named ${name} on this file server`)
        if (!sameSecret(account.password, context.password)) return refuse(`wrong password for ${name}`)
        user = name
        return context.accept()
      }
      if (context.method === "publickey") {
        const key = this.#keys.get(name)?.find((k) => k.getPublicSSH().equals(context.key.data))
        if (key === undefined) {
          if (context.signature !== undefined) refuse(`the offered ${context.key.algo} key is not one of ${name}'s ssh-public-key`)
          else context.reject(["password", "publickey"])
          return
        }
        if (context.signature === undefined) return context.accept()
        if (key.verify(context.blob ?? Buffer.alloc(0), context.signature, context.hashAlgo) !== true) return refuse("the public key signature does not verify")
        user = name
        return context.accept()
      }
      context.reject(["password", "publickey"])
    })
    client.on("ready", () => {
      client.on("session", (acceptSession) => {
        const session = acceptSession()
        session.on("env", (accept) => accept?.())
        session.on("pty", (_accept, reject) => reject?.())
        session.on("sftp", (accept) => this.#sftp(accept(), user, peer))
        session.on("shell", (accept) => this.#refuseCommand(accept(), user, peer, "a shell"))
        session.on("exec", (accept, _reject, info) => {
          const channel = accept()
          const scp = scpSinkOf(info.command)
          if (scp === null) return this.#refuseCommand(channel, user, peer, `the command ${JSON.stringify(info.command.slice(0, 80))}`)
          void this.#scpSink(channel, user, peer, scp.target, scp.recursive)
        })
      })
    })
  }

  #refuseCommand(channel: ssh2.ServerChannel, user: string, peer: string, what: string): void {
    const reason = `${what} is not offered: this file server takes files over SFTP or scp -t only`
    this.#options.onRefused({ via: "ssh", user, peer, reason })
    channel.stderr.write(`${reason}\n`)
    channel.exit(1)
    channel.end()
  }

  /** The SFTP subsystem: one open file or folder listing per handle. */
  #sftp(sftp: ssh2.SFTPWrapper, user: string, peer: string): void {
    const { root } = this.#options
    const handles = new Map<number, { readonly kind: "file"; readonly file: fs.FileHandle; readonly path: string; written: boolean } | { readonly kind: "dir"; readonly path: string; listed: boolean }>()
    let next = 0
    const handleOf = (buffer: Buffer) => (buffer.length === 4 ? handles.get(buffer.readUInt32BE(0)) : undefined)
    const newHandle = (entry: Parameters<typeof handles.set>[1]): Buffer => {
      const id = next++
      handles.set(id, entry)
      const buffer = Buffer.alloc(4)
      buffer.writeUInt32BE(id, 0)
      return buffer
    }
    const fail = (reqid: number, cause: unknown) => sftp.status(reqid, codeOf(cause), messageOf(cause))
    const badHandle = (reqid: number) => {
      this.#options.onRefused({ via: "sftp", user, peer, reason: "the client named a handle this session never opened" })
      sftp.status(reqid, STATUS_CODE.FAILURE, "no such handle")
    }
    sftp.on("REALPATH", (reqid, wanted) => {
      const virtual = virtualPath(wanted)
      fs.stat(onDisk(root, virtual)).then(
        (stat) => sftp.name(reqid, [{ filename: virtual, longname: longName(virtual, stat), attrs: attrsOf(stat) }]),
        () => sftp.name(reqid, [{ filename: virtual, longname: virtual, attrs: {} as ssh2.Attributes }])
      )
    })
    const stat = (reqid: number, wanted: string) =>
      fs.stat(onDisk(root, virtualPath(wanted))).then((s) => sftp.attrs(reqid, attrsOf(s)), (cause: unknown) => fail(reqid, cause))
    sftp.on("STAT", stat)
    sftp.on("LSTAT", stat)
    sftp.on("FSTAT", (reqid, buffer) => {
      const entry = handleOf(buffer)
      if (entry === undefined) return badHandle(reqid)
      const got = entry.kind === "file" ? entry.file.stat() : fs.stat(onDisk(root, entry.path))
      got.then((s) => sftp.attrs(reqid, attrsOf(s)), (cause: unknown) => fail(reqid, cause))
    })
    sftp.on("SETSTAT", (reqid) => sftp.status(reqid, STATUS_CODE.OK))
    sftp.on("FSETSTAT", (reqid) => sftp.status(reqid, STATUS_CODE.OK))
    sftp.on("OPEN", (reqid, wanted, flags) => {
      const virtual = virtualPath(wanted)
      fs.open(onDisk(root, virtual), openFlags(flags), 0o644).then(
        (file) => sftp.handle(reqid, newHandle({ kind: "file", file, path: virtual, written: false })),
        (cause: unknown) => fail(reqid, cause)
      )
    })
    sftp.on("WRITE", (reqid, buffer, offset, data) => {
      const entry = handleOf(buffer)
      if (entry?.kind !== "file") return badHandle(reqid)
      entry.written = true
      entry.file.write(data, 0, data.length, offset).then(() => sftp.status(reqid, STATUS_CODE.OK), (cause: unknown) => fail(reqid, cause))
    })
    sftp.on("READ", (reqid, buffer, offset, length) => {
      const entry = handleOf(buffer)
      if (entry?.kind !== "file") return badHandle(reqid)
      const chunk = Buffer.alloc(Math.min(length, 262_144))
      entry.file.read(chunk, 0, chunk.length, offset).then(
        ({ bytesRead }) => (bytesRead === 0 ? sftp.status(reqid, STATUS_CODE.EOF) : sftp.data(reqid, chunk.subarray(0, bytesRead))),
        (cause: unknown) => fail(reqid, cause)
      )
    })
    sftp.on("CLOSE", (reqid, buffer) => {
      const entry = handleOf(buffer)
      if (entry === undefined) return badHandle(reqid)
      handles.delete(buffer.readUInt32BE(0))
      if (entry.kind === "dir") return sftp.status(reqid, STATUS_CODE.OK)
      // The file is on disk (flushed and closed) before the client hears OK.
      entry.file.sync().then(() => entry.file.stat()).then(
        async (s) => {
          await entry.file.close()
          sftp.status(reqid, STATUS_CODE.OK)
          if (entry.written) this.#options.onStored({ via: "sftp", user, peer, path: entry.path, bytes: s.size })
        },
        async (cause: unknown) => {
          await entry.file.close().catch(() => undefined)
          fail(reqid, cause)
        }
      )
    })
    sftp.on("OPENDIR", (reqid, wanted) => {
      const virtual = virtualPath(wanted)
      fs.stat(onDisk(root, virtual)).then(
        (s) => (s.isDirectory() ? sftp.handle(reqid, newHandle({ kind: "dir", path: virtual, listed: false })) : sftp.status(reqid, STATUS_CODE.FAILURE, `${virtual} is not a folder`)),
        (cause: unknown) => fail(reqid, cause)
      )
    })
    sftp.on("READDIR", (reqid, buffer) => {
      const entry = handleOf(buffer)
      if (entry?.kind !== "dir") return badHandle(reqid)
      if (entry.listed) return sftp.status(reqid, STATUS_CODE.EOF)
      entry.listed = true
      const folder = onDisk(root, entry.path)
      fs.readdir(folder).then(
        async (names) => {
          const stats = await Promise.all(names.map(async (name) => ({ name, stat: await fs.stat(path.join(folder, name)) })))
          sftp.name(reqid, stats.map(({ name, stat: s }) => ({ filename: name, longname: longName(name, s), attrs: attrsOf(s) })))
        },
        (cause: unknown) => fail(reqid, cause)
      )
    })
    const done = (reqid: number) => () => sftp.status(reqid, STATUS_CODE.OK)
    sftp.on("MKDIR", (reqid, wanted) => void fs.mkdir(onDisk(root, virtualPath(wanted))).then(done(reqid), (cause: unknown) => fail(reqid, cause)))
    sftp.on("RMDIR", (reqid, wanted) => void fs.rmdir(onDisk(root, virtualPath(wanted))).then(done(reqid), (cause: unknown) => fail(reqid, cause)))
    sftp.on("REMOVE", (reqid, wanted) => void fs.unlink(onDisk(root, virtualPath(wanted))).then(done(reqid), (cause: unknown) => fail(reqid, cause)))
    sftp.on("RENAME", (reqid, from, to) => {
      const target = onDisk(root, virtualPath(to))
      // SFTP v3 RENAME does not overwrite.
      fs.access(target, fsConstants.F_OK).then(
        () => sftp.status(reqid, STATUS_CODE.FAILURE, `${virtualPath(to)} exists`),
        () => void fs.rename(onDisk(root, virtualPath(from)), target).then(done(reqid), (cause: unknown) => fail(reqid, cause))
      )
    })
    // The client is done when it sends EOF: it then waits for the channel to close, and OpenSSH's
    // scp for an exit status too. ssh2's SFTP stream has no exit(); it sends what Channel.exit sends.
    sftp.on("end", () => {
      const channel = sftp as unknown as { readonly _protocol: { exitStatus(id: number, status: number): void }; readonly outgoing: { readonly id: number } }
      channel._protocol.exitStatus(channel.outgoing.id, 0)
      sftp.end()
    })
    sftp.on("close", () => {
      for (const entry of handles.values()) if (entry.kind === "file") void entry.file.close().catch(() => undefined)
      handles.clear()
    })
  }

  /** `scp -t TARGET`: the SCP sink. Each file is written, then acknowledged. */
  async #scpSink(channel: ssh2.ServerChannel, user: string, peer: string, target: string, recursive: boolean): Promise<void> {
    const { root } = this.#options
    const reader = new ChannelReader(channel)
    const refuse = (reason: string) => {
      this.#options.onRefused({ via: "scp", user, peer, reason })
      channel.write(`\x02${reason}\n`)
      channel.exit(1)
      channel.end()
    }
    const start = virtualPath(target)
    const isDirectory = await fs.stat(onDisk(root, start)).then((s) => s.isDirectory(), () => false)
    const folders = [start]
    channel.write("\0")
    for (;;) {
      const line = await reader.line()
      if (line === null) break
      const here = folders.at(-1) ?? start
      if (line.startsWith("T")) {
        channel.write("\0")
        continue
      }
      if (line === "E") {
        if (folders.length <= 1) return refuse("scp sent E (end of folder) outside any folder")
        folders.pop()
        channel.write("\0")
        continue
      }
      const header = /^([CD])([0-7]{4}) (\d{1,15}) ([^/]+)$/u.exec(line)
      if (header === null) return refuse(`scp sent ${JSON.stringify(line.slice(0, 60))}, which is no C, D, E or T line`)
      const [, type, , size, name] = header as unknown as [string, "C" | "D", string, string, string]
      if (name === "." || name === "..") return refuse(`scp named a file ${name}, which is not a file name`)
      if (type === "D") {
        if (!recursive) return refuse("scp sent a folder (D) without -r")
        const folder = folders.length === 1 && !isDirectory ? start : path.posix.join(here, name)
        try {
          await fs.mkdir(onDisk(root, folder), { recursive: true })
        } catch (cause) {
          return refuse(`cannot make ${folder}: ${messageOf(cause)}`)
        }
        folders.push(folder)
        channel.write("\0")
        continue
      }
      const file = folders.length === 1 && !isDirectory ? start : path.posix.join(here, name)
      const bytes = Number(size)
      if (bytes > MAX_SCP_FILE) return refuse(`${file} is ${bytes} bytes, over the ${MAX_SCP_FILE} bytes this file server takes over scp; send it over SFTP`)
      channel.write("\0")
      const data = await reader.bytes(bytes + 1)
      if (data === null) return refuse(`the connection ended within ${file}, before its ${bytes} bytes came`)
      if (data[bytes] !== 0) return refuse(`scp did not end ${file} with a zero byte`)
      try {
        await fs.writeFile(onDisk(root, file), data.subarray(0, bytes))
      } catch (cause) {
        return refuse(`cannot write ${file}: ${messageOf(cause)}`)
      }
      channel.write("\0")
      this.#options.onStored({ via: "scp", user, peer, path: file, bytes })
    }
    channel.exit(0)
    channel.end()
  }
}

/** Reads an SSH channel as lines and counted bytes, in order. */
class ChannelReader {
  #buffer: Buffer = Buffer.alloc(0)
  #ended = false
  #wake: (() => void) | null = null

  constructor(channel: ssh2.ServerChannel) {
    channel.on("data", (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk])
      this.#notify()
    })
    channel.on("end", () => {
      this.#ended = true
      this.#notify()
    })
    channel.on("close", () => {
      this.#ended = true
      this.#notify()
    })
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = null
    wake?.()
  }

  #more(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve))
  }

  /** The next line without its newline, or null at the end of the channel. */
  async line(): Promise<string | null> {
    for (;;) {
      const end = this.#buffer.indexOf(0x0a)
      if (end >= 0) {
        const line = this.#buffer.subarray(0, end).toString("utf8")
        this.#buffer = this.#buffer.subarray(end + 1)
        return line
      }
      if (this.#ended) return null
      await this.#more()
    }
  }

  /** The next `count` bytes, or null when the channel ends first. */
  async bytes(count: number): Promise<Buffer | null> {
    while (this.#buffer.length < count) {
      if (this.#ended) return null
      await this.#more()
    }
    const out = this.#buffer.subarray(0, count)
    this.#buffer = this.#buffer.subarray(count)
    return out
  }
}
