import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { errorMessage, StateStoreError } from "../errors";
import { writeFileAtomic } from "./atomic-write";

const credentialSchema = z.object({
  agentId: z.string(),
  clusterId: z.string(),
  credential: z.string().min(1),
  /** Remembered so a state dir copied to another console is noticed, not silently used. */
  consoleUrl: z.string(),
});
export type StoredCredential = z.infer<typeof credentialSchema>;

export class CredentialStore {
  readonly path: string;

  constructor(stateDir: string) {
    this.path = join(stateDir, "credential.json");
  }

  async load(): Promise<StoredCredential | undefined> {
    let raw: string;
    try {
      raw = await readFile(this.path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new StateStoreError(`cannot read ${this.path}: ${errorMessage(e)}`, { cause: e });
    }
    try {
      return credentialSchema.parse(JSON.parse(raw));
    } catch (e) {
      // Re-enrolling would need a fresh token anyway, so say exactly what is wrong.
      throw new StateStoreError(`${this.path} is corrupt (${errorMessage(e)}); delete it and enroll again`);
    }
  }

  async save(cred: StoredCredential): Promise<void> {
    try {
      await writeFileAtomic(this.path, `${JSON.stringify(cred, null, 2)}\n`, 0o600);
    } catch (e) {
      throw new StateStoreError(`cannot store credential at ${this.path}: ${errorMessage(e)}`, { cause: e });
    }
  }
}
