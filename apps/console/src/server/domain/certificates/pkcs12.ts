import forge from "node-forge";
import { CertificatePkcs12InvalidError, CertificatePkcs12PasswordError } from "./errors";
import { toPem } from "./pem";

/*
 * A PKCS#12 (.p12/.pfx) upload turned into the PEM chain and key that
 * inspect.ts checks like any other upload. node-forge reads the legacy files
 * (RC2-40 / 3DES with SHA-1 MAC, OpenSSL before 3.0 and `-legacy`) and the
 * OpenSSL 3 default (PBES2 AES-256-CBC, PBKDF2 HMAC-SHA256, SHA-256 MAC).
 *
 * The file says how many key-derivation rounds it wants, in several places
 * (the MAC, each encrypted container, each shrouded key), and forge runs them
 * all, some in plain JavaScript: a hostile file asking for 2^31 rounds would
 * hold the console's event loop. So the file is walked first, decrypting the
 * containers itself with a bounded budget, before forge parses it for real.
 */

/** Rounds one key derivation may ask for (OpenSSL, Windows and Java export 2,000-10,000). */
export const MAX_PKCS12_ITERATIONS = 25_000;
/**
 * Rounds all key derivations of one file may ask for together (a MAC and two
 * encryptions at 20,000). Legacy files derive keys in plain JavaScript, about
 * 10 µs a round here, and each encryption's rounds run twice (the walk, then
 * forge), so a file at the budget holds the event loop for about a second.
 */
const ITERATION_BUDGET = 60_000;
/** ASN.1 nesting forge may follow (a real file nests about 12 deep). */
const MAX_DEPTH = 64;

const PKCS12_PBE_PREFIX = "1.2.840.113549.1.12.1.";
const PBES2 = "1.2.840.113549.1.5.13";
const { Class, Type } = forge.asn1;

type Asn1 = forge.asn1.Asn1;

/** Parts of node-forge that @types/node-forge leaves out (checked against node-forge 1.4's source). */
interface FromDerOptions {
  strict: boolean;
  parseAllBytes: boolean;
  decodeBitStrings: boolean;
  maxDepth: number;
}
const fromDer = forge.asn1.fromDer as unknown as (
  bytes: forge.util.ByteStringBuffer,
  options: FromDerOptions,
) => Asn1;
const pbe = (
  forge.pki as unknown as {
    pbe: { getCipher(oid: string, params: Asn1, password: string): forge.cipher.BlockCipher };
  }
).pbe;

const invalid = (why: string) =>
  new CertificatePkcs12InvalidError(`This is not a PKCS#12 file we can read (.p12/.pfx): ${why}`);

const tooMuchWork = (what: string) =>
  new CertificatePkcs12InvalidError(
    `This PKCS#12 file ${what}. Export it again with common settings (openssl pkcs12 -export uses 2048).`,
  );

function parseDer(bytes: string): Asn1 {
  return fromDer(forge.util.createBuffer(bytes), {
    strict: true,
    parseAllBytes: true,
    decodeBitStrings: false,
    maxDepth: MAX_DEPTH,
  });
}

const children = (n: Asn1 | undefined): Asn1[] => (n && Array.isArray(n.value) ? n.value : []);
const bytesOf = (n: Asn1 | undefined): string | undefined =>
  n && typeof n.value === "string" ? n.value : undefined;

/** A non-negative INTEGER's value; more than 4 bytes counts as too many rounds. */
function integerOf(n: Asn1 | undefined, what: string): number {
  const b = bytesOf(n);
  if (n?.type !== Type.INTEGER || b === undefined || b.length === 0)
    throw invalid(`${what} is not a number.`);
  if (b.length > 4) return Number.POSITIVE_INFINITY;
  let v = 0;
  for (let i = 0; i < b.length; i++) v = v * 256 + b.charCodeAt(i);
  return v;
}

const oidOf = (n: Asn1 | undefined): string | undefined => {
  const b = bytesOf(n);
  return n?.type === Type.OID && b !== undefined ? forge.asn1.derToOid(b) : undefined;
};

/** Counts the rounds the file asks for and refuses past the bounds. */
class RoundBudget {
  private left = ITERATION_BUDGET;
  spend(rounds: number): void {
    if (rounds > MAX_PKCS12_ITERATIONS) {
      throw tooMuchWork(
        `asks for ${Number.isFinite(rounds) ? rounds : "more than 2^32"} key-derivation rounds; at most ${MAX_PKCS12_ITERATIONS} are accepted`,
      );
    }
    this.left -= rounds;
    if (this.left < 0)
      throw tooMuchWork(`asks for more than ${ITERATION_BUDGET} key-derivation rounds in all`);
  }
}

/** The rounds of a password-based encryption AlgorithmIdentifier, or undefined when it is not one. */
function pbeRounds(alg: Asn1): number | undefined {
  const [oidNode, params] = children(alg);
  const oid = oidOf(oidNode);
  if (oid === undefined) return undefined;
  if (oid.startsWith(PKCS12_PBE_PREFIX)) return integerOf(children(params)[1], "The iteration count");
  if (oid === PBES2) {
    const kdfParams = children(children(children(params)[0])[1]);
    return integerOf(kdfParams[1], "The PBKDF2 iteration count");
  }
  return undefined;
}

/**
 * Walks the tree: every encryption's rounds are spent from the budget, data
 * that is itself DER is walked, and encrypted containers (EncryptedContentInfo:
 * type, algorithm, [0] content) are decrypted and walked, since they may hold
 * shrouded keys with rounds of their own.
 */
function walk(n: Asn1, password: string, budget: RoundBudget, depth: number): void {
  if (depth > MAX_DEPTH) throw invalid("it nests too deeply.");
  const kids = children(n);
  if (n.tagClass === Class.UNIVERSAL && n.type === Type.SEQUENCE) {
    const rounds = pbeRounds(n);
    if (rounds !== undefined) budget.spend(rounds);
    const [, alg, content] = kids;
    if (alg && content && content.tagClass === Class.CONTEXT_SPECIFIC && content.type === 0) {
      if (pbeRounds(alg) !== undefined) {
        walk(alg, password, budget, depth + 1);
        const plain = decrypt(alg, content, password);
        walk(
          parseInner(plain, () => new CertificatePkcs12PasswordError()),
          password,
          budget,
          depth + 1,
        );
        return;
      }
    }
  }
  for (const k of kids) walk(k, password, budget, depth + 1);
  const b = bytesOf(n);
  if (n.type === Type.OCTETSTRING && b !== undefined && b.charCodeAt(0) === 0x30) {
    let inner: Asn1 | undefined;
    try {
      inner = parseDer(b);
    } catch {
      inner = undefined; // opaque bytes (a salt, a digest, an encrypted key): nothing to walk
    }
    if (inner) walk(inner, password, budget, depth + 1);
  }
}

function parseInner(bytes: string, onError: () => Error): Asn1 {
  try {
    return parseDer(bytes);
  } catch {
    throw onError();
  }
}

function decrypt(alg: Asn1, content: Asn1, password: string): string {
  const data =
    bytesOf(content) ??
    children(content)
      .map((c) => bytesOf(c) ?? "")
      .join("");
  let cipher: forge.cipher.BlockCipher;
  try {
    cipher = pbe.getCipher(oidOf(children(alg)[0])!, children(alg)[1]!, password);
  } catch (e) {
    throw invalid(`its encryption is not supported (${describe(e)}).`);
  }
  cipher.update(forge.util.createBuffer(data));
  if (!cipher.finish()) throw new CertificatePkcs12PasswordError();
  return cipher.output.getBytes();
}

/** forge's message, short and on one line (it can quote bytes of the file). */
function describe(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  // Anything but printable ASCII (controls, and the file's bytes forge quotes as Latin-1) becomes one space.
  return m.replace(/[^\x20-\x7e]+/g, " ").slice(0, 160);
}

const KEY_BAGS = [forge.pki.oids.pkcs8ShroudedKeyBag!, forge.pki.oids.keyBag!];

/**
 * The certificates (in the file's order) and the one private key of a
 * PKCS#12 file, as PEM. Refuses, naming the field: a file that is not
 * PKCS#12, asks for too much work, has no key or several, or no certificate
 * (`pkcs12`); a password that does not open it (`password`).
 */
export function readPkcs12(der: Buffer, password: string): { chainPem: string; keyPem: string } {
  let pfx: Asn1;
  try {
    pfx = parseDer(der.toString("binary"));
  } catch {
    throw invalid("it is not DER (ASN.1).");
  }
  const [version, , macData] = children(pfx);
  if (pfx.type !== Type.SEQUENCE || integerOf(version, "The version") !== 3) {
    throw invalid("it does not start like a PKCS#12 archive (version 3).");
  }
  const budget = new RoundBudget();
  const macRounds = children(macData)[2];
  if (macData) budget.spend(macRounds ? integerOf(macRounds, "The MAC iteration count") : 1);
  walk(pfx, password, budget, 0);

  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(pfx, true, password);
  } catch (e) {
    if (/password/i.test(describe(e))) throw new CertificatePkcs12PasswordError();
    throw invalid(`${describe(e)}.`);
  }
  const keys = KEY_BAGS.flatMap((type) => p12.getBags({ bagType: type })[type] ?? []);
  if (keys.length === 0) {
    throw new CertificatePkcs12InvalidError(
      "No private key in the file. Export the certificate with its key (openssl pkcs12 -export -inkey key.pem -in fullchain.pem).",
    );
  }
  if (keys.length > 1) {
    throw new CertificatePkcs12InvalidError(
      `The file holds more than one key (${keys.length}); upload a file with exactly one key and its chain.`,
    );
  }
  const certBag = forge.pki.oids.certBag!;
  const certs = p12.getBags({ bagType: certBag })[certBag] ?? [];
  if (certs.length === 0) throw new CertificatePkcs12InvalidError("No certificate in the file, only a key.");
  const key = keys[0]!;
  const keyAsn1 =
    key.asn1 ?? (key.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(key.key)) : null);
  if (!keyAsn1) throw new CertificatePkcs12InvalidError("The private key in the file cannot be read.");
  const chainPem = certs
    .map((c) => {
      const asn1 = c.asn1 ?? (c.cert ? forge.pki.certificateToAsn1(c.cert) : null);
      if (!asn1) throw new CertificatePkcs12InvalidError("A certificate in the file cannot be read.");
      return toPem("CERTIFICATE", derOf(asn1));
    })
    .join("");
  return { chainPem, keyPem: toPem("PRIVATE KEY", derOf(keyAsn1)) };
}

const derOf = (n: Asn1) => Buffer.from(forge.asn1.toDer(n).getBytes(), "binary");
