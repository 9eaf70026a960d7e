/**
 * The analyzer's administrators (`config system admin user`) and admin settings (`config system
 * admin setting`), and the checks both management planes make with them: SSH (password, public
 * key) and JSON-RPC (password login, `Authorization: Bearer <api-key>`).
 *
 * The lab file holds them under the analyzer's `admin:`; without one there is FortiAnalyzer's
 * factory account, `admin` with an empty password (fazlab does not force the first-login password
 * change a real unit asks for; see docs/protocols/cli.md). Secrets are compared in constant time.
 * Remote administrators (`user_type ldap` / `radius`) are checked against the server their
 * `ldap_server` / `radius_server` entry names (`remote-auth.ts`); one with `wildcard enable` stands
 * for every name that server accepts and that no administrator has.
 */
import * as crypto from "node:crypto"
import * as Schema from "effect/Schema"
import ssh2 from "ssh2"
import { connectionLimitFieldsOf, Duration, Enable, NonEmpty, orNull, Rate, settingsStruct, wholeNumber, withDefault } from "../settings.ts"
import { AdminLdapServer, AdminRadiusServer, type RemoteAuth } from "./remote-auth.ts"

const sshKeyPattern = /^(?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)) [A-Za-z0-9+/]+={0,2}(?: .*)?$/u

/** One OpenSSH public key line (an `authorized_keys` line without options). */
export const SshPublicKeyLine = Schema.String.check(
  Schema.isPattern(sshKeyPattern, { expected: "an OpenSSH public key line such as \"ssh-ed25519 AAAA... admin@pc\"" })
)

/** One `config system admin user` entry (FortiAnalyzer's names; `ssh-public-key` is a list of OpenSSH public key lines). */
export const AdminUserSettings = settingsStruct({
  password: withDefault(Schema.String, ""),
  /** OpenSSH public key lines (FortiAnalyzer's `ssh-public-key1..3`). */
  sshPublicKey: withDefault(Schema.Array(SshPublicKeyLine), []),
  /** `user_type`: `api` users log in with their API key only; `ldap` and `radius` users with their password on that server. */
  userType: withDefault(Schema.Literals(["local", "api", "ldap", "radius"]), "local"),
  /** `ldap_server`: the `admin.ldap` entry a `user_type ldap` user is checked against. */
  ldapServer: orNull(NonEmpty),
  /** `radius_server`: the `admin.radius` entry a `user_type radius` user is checked against. */
  radiusServer: orNull(NonEmpty),
  /** `wildcard`: a remote user that stands for any name its server accepts. */
  wildcard: withDefault(Enable, "disable"),
  apiKey: orNull(Schema.String.check(Schema.isMinLength(16, { expected: "an API key of at least 16 characters" }))),
  /** `rpc-permit`: what the user may do over JSON-RPC. */
  rpcPermit: withDefault(Schema.Literals(["read-write", "read", "none"]), "read-write"),
  profileid: withDefault(NonEmpty, "Super_User")
}, { ldapServer: "ldap_server", radiusServer: "radius_server" })
export type AdminUserSettings = typeof AdminUserSettings.Type

/** `config system admin setting`, and fazlab's named limits of the management plane. Times in milliseconds. */
export const AdminSettingSettings = settingsStruct({
  /** `idle_timeout`: an SSH session with no input this long is closed. */
  idleTimeout: withDefault(Duration, "900s"),
  /** `idle_timeout_api`: a JSON-RPC session unused this long expires. */
  idleTimeoutApi: withDefault(Duration, "900s"),
  /** `admin-https-redirect`: TCP/80 redirects to HTTPS (else it serves the pages itself). */
  adminHttpsRedirect: withDefault(Enable, "enable"),
  /** fazlab's limit: largest JSON-RPC request body, bytes. */
  apiMaxBodyBytes: withDefault(wholeNumber(256, 67_108_864), 1_048_576),
  /** fazlab's limit: JSON-RPC requests per second from one source address. */
  apiRate: withDefault(Rate, "50/s"),
  /** `login-max`: JSON-RPC sessions open at once per user. */
  loginMax: withDefault(wholeNumber(1, 1000), 32),
  /**
   * fazlab's limits: the connection rules of each management port (TCP/21, 22, 80, 445, 541,
   * 3000, 3010, 3011, 8080 and TCP/554; docs/errors.md): `max-connections` (64 at once),
   * `max-connections-per-source`, `first-byte-timeout`.
   */
  ...connectionLimitFieldsOf(64),
  /** FortiOS's `remoteauthtimeout`: how long an LDAP or RADIUS server has to answer a login. */
  remoteAuthTimeout: withDefault(Duration, "5s")
})

/** The analyzer's `admin:`: its admin settings, its administrators (default: `admin` with an empty password) and its remote authentication servers. */
export const AdminSettings = Schema.Struct({
  setting: withDefault(AdminSettingSettings, {}),
  user: withDefault(Schema.Record(NonEmpty, AdminUserSettings), { admin: {} }),
  /** `config system admin ldap`. */
  ldap: withDefault(Schema.Array(AdminLdapServer), []),
  /** `config system admin radius`. */
  radius: withDefault(Schema.Array(AdminRadiusServer), [])
})
export type AdminSettings = typeof AdminSettings.Type

/** What a login attempt came to: the user and how it was checked, or why not (one sentence, for the event and the log). */
export type LoginResult = { readonly ok: true; readonly user: string; readonly settings: AdminUserSettings; readonly reason: string } | { readonly ok: false; readonly reason: string }

/** Whether two secrets are equal, compared in constant time. */
export const sameSecret = (a: string, b: string): boolean => {
  const left = crypto.createHash("sha256").update(a).digest()
  const right = crypto.createHash("sha256").update(b).digest()
  return crypto.timingSafeEqual(left, right)
}

export class AdminAccounts {
  readonly settings: AdminSettings
  /** The LDAP and RADIUS checks of remote administrators. */
  readonly remote: RemoteAuth
  /** Each user's parsed public keys; a line ssh2 cannot parse is left out (and named by `badKeys`). */
  readonly #keys = new Map<string, ReadonlyArray<ssh2.ParsedKey>>()
  /** "admin: ssh-rsa AAA…" for every key line that is not a usable public key. */
  readonly badKeys: ReadonlyArray<string>

  constructor(settings: AdminSettings, remote: RemoteAuth) {
    this.settings = settings
    this.remote = remote
    const bad: string[] = []
    for (const [name, user] of Object.entries(settings.user)) {
      const parsed: ssh2.ParsedKey[] = []
      for (const line of user.sshPublicKey) {
        const key = ssh2.utils.parseKey(line)
        if (key instanceof Error) bad.push(`${name}: ${line.slice(0, 40)}…`)
        else parsed.push(key)
      }
      this.#keys.set(name, parsed)
    }
    this.badKeys = bad
  }

  get names(): ReadonlyArray<string> {
    return Object.keys(this.settings.user)
  }

  user(name: string): AdminUserSettings | undefined {
    return Object.hasOwn(this.settings.user, name) ? this.settings.user[name] : undefined
  }

  /**
   * A password login (SSH `password`, JSON-RPC `sys/login/user`). API users have no password
   * login; a remote user's password is its server's to check; a name no administrator has is
   * tried on the servers of the wildcard remote users, in file order, until one accepts.
   */
  async password(name: string, password: string, via: "ssh" | "jsonrpc" | "ftp"): Promise<LoginResult> {
    const user = this.user(name)
    if (user === undefined) {
      const wildcards = Object.entries(this.settings.user).filter(([, u]) => u.wildcard === "enable" && (u.userType === "ldap" || u.userType === "radius"))
      if (wildcards.length === 0) return { ok: false, reason: `no administrator named ${name}` }
      const reasons: Array<string> = []
      for (const [wildcard, settings] of wildcards) {
        const result = await this.#remote(name, settings, password, via)
        if (result.ok) return { ok: true, user: name, settings, reason: `${result.reason}, as wildcard administrator ${wildcard}` }
        reasons.push(result.reason)
      }
      return { ok: false, reason: `no administrator named ${name}, and no wildcard administrator's server accepted it: ${reasons.join("; ")}` }
    }
    if (user.userType === "api") return { ok: false, reason: `${name} is an API user: send its key as Authorization: Bearer <api-key>` }
    if (user.userType !== "local") return this.#remote(name, user, password, via)
    if (!sameSecret(user.password, password)) return { ok: false, reason: `wrong password for ${name}` }
    return { ok: true, user: name, settings: user, reason: "password" }
  }

  async #remote(name: string, user: AdminUserSettings, password: string, via: "ssh" | "jsonrpc" | "ftp"): Promise<LoginResult> {
    const method = user.userType === "ldap" ? "ldap" : "radius"
    const entry = method === "ldap" ? user.ldapServer : user.radiusServer
    if (entry === null) return { ok: false, reason: `${name} is a ${method} administrator without ${method}_server` }
    const verdict = await this.remote.check(via, method, entry, name, password)
    return verdict.result === "accept" ? { ok: true, user: name, settings: user, reason: verdict.reason } : { ok: false, reason: verdict.reason }
  }

  /** Whether `name` may log in with no password at all (SSH `none`): a local user whose password is empty, as the factory admin. */
  passwordless(name: string): boolean {
    const user = this.user(name)
    return user !== undefined && user.userType === "local" && user.password === ""
  }

  /** The user's public key whose blob is `data` (what the SSH client offers), if any. */
  publicKey(name: string, data: Buffer): ssh2.ParsedKey | null {
    return this.#keys.get(name)?.find((key) => key.getPublicSSH().equals(data)) ?? null
  }

  /** The API user whose key this is (`Authorization: Bearer <key>`). */
  apiKey(key: string): LoginResult {
    for (const [name, user] of Object.entries(this.settings.user)) {
      if (user.apiKey !== null && sameSecret(user.apiKey, key)) return { ok: true, user: name, settings: user, reason: "API key" }
    }
    return { ok: false, reason: "the bearer key is no administrator's API key" }
  }
}
