import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/*
 * Real certificates for tests, made with the openssl CLI: a root CA, an
 * intermediate, leaves with chosen names, key types and validity dates
 * (`openssl ca` sets any start and end date, so expired and not-yet-valid
 * certificates are real ones, not a mocked clock).
 */

export type KeyKind = "ec256" | "ec384" | "ec521" | "rsa1024" | "rsa2048" | "ed25519";
export interface Issued {
  certPem: string;
  keyPem: string;
  certFile: string;
  keyFile: string;
}

const KEY_ARGS: Record<KeyKind, string[]> = {
  ec256: ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
  ec384: ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
  ec521: ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
  rsa1024: ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
  rsa2048: ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
  ed25519: ["-algorithm", "ED25519"],
};

/** openssl ca's date form (UTC): YYYYMMDDHHMMSSZ. */
const caDate = (d: Date) => `${d.toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`;
const DAY = 86_400_000;

export class TestPki {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), "fulcrum-pki-"));
  private n = 0;
  readonly root: Issued;

  constructor() {
    mkdirSync(path.join(this.dir, "new"));
    writeFileSync(path.join(this.dir, "index.txt"), "");
    writeFileSync(path.join(this.dir, "serial"), "1000\n");
    writeFileSync(
      path.join(this.dir, "ca.cnf"),
      [
        "[ca]",
        "default_ca = d",
        "[d]",
        `database = ${this.dir}/index.txt`,
        `new_certs_dir = ${this.dir}/new`,
        `serial = ${this.dir}/serial`,
        "default_md = sha256",
        "policy = any",
        "unique_subject = no",
        "[any]",
        "commonName = supplied",
        "",
      ].join("\n"),
    );
    this.root = this.selfSigned("Fulcrum Test Root");
  }

  key(kind: KeyKind = "ec256"): { keyPem: string; keyFile: string } {
    const keyFile = this.file("key.pem");
    execFileSync("openssl", ["genpkey", ...KEY_ARGS[kind], "-out", keyFile], { stdio: "pipe" });
    return { keyPem: readFileSync(keyFile, "utf8"), keyFile };
  }

  selfSigned(cn: string, kind: KeyKind = "ec256"): Issued {
    const { keyPem, keyFile } = this.key(kind);
    const certFile = this.file("root.pem");
    execFileSync(
      "openssl",
      [
        ...["req", "-x509", "-new", "-key", keyFile, "-subj", `/CN=${cn}`, "-days", "3650", "-out", certFile],
        ...[
          "-addext",
          "basicConstraints=critical,CA:TRUE",
          "-addext",
          "keyUsage=critical,keyCertSign,cRLSign",
        ],
      ],
      { stdio: "pipe" },
    );
    return { certPem: readFileSync(certFile, "utf8"), keyPem, certFile, keyFile };
  }

  /** A certificate signed by `issuer` (the root by default). */
  issue(opts: {
    cn: string;
    dns?: string[];
    ips?: string[];
    ca?: boolean;
    kind?: KeyKind;
    issuer?: Issued;
    notBefore?: Date;
    notAfter?: Date;
    /** Sign this key instead of a new one. */
    key?: { keyPem: string; keyFile: string };
  }): Issued {
    const issuer = opts.issuer ?? this.root;
    const { keyPem, keyFile } = opts.key ?? this.key(opts.kind);
    const csr = this.file("req.csr");
    execFileSync("openssl", ["req", "-new", "-key", keyFile, "-subj", `/CN=${opts.cn}`, "-out", csr], {
      stdio: "pipe",
    });
    const san = [...(opts.dns ?? []).map((d) => `DNS:${d}`), ...(opts.ips ?? []).map((i) => `IP:${i}`)];
    const ext = this.file("ext.cnf");
    writeFileSync(
      ext,
      [
        opts.ca ? "basicConstraints=critical,CA:TRUE" : "basicConstraints=CA:FALSE",
        opts.ca ? "keyUsage=critical,keyCertSign,cRLSign" : "keyUsage=critical,digitalSignature",
        ...(san.length ? [`subjectAltName=${san.join(",")}`] : []),
        "",
      ].join("\n"),
    );
    const certFile = this.file("cert.pem");
    const now = Date.now();
    execFileSync(
      "openssl",
      [
        ...[
          "ca",
          "-batch",
          "-notext",
          "-config",
          path.join(this.dir, "ca.cnf"),
          "-in",
          csr,
          "-out",
          certFile,
        ],
        ...["-cert", issuer.certFile, "-keyfile", issuer.keyFile, "-extfile", ext],
        ...["-startdate", caDate(opts.notBefore ?? new Date(now - DAY))],
        ...["-enddate", caDate(opts.notAfter ?? new Date(now + 90 * DAY))],
      ],
      { stdio: "pipe" },
    );
    return { certPem: readFileSync(certFile, "utf8"), keyPem, certFile, keyFile };
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private file(name: string): string {
    this.n += 1;
    return path.join(this.dir, `${this.n}-${name}`);
  }
}
