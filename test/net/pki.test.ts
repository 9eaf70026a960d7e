/**
 * The lab PKI: the CA is created once and reused from disk, leaves carry the device serial as CN
 * with the right usages and names, key material stays private, and cached leaves are reissued
 * when they no longer fit.
 */
import * as crypto from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { LabPki, PkiError } from "../../src/net/pki.ts"

let dir = ""
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "fazlab-pki-"))
})
afterEach(async () => {
  vi.useRealTimers()
  await fs.rm(dir, { recursive: true, force: true })
})

const mode = async (file: string): Promise<number> => (await fs.stat(file)).mode & 0o777
const YEAR_MS = 365 * 24 * 60 * 60 * 1000

describe("LabPki CA", () => {
  it("creates an ECDSA P-256 CA named after the lab, valid ten years", async () => {
    const pki = await LabPki.load({ dir: null, labName: "test" })
    const ca = new crypto.X509Certificate(pki.caPem)
    expect(ca.subject).toBe("CN=fazlab test CA")
    expect(ca.issuer).toBe("CN=fazlab test CA")
    expect(ca.ca).toBe(true)
    expect(ca.verify(ca.publicKey)).toBe(true)
    expect(ca.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: "prime256v1" })
    expect(ca.fingerprint256).toBe(pki.fingerprint)
    expect(pki.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    const lifetime = Date.parse(ca.validTo) - Date.now()
    expect(lifetime).toBeGreaterThan(9.9 * YEAR_MS)
    expect(lifetime).toBeLessThan(10.1 * YEAR_MS)
  })

  it("stores the CA privately on first start and reuses it on the next", async () => {
    const first = await LabPki.load({ dir, labName: "test" })
    const folder = path.join(dir, "pki")
    expect(await mode(folder)).toBe(0o700)
    expect(await mode(path.join(folder, "ca.key"))).toBe(0o600)
    expect(await fs.readFile(path.join(folder, "ca.pem"), "utf8")).toBe(first.caPem)

    const second = await LabPki.load({ dir, labName: "test" })
    expect(second.fingerprint).toBe(first.fingerprint)
    expect(second.caPem).toBe(first.caPem)
    // The reloaded CA still signs: its leaves verify against the original certificate.
    const leaf = await second.issue({ serial: "FGT60FTK20000001", role: "client" })
    expect(new crypto.X509Certificate(leaf.certPem).verify(new crypto.X509Certificate(first.caPem).publicKey)).toBe(true)
  })

  it("gives two labs without a folder two different CAs and writes nothing", async () => {
    const a = await LabPki.load({ dir: null, labName: "a" })
    const b = await LabPki.load({ dir: null, labName: "a" })
    expect(a.fingerprint).not.toBe(b.fingerprint)
    await a.issue({ serial: "FGT1", role: "client" })
    expect(await fs.readdir(dir)).toEqual([])
  })

  it("refuses a folder holding a certificate without its key, and says how to recover", async () => {
    await LabPki.load({ dir, labName: "test" })
    await fs.rm(path.join(dir, "pki", "ca.key"))
    const failure = LabPki.load({ dir, labName: "test" })
    await expect(failure).rejects.toBeInstanceOf(PkiError)
    await expect(failure).rejects.toThrow(/ca\.key: is missing although ca\.pem exists; restore it or delete .*pki to create a new lab CA/)
  })

  it("refuses a key that does not belong to the CA certificate", async () => {
    await LabPki.load({ dir, labName: "test" })
    const other = path.join(dir, "other")
    await LabPki.load({ dir: other, labName: "other" })
    await fs.copyFile(path.join(other, "pki", "ca.key"), path.join(dir, "pki", "ca.key"))
    await expect(LabPki.load({ dir, labName: "test" })).rejects.toThrow(/ca\.key: does not belong to ca\.pem/)
  })
})

describe("LabPki.issue", () => {
  it("issues a server leaf: CN = serial, signed by the CA, serverAuth, localhost/127.0.0.1 by default, two years", async () => {
    const pki = await LabPki.load({ dir: null, labName: "test" })
    const identity = await pki.issue({ serial: "FAZ-VM0000000001", role: "server" })
    const ca = new crypto.X509Certificate(pki.caPem)
    const leaf = new crypto.X509Certificate(identity.certPem)
    expect(leaf.subject).toBe("CN=FAZ-VM0000000001")
    expect(leaf.ca).toBe(false)
    expect(leaf.checkIssued(ca)).toBe(true)
    expect(leaf.verify(ca.publicKey)).toBe(true)
    expect(leaf.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"])
    expect(leaf.subjectAltName).toBe("DNS:localhost, IP Address:127.0.0.1")
    expect(leaf.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: "prime256v1" })
    expect(leaf.checkPrivateKey(crypto.createPrivateKey(identity.keyPem))).toBe(true)
    expect(identity.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
    expect(identity.chainPem).toBe(`${identity.certPem}${pki.caPem}`)
    const lifetime = Date.parse(leaf.validTo) - Date.now()
    expect(lifetime).toBeGreaterThan(1.9 * YEAR_MS)
    expect(lifetime).toBeLessThan(2.1 * YEAR_MS)
  })

  it("issues a client leaf with clientAuth and only the names asked for", async () => {
    const pki = await LabPki.load({ dir: null, labName: "test" })
    const bare = new crypto.X509Certificate((await pki.issue({ serial: "FGT60FTK20000001", role: "client" })).certPem)
    expect(bare.keyUsage).toEqual(["1.3.6.1.5.5.7.3.2"])
    expect(bare.subjectAltName).toBeUndefined()
    const named = await pki.issue({ serial: "FAZ-VM0000000002", role: "server", hostnames: ["faz-b.lab"], ips: ["127.0.1.2", "::1"] })
    expect(new crypto.X509Certificate(named.certPem).subjectAltName).toBe("DNS:faz-b.lab, IP Address:127.0.1.2, IP Address:0:0:0:0:0:0:0:1")
  })

  it("gives every certificate a random positive 16-byte serial number", async () => {
    const pki = await LabPki.load({ dir: null, labName: "test" })
    const serials = [new crypto.X509Certificate(pki.caPem).serialNumber]
    for (let i = 0; i < 20; i++) serials.push(new crypto.X509Certificate((await pki.issue({ serial: `FGT${i}`, role: "client" })).certPem).serialNumber)
    for (const serial of serials) {
      expect(serial).toMatch(/^[0-7][0-9A-F]{31}$/)
    }
    expect(new Set(serials).size).toBe(serials.length)
  })

  it("caches the leaf on disk with a private key and reuses it on the next start", async () => {
    const first = await (await LabPki.load({ dir, labName: "test" })).issue({ serial: "FGT60FTK20000001", role: "client" })
    expect(await fs.readFile(path.join(dir, "pki", "FGT60FTK20000001.pem"), "utf8")).toBe(first.certPem)
    expect(await mode(path.join(dir, "pki", "FGT60FTK20000001.key"))).toBe(0o600)
    const again = await (await LabPki.load({ dir, labName: "test" })).issue({ serial: "FGT60FTK20000001", role: "client" })
    expect(again).toEqual(first)
  })

  it("issues again when the cached leaf has another role or other names", async () => {
    const pki = await LabPki.load({ dir, labName: "test" })
    const client = await pki.issue({ serial: "FAZ-VM0000000001", role: "client" })
    const server = await pki.issue({ serial: "FAZ-VM0000000001", role: "server" })
    expect(server.certPem).not.toBe(client.certPem)
    const renamed = await (await LabPki.load({ dir, labName: "test" })).issue({ serial: "FAZ-VM0000000001", role: "server", ips: ["127.0.1.1"] })
    expect(renamed.certPem).not.toBe(server.certPem)
    expect(new crypto.X509Certificate(renamed.certPem).subjectAltName).toBe("IP Address:127.0.1.1")
  })

  it("issues again when the cached leaf comes from another CA", async () => {
    const old = await (await LabPki.load({ dir, labName: "test" })).issue({ serial: "FGT1", role: "client" })
    await fs.rm(path.join(dir, "pki", "ca.pem"))
    await fs.rm(path.join(dir, "pki", "ca.key"))
    const pki = await LabPki.load({ dir, labName: "test" })
    const fresh = await pki.issue({ serial: "FGT1", role: "client" })
    expect(fresh.certPem).not.toBe(old.certPem)
    expect(new crypto.X509Certificate(fresh.certPem).verify(new crypto.X509Certificate(pki.caPem).publicKey)).toBe(true)
  })

  it("issues again when the cached leaf is about to expire", async () => {
    const old = await (await LabPki.load({ dir, labName: "test" })).issue({ serial: "FGT1", role: "client" })
    vi.useFakeTimers({ toFake: ["Date"] })
    vi.setSystemTime(Date.now() + 2 * YEAR_MS)
    const fresh = await (await LabPki.load({ dir, labName: "test" })).issue({ serial: "FGT1", role: "client" })
    expect(fresh.certPem).not.toBe(old.certPem)
    expect(Date.parse(new crypto.X509Certificate(fresh.certPem).validTo)).toBeGreaterThan(Date.now() + YEAR_MS)
  })

  it("issues one certificate for concurrent requests for the same device", async () => {
    const pki = await LabPki.load({ dir, labName: "test" })
    const [a, b] = await Promise.all([pki.issue({ serial: "FGT1", role: "client" }), pki.issue({ serial: "FGT1", role: "client" })])
    expect(a).toBe(b)
  })

  it("refuses a serial that cannot be a file name", async () => {
    const pki = await LabPki.load({ dir, labName: "test" })
    await expect(pki.issue({ serial: "../escape", role: "client" })).rejects.toThrow(
      "lab PKI ../escape: is not a usable device serial; use 1-64 letters, digits, dots, dashes or underscores"
    )
  })
})
