import { generateKeyPairSync } from "node:crypto";
import https from "node:https";
import { rootCertificates } from "node:tls";
import type { PrismaClient } from "@fulcrum/db";
import * as acme from "acme-client";
import type { CertificateDeps } from "../certificates/certificates";
import { decryptPrivateKey, encryptPrivateKey, type KeyRing } from "../certificates/key-encryption";
import { type AcmeTarget, publishChallenges, storeIssuedCertificate, withdrawChallenges } from "./store";

/** FULCRUM_ACME_*: parsed once in config.ts. */
export interface AcmeSettings {
  directoryUrl: string;
  email: string;
  /** Extra CA trusted for the ACME directory connection only (Pebble's test CA). */
  caPem?: string;
}

/** How long to wait for the agents to apply the version carrying the tokens before asking the CA to validate. */
const AGENTS_APPLY_WAIT_MS = 15_000;

function ecKeyPem(): string {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

const accountAad = (id: string) => `acme-account:${id}`;

/** acme-client's own axios instance carries the extra CA, so no other connection of the console trusts it. */
function trustDirectoryCa(settings: AcmeSettings): void {
  if (settings.caPem === undefined) return;
  acme.axios.defaults.httpsAgent = new https.Agent({ ca: [...rootCertificates, settings.caPem] });
}

/** The stored account for this directory and e-mail, created (key encrypted like certificate keys) the first time. */
async function acmeClient(prisma: PrismaClient, keys: KeyRing, settings: AcmeSettings): Promise<acme.Client> {
  trustDirectoryCa(settings);
  const where = { directoryUrl_email: { directoryUrl: settings.directoryUrl, email: settings.email } };
  let account = await prisma.acmeAccount.findUnique({ where });
  if (!account) {
    const id = crypto.randomUUID();
    const { ciphertext, keyId } = encryptPrivateKey(keys, ecKeyPem(), accountAad(id));
    account = await prisma.acmeAccount.upsert({
      where,
      create: { id, ...where.directoryUrl_email, keyCiphertext: ciphertext, encryptionKeyId: keyId },
      update: {},
    });
  }
  const accountKey = decryptPrivateKey(
    keys,
    account.keyCiphertext,
    account.encryptionKeyId,
    accountAad(account.id),
  );
  const client = new acme.Client({
    directoryUrl: settings.directoryUrl,
    accountKey,
    ...(account.accountUrl ? { accountUrl: account.accountUrl } : {}),
  });
  if (!account.accountUrl) {
    await client.createAccount({ termsOfServiceAgreed: true, contact: [`mailto:${settings.email}`] });
    await prisma.acmeAccount.update({
      where: { id: account.id },
      data: { accountUrl: client.getAccountUrl() },
    });
  }
  return client;
}

/** Waits (bounded) until every connected agent of the cluster runs `version`, so the CA finds the tokens. */
async function agentsApplied(prisma: PrismaClient, clusterId: string, version: number | null): Promise<void> {
  if (version === null) return;
  const deadline = Date.now() + AGENTS_APPLY_WAIT_MS;
  while (Date.now() < deadline) {
    const behind = await prisma.agent.count({
      where: {
        clusterId,
        revokedAt: null,
        connectedAt: { not: null },
        disconnectedAt: null,
        OR: [{ appliedVersion: null }, { appliedVersion: { lt: version } }],
      },
    });
    if (behind === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** One order, start to end: tokens to the agents, validation, finalize with a new key, store. Throws with the CA's reason. */
export async function issueOnce(
  deps: CertificateDeps,
  settings: AcmeSettings,
  target: AcmeTarget & { names: string[] },
): Promise<{ fingerprint: string; notBefore: Date; notAfter: Date }> {
  const client = await acmeClient(deps.prisma, deps.keys, settings);
  const order = await client.createOrder({
    identifiers: target.names.map((value) => ({ type: "dns", value })),
  });
  const authorizations = await client.getAuthorizations(order);
  try {
    const pending: Array<{ host: string; challenge: Awaited<ReturnType<typeof client.completeChallenge>> }> =
      [];
    const tokens: Array<{ token: string; keyAuthorization: string; host: string }> = [];
    for (const authz of authorizations) {
      if (authz.status === "valid") continue;
      const challenge = authz.challenges.find((c) => c.type === "http-01");
      if (!challenge) throw new Error(`the CA offers no HTTP-01 challenge for ${authz.identifier.value}`);
      const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
      tokens.push({ token: challenge.token, keyAuthorization, host: authz.identifier.value.toLowerCase() });
      pending.push({ host: authz.identifier.value, challenge });
    }
    if (tokens.length > 0) {
      await agentsApplied(deps.prisma, target.clusterId, await publishChallenges(deps, target, tokens));
    }
    for (const { host, challenge } of pending) {
      await client.completeChallenge(challenge);
      try {
        await client.waitForValidStatus(challenge);
      } catch (e) {
        throw new Error(
          `HTTP-01 validation of ${host} failed: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
    const keyPem = ecKeyPem();
    const [, csr] = await acme.crypto.createCsr(
      { commonName: target.names[0], altNames: target.names },
      keyPem,
    );
    const finalized = await client.finalizeOrder(order, csr);
    const chainPem = await client.getCertificate(finalized);
    const stored = await storeIssuedCertificate(deps, target, chainPem, keyPem);
    return { fingerprint: stored.fingerprint, notBefore: stored.notBefore, notAfter: stored.notAfter };
  } catch (e) {
    await withdrawChallenges(deps, target);
    throw e;
  }
}
