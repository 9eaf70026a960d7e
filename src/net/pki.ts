/**
 * The lab PKI: one certificate authority per lab and the leaf certificates its devices present
 * on TLS links (OFTP on TCP/514, FGFM on TCP/541).
 *
 * The CA is ECDSA P-256 / SHA-256, CN "fazlab <labName> CA", valid 10 years. It is created at the
 * first start and kept in `<dir>/pki/` (`ca.pem`, `ca.key`; folder 0700, key files 0600); later
 * starts reuse it, so certificates and fingerprints stay stable across runs. With `dir: null`
 * nothing touches the disk.
 *
 * A leaf's CN is the device serial, because FortiOS identifies the analyzer (and the manager) by
 * the serial in the certificate CN, not by host name. Leaves are ECDSA P-256, valid 2 years,
 * with serverAuth or clientAuth, cached as `<serial>.pem` / `<serial>.key` and reused while they
 * match the request (role and SAN) and are signed by this CA and still valid. Certificate serial
 * numbers are 16 random bytes, positive.
 *
 * A lab whose devices run in containers shares one CA: `exportLabCa` writes the CA of a lab's
 * folder (made first when the lab has none) to a folder of its own (`fazlab pki export`), which
 * is mounted into every container; `adoptLabCa` makes it the CA of a node's data folder before
 * the node loads its PKI (`fazlab node --pki DIR`). Each node then issues its own device
 * certificates from it, and every peer trusts them.
 *
 * A device that serves SSH (the analyzer's CLI on TCP/22) gets an SSH host key from here too:
 * ECDSA P-256, kept as `<serial>.ssh-host.key` (SEC1 PEM, what SSH servers load), so a client's
 * `known_hosts` entry stays valid across restarts of the lab.
 */
import "reflect-metadata"
import * as x509 from "@peculiar/x509"
import * as crypto from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import * as Schema from "effect/Schema"

x509.cryptoProvider.set(globalThis.crypto)
const subtle = crypto.webcrypto.subtle

/** Why the lab PKI cannot be used; `message` is one sentence that says what to do. */
export class PkiError extends Schema.TaggedError<PkiError>()("PkiError", {
  path: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `lab PKI ${this.path}: ${this.reason}`
  }
}

/** A certificate and its key, ready for `tls` options (PEM). */
export interface TlsIdentity {
  readonly certPem: string
  /** PKCS#8 PEM. */
  readonly keyPem: string
  /** Leaf then lab CA, what a TLS peer presents. */
  readonly chainPem: string
}

export interface IssueRequest {
  /** The device serial: becomes the certificate CN (and the cache file name). */
  readonly serial: string
  readonly role: "server" | "client"
  /** DNS SAN entries; servers default to `localhost` when neither list is given. */
  readonly hostnames?: ReadonlyArray<string>
  /** IP SAN entries; servers default to `127.0.0.1` when neither list is given. */
  readonly ips?: ReadonlyArray<string>
}

export interface LabPkiOptions {
  /** The lab's data folder; the PKI lives in `<dir>/pki/`. `null` keeps everything in memory. */
  readonly dir: string | null
  readonly labName: string
}

const DAY_MS = 24 * 60 * 60 * 1000
/** CA lifetime. */
const CA_VALIDITY_DAYS = 3650
/** Leaf lifetime. */
const LEAF_VALIDITY_DAYS = 730
/** Certificates start this long before their creation, so a peer with a slow clock accepts them. */
const BACKDATE_MS = 60 * 60 * 1000
/** A cached leaf expiring sooner than this is issued again. */
const RENEW_BEFORE_MS = DAY_MS
/** Device serials are used as file names: letters, digits, dot, dash, underscore. */
const SERIAL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

const EC_KEY: crypto.webcrypto.EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" }
const SIGNING: crypto.webcrypto.EcdsaParams = { name: "ECDSA", hash: "SHA-256" }

interface Ca {
  readonly cert: crypto.X509Certificate
  /** The CA subject exactly as encoded, used as the issuer of every leaf. */
  readonly name: x509.Name
  /** The CA's subject key identifier (hex), the authority key identifier of every leaf. */
  readonly keyId: string
  readonly pem: string
  readonly signingKey: crypto.webcrypto.CryptoKey
}

export class LabPki {
  /** The lab CA certificate (PEM): what peers trust. */
  readonly caPem: string
  /** SHA-256 fingerprint of the CA, colon-separated upper-case hex as `openssl x509 -fingerprint -sha256` prints it. */
  readonly fingerprint: string
  readonly #ca: Ca
  readonly #folder: string | null
  readonly #issued = new Map<string, { readonly key: string; readonly identity: Promise<TlsIdentity> }>()
  readonly #hostKeys = new Map<string, Promise<string>>()

  private constructor(ca: Ca, folder: string | null) {
    this.#ca = ca
    this.#folder = folder
    this.caPem = ca.pem
    this.fingerprint = ca.cert.fingerprint256
  }

  /** Loads the lab CA from `<dir>/pki/`, creating it on first use. */
  static async load(options: LabPkiOptions): Promise<LabPki> {
    if (options.dir === null) return new LabPki(await createCa(options.labName), null)
    const folder = path.join(options.dir, "pki")
    await guard(folder, "cannot be created or made private (mode 0700); check the permissions of the lab data folder", async () => {
      await fs.mkdir(folder, { recursive: true, mode: 0o700 })
      await fs.chmod(folder, 0o700)
    })
    const existing = await loadCa(folder)
    if (existing !== null) return new LabPki(existing, folder)
    const ca = await createCa(options.labName)
    const keyPem = await exportKeyPem(ca.signingKey)
    // Key first: a CA certificate is never on disk without its key.
    await writeFileAtomic(path.join(folder, "ca.key"), keyPem, 0o600)
    await writeFileAtomic(path.join(folder, "ca.pem"), ca.pem, 0o644)
    return new LabPki(ca, folder)
  }

  /**
   * A leaf certificate for a device, signed by the lab CA. The same request for the same serial
   * returns the same certificate (from memory, then from disk) while it is valid.
   */
  issue(request: IssueRequest): Promise<TlsIdentity> {
    if (!SERIAL_PATTERN.test(request.serial)) {
      return Promise.reject(
        new PkiError({
          path: request.serial,
          reason: "is not a usable device serial; use 1-64 letters, digits, dots, dashes or underscores"
        })
      )
    }
    const names = subjectAltNames(request)
    const key = `${request.role} ${names.map((name) => `${name.type}:${name.value}`).join(",")}`
    const cached = this.#issued.get(request.serial)
    if (cached !== undefined && cached.key === key) return cached.identity
    const identity = this.#loadOrIssue(request, names)
    this.#issued.set(request.serial, { key, identity })
    // A failed issue is not cached: the next call tries again.
    identity.catch(() => {
      if (this.#issued.get(request.serial)?.identity === identity) this.#issued.delete(request.serial)
    })
    return identity
  }

  /** The SSH host key of the device with this serial (SEC1 PEM): created once, then read back. */
  sshHostKey(serial: string): Promise<string> {
    if (!SERIAL_PATTERN.test(serial)) {
      return Promise.reject(new PkiError({ path: serial, reason: "is not a usable device serial; use 1-64 letters, digits, dots, dashes or underscores" }))
    }
    const cached = this.#hostKeys.get(serial)
    if (cached !== undefined) return cached
    const key = this.#loadOrCreateHostKey(serial)
    this.#hostKeys.set(serial, key)
    key.catch(() => this.#hostKeys.delete(serial))
    return key
  }

  async #loadOrCreateHostKey(serial: string): Promise<string> {
    const file = this.#folder === null ? null : path.join(this.#folder, `${serial}.ssh-host.key`)
    if (file !== null) {
      const existing = await readOptional(file)
      if (existing !== null) {
        const usable = await guard(file, "is not a PEM private key; delete it to get a new SSH host key", async () =>
          crypto.createPrivateKey(existing).asymmetricKeyType === "ec"
        )
        if (usable) return existing
      }
    }
    const { privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
    const pem = privateKey.export({ type: "sec1", format: "pem" }).toString()
    if (file !== null) await writeFileAtomic(file, pem, 0o600)
    return pem
  }

  async #loadOrIssue(request: IssueRequest, names: ReadonlyArray<x509.JsonGeneralName>): Promise<TlsIdentity> {
    const folder = this.#folder
    if (folder !== null) {
      const reusable = await this.#readCachedLeaf(folder, request, names)
      if (reusable !== null) return reusable
    }
    const identity = await this.#sign(request, names)
    if (folder !== null) {
      await writeFileAtomic(path.join(folder, `${request.serial}.key`), identity.keyPem, 0o600)
      await writeFileAtomic(path.join(folder, `${request.serial}.pem`), identity.certPem, 0o644)
    }
    return identity
  }

  /** The cached leaf when it matches the request, was signed by this CA, fits its key and stays valid a while. */
  async #readCachedLeaf(
    folder: string,
    request: IssueRequest,
    names: ReadonlyArray<x509.JsonGeneralName>
  ): Promise<TlsIdentity | null> {
    const certPem = await readOptional(path.join(folder, `${request.serial}.pem`))
    const keyPem = await readOptional(path.join(folder, `${request.serial}.key`))
    if (certPem === null || keyPem === null) return null
    try {
      const cert = new crypto.X509Certificate(certPem)
      const now = Date.now()
      const fits =
        cert.checkIssued(this.#ca.cert) &&
        cert.verify(this.#ca.cert.publicKey) &&
        Date.parse(cert.validFrom) <= now &&
        Date.parse(cert.validTo) - RENEW_BEFORE_MS > now &&
        cert.subject === `CN=${request.serial}` &&
        sameStrings(cert.keyUsage ?? [], [extendedKeyUsage(request.role)]) &&
        (cert.subjectAltName ?? "") === nodeSubjectAltName(names) &&
        sameKey(cert, keyPem)
      return fits ? { certPem, keyPem, chainPem: `${certPem.trimEnd()}\n${this.#ca.pem}` } : null
    } catch {
      // An unreadable cached certificate or key is simply issued again.
      return null
    }
  }

  async #sign(request: IssueRequest, names: ReadonlyArray<x509.JsonGeneralName>): Promise<TlsIdentity> {
    // Node's key generation hands out the SPKI and PKCS#8 encodings directly: a third of the cost of WebCrypto's.
    const keys = crypto.generateKeyPairSync("ec", {
      namedCurve: "P-256",
      publicKeyEncoding: { type: "spki", format: "der" },
      privateKeyEncoding: { type: "pkcs8", format: "pem" }
    })
    const now = Date.now()
    const extensions: Array<x509.Extension> = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([extendedKeyUsage(request.role)]),
      new x509.SubjectKeyIdentifierExtension(keyIdentifier(keys.publicKey)),
      new x509.AuthorityKeyIdentifierExtension(this.#ca.keyId)
    ]
    if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension([...names]))
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: [{ CN: [request.serial] }],
      issuer: this.#ca.name,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + LEAF_VALIDITY_DAYS * DAY_MS),
      publicKey: keys.publicKey,
      signingKey: this.#ca.signingKey,
      signingAlgorithm: SIGNING,
      extensions
    })
    const certPem = `${cert.toString("pem")}\n`
    return { certPem, keyPem: keys.privateKey, chainPem: `${certPem}${this.#ca.pem}` }
  }
}

/** The files of a lab CA in a folder. */
const CA_FILES = ["ca.pem", "ca.key"] as const

/**
 * Writes the CA of the lab whose data folder is `dataDir` (created there first when the lab has
 * none yet) into `out` as ca.pem and ca.key (0600): what `--pki` of a container's node reads.
 */
export const exportLabCa = async (options: LabPkiOptions & { readonly dir: string }, out: string): Promise<LabPki> => {
  const pki = await LabPki.load(options)
  await guard(out, "cannot be created; check the path and its permissions", () => fs.mkdir(out, { recursive: true }))
  for (const file of CA_FILES) {
    const text = await fs.readFile(path.join(options.dir, "pki", file), "utf8")
    await writeFileAtomic(path.join(out, file), text, file === "ca.key" ? 0o600 : 0o644)
  }
  return pki
}

/**
 * Makes the CA in `from` (ca.pem, ca.key, as `exportLabCa` writes them) the CA of the data folder
 * `dataDir`, checked first; a data folder that already has that CA is left as it is, one with
 * another CA is an error (its certificates were issued by the other).
 */
export const adoptLabCa = async (from: string, dataDir: string): Promise<void> => {
  const given = await loadCa(from)
  if (given === null) throw new PkiError({ path: from, reason: "holds no lab CA (ca.pem and ca.key); write one with fazlab export pki LAB.yaml --out DIR and mount it there" })
  const folder = path.join(dataDir, "pki")
  const current = await loadCa(folder).catch(() => null)
  if (current !== null) {
    if (current.cert.fingerprint256 === given.cert.fingerprint256) return
    throw new PkiError({ path: folder, reason: `holds another lab CA than ${from}; delete ${folder}, or give the data folder of this lab` })
  }
  await guard(folder, "cannot be created or made private (mode 0700); check the permissions of the lab data folder", async () => {
    await fs.mkdir(folder, { recursive: true, mode: 0o700 })
    await fs.chmod(folder, 0o700)
  })
  // Key first: a CA certificate is never on disk without its key.
  for (const file of CA_FILES.toReversed()) {
    await writeFileAtomic(path.join(folder, file), await fs.readFile(path.join(from, file), "utf8"), file === "ca.key" ? 0o600 : 0o644)
  }
}

const createCa = async (labName: string): Promise<Ca> => {
  const keys = await subtle.generateKey(EC_KEY, true, ["sign", "verify"])
  const now = Date.now()
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [`fazlab ${labName} CA`] }],
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + CA_VALIDITY_DAYS * DAY_MS),
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      new x509.SubjectKeyIdentifierExtension(keyIdentifier(await subtle.exportKey("spki", keys.publicKey)))
    ]
  })
  const pem = `${cert.toString("pem")}\n`
  return caOf(pem, keys.privateKey)
}

/** The CA stored in `folder`, `null` when there is none yet; a half-present or broken CA is an error. */
const loadCa = async (folder: string): Promise<Ca | null> => {
  const certPath = path.join(folder, "ca.pem")
  const keyPath = path.join(folder, "ca.key")
  const pem = await readOptional(certPath)
  const keyPem = await readOptional(keyPath)
  if (pem === null && keyPem === null) return null
  const reset = `or delete ${folder} to create a new lab CA (every device certificate is then issued again)`
  if (pem === null) throw new PkiError({ path: certPath, reason: `is missing although ca.key exists; restore it ${reset}` })
  if (keyPem === null) throw new PkiError({ path: keyPath, reason: `is missing although ca.pem exists; restore it ${reset}` })
  const cert = await guard(certPath, `is not a PEM certificate; restore it ${reset}`, async () => new crypto.X509Certificate(pem))
  const key = await guard(keyPath, `is not a PEM private key; restore it ${reset}`, async () => crypto.createPrivateKey(keyPem))
  if (!cert.ca) throw new PkiError({ path: certPath, reason: `is not a CA certificate; ${reset}` })
  if (Date.parse(cert.validTo) <= Date.now()) {
    throw new PkiError({ path: certPath, reason: `expired on ${cert.validTo}; ${reset}` })
  }
  if (!cert.checkPrivateKey(key)) throw new PkiError({ path: keyPath, reason: `does not belong to ca.pem; restore the matching key ${reset}` })
  const signingKey = await guard(keyPath, `is not an ECDSA P-256 key; ${reset}`, () =>
    subtle.importKey("pkcs8", key.export({ type: "pkcs8", format: "der" }), EC_KEY, false, ["sign"])
  )
  return caOf(pem.endsWith("\n") ? pem : `${pem}\n`, signingKey)
}

const caOf = (pem: string, signingKey: crypto.webcrypto.CryptoKey): Ca => {
  const cert = new x509.X509Certificate(pem)
  const nodeCert = new crypto.X509Certificate(pem)
  const keyId =
    cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId ??
    keyIdentifier(nodeCert.publicKey.export({ type: "spki", format: "der" }))
  return { cert: nodeCert, name: cert.subjectName, keyId, pem, signingKey }
}

/** Bytes of a P-256 SubjectPublicKeyInfo before the 65-byte uncompressed point. */
const P256_SPKI_HEADER_BYTES = 26

/** RFC 5280 key identifier (method 1): SHA-1 of the public key point, hex. */
const keyIdentifier = (spki: ArrayBuffer | Buffer): string =>
  crypto.createHash("sha1").update(new Uint8Array(spki).subarray(P256_SPKI_HEADER_BYTES)).digest("hex")

const extendedKeyUsage = (role: IssueRequest["role"]): x509.ExtendedKeyUsage =>
  role === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth

const subjectAltNames = (request: IssueRequest): ReadonlyArray<x509.JsonGeneralName> => {
  const defaults = request.role === "server" && request.hostnames === undefined && request.ips === undefined
  const hostnames = defaults ? ["localhost"] : (request.hostnames ?? [])
  const ips = defaults ? ["127.0.0.1"] : (request.ips ?? [])
  return [
    ...hostnames.map((value): x509.JsonGeneralName => ({ type: "dns", value })),
    ...ips.map((value): x509.JsonGeneralName => ({ type: "ip", value }))
  ]
}

/** How Node's `X509Certificate.subjectAltName` renders these names (to compare with a cached leaf). */
const nodeSubjectAltName = (names: ReadonlyArray<x509.JsonGeneralName>): string =>
  names.map((name) => (name.type === "dns" ? `DNS:${name.value}` : `IP Address:${name.value}`)).join(", ")

const sameStrings = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): boolean =>
  a.length === b.length && a.every((value, index) => value === b[index])

const sameKey = (cert: crypto.X509Certificate, keyPem: string): boolean => cert.checkPrivateKey(crypto.createPrivateKey(keyPem))

/** 16 random bytes as hex, top bit clear (positive) and second-highest set (always 16 bytes long). */
const randomSerial = (): string => {
  const bytes = crypto.randomBytes(16)
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40
  return bytes.toString("hex")
}

const exportKeyPem = async (key: crypto.webcrypto.CryptoKey): Promise<string> =>
  `${x509.PemConverter.encode(await subtle.exportKey("pkcs8", key), "PRIVATE KEY")}\n`

const readOptional = async (file: string): Promise<string | null> => {
  try {
    return await fs.readFile(file, "utf8")
  } catch (cause) {
    if (cause instanceof Error && "code" in cause && cause.code === "ENOENT") return null
    throw new PkiError({ path: file, reason: `cannot be read (${describe(cause)}); check its permissions` })
  }
}

/** Writes through a temporary file and a rename: a crash never leaves a half-written key or certificate. */
const writeFileAtomic = (file: string, content: string, mode: number): Promise<void> =>
  guard(file, "cannot be written; check the permissions and free space of the lab data folder", async () => {
    const temporary = `${file}.${crypto.randomBytes(6).toString("hex")}.tmp`
    try {
      await fs.writeFile(temporary, content, { mode, flag: "wx" })
      await fs.chmod(temporary, mode)
      await fs.rename(temporary, file)
    } catch (cause) {
      await fs.rm(temporary, { force: true })
      throw cause
    }
  })

/** Runs `work`, turning any failure into a `PkiError` for `file` with `reason` and the cause's message. */
const guard = async <A>(file: string, reason: string, work: () => Promise<A>): Promise<A> => {
  try {
    return await work()
  } catch (cause) {
    if (cause instanceof PkiError) throw cause
    throw new PkiError({ path: file, reason: `${reason} (${describe(cause)})` })
  }
}

const describe = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))
