/**
 * The analyzer's SSH server on TCP/22: the admin CLI (`cli.ts`) over SSH, with `ssh2` (the pure
 * JavaScript SSH implementation of the Node ecosystem; its optional native crypto binding is not
 * built, see package.json `allowScripts`).
 *
 * The host key is the analyzer's from the lab PKI (stable across restarts). Administrators come
 * from the lab file (`admin.user`): password, OpenSSH public keys, or no password at all for a
 * local user whose password is empty (FortiAnalyzer's factory `admin`), and remote administrators
 * whose password their LDAP or RADIUS server checks (`admin.ts`). API users cannot log in here.
 * A session is interactive (`ssh admin@faz`, with a pseudo-terminal: the server echoes and edits
 * the line) or one command (`ssh admin@faz 'get system status'`, exit status 1 when the command
 * failed). A session idle for `admin.setting.idle-timeout` is closed; a command that waits for a
 * server's answer (`diagnose test authserver`) does not count as idle. Idle time is the client's:
 * it counts on the wall clock whatever the lab clock does, since the client at the other end of
 * the socket types (or runs its script) in real time. A simulated clock that jumps, or `speed: N`,
 * would otherwise close a session between a real client's login and its first command. Logins,
 * refusals and the end of each session are `admin-login` / `admin-logout` events.
 */
import type ssh2 from "ssh2"
import type { EventBus } from "../../events/bus.ts"
import type { LabClock } from "../../machines/clock.ts"
import { InjectedSshServer } from "../shared/injected-ssh-server.ts"
import { type CliAnswer, CliSession } from "./cli.ts"
import type { AnalyzerView } from "./system-view.ts"

export interface SshServerOptions {
  readonly device: string
  readonly bus: EventBus
  /** The clock a session's idle-timeout counts on: the wall clock (a `RealLabClock` at speed 1), not the lab's. */
  readonly clientClock: LabClock
  readonly view: AnalyzerView
  /** The host key, PEM (`LabPki.sshHostKey`). */
  readonly hostKeyPem: string
}

/** What the server says it is: OpenSSH-like, as `nmap -sV` and `ssh -v` read it. */
const IDENT = "SSH-2.0-FortiAnalyzer"

const CTRL_C = 0x03
const CTRL_D = 0x04
const BACKSPACE = 0x7f
const CTRL_H = 0x08
const ESC = 0x1b

/** A command's whole answer: its own lines and, for one that asked a server, the answer's after them. */
const settled = async (answer: CliAnswer): Promise<CliAnswer> => {
  if (answer.later === undefined) return answer
  const later = await answer.later
  return { lines: [...answer.lines, ...later.lines], failed: answer.failed || later.failed, exit: later.exit }
}

export class SshServer extends InjectedSshServer {
  readonly #options: SshServerOptions

  constructor(options: SshServerOptions) {
    super(options.hostKeyPem, IDENT)
    this.#options = options
  }

  #publishLogin(user: string, peer: string, ok: boolean, reason: string): void {
    this.#options.bus.publish({ type: "admin-login", device: this.#options.device, via: "ssh", user, peer, ok, reason })
  }

  protected session(client: ssh2.Connection, peer: string): void {
    const { view, clientClock: clock, bus, device } = this.#options
    let user: string | null = null
    let ended = "the client disconnected"
    let idle: unknown = null
    const idleMs = view.admins.settings.setting.idleTimeout
    /** While a command waits for a server's answer the session is not idle: no idle timer runs (`touch` starts it again). */
    const busy = () => {
      if (idle !== null) clock.clearTimeout(idle)
      idle = null
    }
    const touch = () => {
      busy()
      idle = clock.setTimeout(() => {
        ended = `idle for idle-timeout ${idleMs / 1000} s`
        client.end()
      }, idleMs)
    }
    client.on("authentication", (context) => {
      const name = context.username
      const admins = view.admins
      switch (context.method) {
        case "none":
          if (admins.passwordless(name)) {
            user = name
            this.#publishLogin(name, peer, true, "local administrator with an empty password")
            context.accept()
          } else context.reject(["password", "publickey"])
          return
        case "password":
          // A remote administrator's password is its LDAP or RADIUS server's to check: the answer comes later.
          void admins.password(name, context.password, "ssh").then((result) => {
            this.#publishLogin(name, peer, result.ok, result.reason)
            if (result.ok) {
              user = name
              context.accept()
            } else context.reject(["password", "publickey"])
          })
          return
        case "publickey": {
          const key = admins.user(name)?.userType === "local" ? admins.publicKey(name, context.key.data) : null
          if (key === null) {
            if (context.signature !== undefined) this.#publishLogin(name, peer, false, `the offered ${context.key.algo} key is not one of ${name}'s ssh-public-key`)
            context.reject(["password", "publickey"])
            return
          }
          // Without a signature the client only asks whether this key would do.
          if (context.signature === undefined) {
            context.accept()
            return
          }
          const ok = key.verify(context.blob ?? Buffer.alloc(0), context.signature, context.hashAlgo) === true
          this.#publishLogin(name, peer, ok, ok ? `public key ${key.type}` : "the public key signature does not verify")
          if (ok) {
            user = name
            context.accept()
          } else context.reject(["password", "publickey"])
          return
        }
        default:
          context.reject(["password", "publickey"])
      }
    })
    client.on("ready", () => {
      touch()
      client.on("session", (acceptSession) => {
        const session = acceptSession()
        let pty = false
        session.on("pty", (accept) => {
          pty = true
          accept()
        })
        session.on("window-change", (accept) => accept?.())
        session.on("env", (accept) => accept?.())
        session.on("shell", (accept) => {
          const channel = accept()
          this.#shell(channel, pty, { touch, busy }, (why) => {
            ended = why
            client.end()
          })
        })
        session.on("exec", (accept, _reject, info) => {
          const channel = accept()
          const cli = new CliSession(view, () => new Date())
          void (async () => {
            let failed = false
            for (const line of info.command.split(/\r?\n/u)) {
              const ran = cli.run(line)
              if (ran.later !== undefined) busy()
              const answer = await settled(ran)
              if (ran.later !== undefined) touch()
              failed ||= answer.failed
              for (const out of answer.lines) channel.write(`${out}\n`)
              if (answer.exit) break
            }
            ended = "ran one command"
            channel.exit(failed ? 1 : 0)
            channel.end()
          })()
        })
      })
    })
    client.on("close", () => {
      if (idle !== null) clock.clearTimeout(idle)
      if (user !== null) bus.publish({ type: "admin-logout", device, via: "ssh", user, peer, reason: ended })
    })
  }

  /** An interactive CLI on `channel`: echo and line editing with a pseudo-terminal, plain lines without. */
  #shell(channel: ssh2.ServerChannel, pty: boolean, idle: { readonly touch: () => void; readonly busy: () => void }, end: (why: string) => void): void {
    const cli = new CliSession(this.#options.view, () => new Date())
    const newline = pty ? "\r\n" : "\n"
    let line = ""
    let escape = false
    /** Input that came while a command waits for its server's answer; read once it has. */
    let waiting: Array<Buffer> | null = null
    channel.write(cli.prompt())
    const finish = (answer: CliAnswer): boolean => {
      for (const out of answer.lines) channel.write(`${out}${newline}`)
      if (answer.exit) {
        channel.exit(0)
        channel.end()
        end("exit")
        return false
      }
      channel.write(cli.prompt())
      return true
    }
    /** Runs the line: whether the session goes on, or, when its answer comes later, where to hold the input until then. */
    const run = (): boolean | Array<Buffer> => {
      const answer = cli.run(line)
      line = ""
      if (answer.later === undefined) return finish(answer)
      for (const out of answer.lines) channel.write(`${out}${newline}`)
      const held: Array<Buffer> = []
      waiting = held
      idle.busy()
      void answer.later.then((later) => {
        waiting = null
        idle.touch()
        if (finish(later)) for (const data of held) read(data)
      })
      return held
    }
    const read = (data: Buffer): void => {
      if (waiting !== null) {
        waiting.push(data)
        return
      }
      idle.touch()
      for (const [at, byte] of data.entries()) {
        if (escape) {
          // An escape sequence (arrow keys): skipped up to its final letter.
          if ((byte >= 0x40 && byte <= 0x7e && byte !== 0x5b) || byte === 0x7e) escape = false
          continue
        }
        if (byte === 0x0d || byte === 0x0a) {
          if (byte === 0x0a && pty) continue
          if (pty) channel.write("\r\n")
          const ran = run()
          if (Array.isArray(ran)) {
            ran.push(data.subarray(at + 1))
            return
          }
          if (!ran) return
        } else if (byte === BACKSPACE || byte === CTRL_H) {
          if (line.length > 0) {
            line = line.slice(0, -1)
            if (pty) channel.write("\b \b")
          }
        } else if (byte === CTRL_C) {
          line = ""
          if (pty) channel.write(`^C${newline}${cli.prompt()}`)
        } else if (byte === CTRL_D && line === "") {
          channel.exit(0)
          channel.end()
          end("exit")
          return
        } else if (byte === ESC) {
          escape = true
        } else if (byte >= 0x20) {
          const char = String.fromCharCode(byte)
          line += char
          if (pty) channel.write(char)
        }
      }
    }
    channel.on("data", read)
    channel.on("end", () => end("the client closed the session"))
  }
}
