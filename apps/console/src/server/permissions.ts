/**
 * The authorization model: a typed `resource.action` table. Procedures declare
 * one permission each and the tRPC middleware checks it on the server.
 */
export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

const VIEWER = [
  "cluster.read",
  "listener.read",
  "route.read",
  "pool.read",
  "backend.read",
  "agent.read",
  "config.read",
  "audit.read",
  // Certificates' public facts (chain, names, expiry); no API returns a private key to anyone.
  "certificate.read",
] as const;

const OPERATOR = [
  ...VIEWER,
  "cluster.write",
  "listener.write",
  "route.write",
  "pool.write",
  "backend.write",
  "backend.drain",
  // Upload, replace, rename and delete certificates (keys are write-only).
  "certificate.write",
  "config.rollback",
  // Dry runs lock the cluster row briefly and read live metrics: not for viewers.
  "config.preview",
] as const;

const ADMIN = [...OPERATOR, "agent.enroll", "agent.manage", "user.manage", "token.manage"] as const;

export type Permission = (typeof ADMIN)[number];

export const ROLE_PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  viewer: new Set<Permission>(VIEWER),
  operator: new Set<Permission>(OPERATOR),
  admin: new Set<Permission>(ADMIN),
};

export const ALL_PERMISSIONS: readonly Permission[] = ADMIN;

export function can(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].has(permission);
}
