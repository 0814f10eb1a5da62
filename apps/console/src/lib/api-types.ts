import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../server/trpc/root";

export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;

export type Me = RouterOutputs["setup"]["me"];
export type Cluster = RouterOutputs["cluster"]["list"][number];
export type Pool = RouterOutputs["pool"]["list"][number];
export type Backend = Pool["backends"][number];
export type Listener = RouterOutputs["listener"]["list"][number];
export type Route = Listener["routes"][number];
export type Agent = RouterOutputs["agent"]["list"][number];
export type EnrollmentToken = RouterOutputs["agent"]["enrollmentTokens"][number];
export type ConfigVersionRow = RouterOutputs["config"]["versions"][number];
export type AuditEntry = RouterOutputs["audit"]["list"][number];
export type UserRow = RouterOutputs["user"]["list"][number];
export type ApiTokenRow = RouterOutputs["token"]["list"][number];
export type CertificateRow = RouterOutputs["certificate"]["list"][number];
