import type { Role } from "../permissions";

/** Whoever performs an action: a signed-in person, an API token, or the system itself. */
export interface Actor {
  kind: "user" | "token" | "system";
  /** User id (for tokens: the id of the user who created the token). */
  id: string | null;
  name: string;
  role: Role;
}

export const SYSTEM_ACTOR: Actor = { kind: "system", id: null, name: "system", role: "admin" };
