"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { z } from "zod";
import { FormActions, FormError, SelectField, TextField } from "../../../components/form";
import { KeyIcon, PlusIcon, WarningIcon } from "../../../components/icons";
import { AdminsOnly } from "../../../components/page-states";
import {
  Badge,
  Button,
  Card,
  ConfirmButton,
  CopyBlock,
  EmptyState,
  ErrorNotice,
  PageHeader,
  RoleBadge,
  SkeletonRows,
  Table,
  Td,
  Th,
} from "../../../components/ui";
import type { ApiTokenRow } from "../../../lib/api-types";
import { useCan } from "../../../lib/console-context";
import { formatDateTime, relativeTime, useNow } from "../../../lib/format";
import { useTRPC } from "../../../lib/trpc";
import { mergeErrors, numberOrUndefined, validate } from "../../../lib/validate";
import { ROLES, type Role } from "../../../server/permissions";

/** Mirrors the server's newApiTokenInput (domain/api-tokens.ts is server-only). */
const newToken = z.object({
  name: z.string().trim().min(1, "Name the token after what uses it.").max(100),
  role: z.enum(ROLES),
  expiresInDays: z.coerce.number().int().min(1, "At least 1 day.").max(3650, "At most 3650 days.").optional(),
});

function status(t: ApiTokenRow, now: number): { label: string; tone: "green" | "red" | "zinc" } {
  if (t.revokedAt) return { label: "revoked", tone: "red" };
  if (t.expiresAt && new Date(t.expiresAt).getTime() < now) return { label: "expired", tone: "zinc" };
  return { label: "active", tone: "green" };
}

function CreateTokenPanel({ onDone }: { onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const create = useMutation(trpc.token.create.mutationOptions());
  const [role, setRole] = useState<Role>("viewer");
  const [clientErrors, setClientErrors] = useState<Record<string, string> | null>(null);
  const errors = mergeErrors(clientErrors, create.error);

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const days = numberOrUndefined(f.get("expiresInDays"));
    const input = {
      name: String(f.get("name") ?? ""),
      role,
      ...(days !== undefined ? { expiresInDays: days } : {}),
    };
    const invalid = validate(newToken, input);
    setClientErrors(invalid);
    if (invalid) return;
    try {
      await create.mutateAsync(input);
      await queryClient.invalidateQueries({ queryKey: trpc.token.list.queryKey() });
    } catch {
      // shown below
    }
  }

  if (create.data) {
    return (
      <div className="space-y-4">
        <div className="flex items-start gap-2 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-800 dark:border-amber-900 dark:bg-amber-950/40 dark:text-amber-200">
          <WarningIcon />
          <span>
            Copy the secret of <strong>{create.data.name}</strong> now: it is shown only once. Send it as{" "}
            <span className="font-mono">Authorization: Bearer …</span>
          </span>
        </div>
        <CopyBlock value={create.data.secret} testId="token-secret" label="API token" />
        <FormActions>
          <Button variant="primary" onClick={onDone}>
            Done
          </Button>
        </FormActions>
      </div>
    );
  }

  return (
    <form onSubmit={onSubmit} noValidate className="space-y-4">
      <div className="grid gap-4 sm:grid-cols-3">
        <TextField
          label="Name"
          name="name"
          autoFocus
          autoComplete="off"
          placeholder="ci-deploy"
          error={errors.name}
          hint="Name it after what uses it."
        />
        <SelectField
          label="Role"
          name="role"
          value={role}
          onChange={(e) => setRole(e.target.value as Role)}
          error={errors.role}
          hint="What the token may do; pick the least it needs."
        >
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </SelectField>
        <TextField
          label="Expires in (days)"
          name="expiresInDays"
          type="number"
          min={1}
          max={3650}
          placeholder="never"
          error={errors.expiresInDays}
          hint="Leave empty for no expiry."
        />
      </div>
      <FormError error={create.error} fields={errors} shown={["name", "role", "expiresInDays"]} />
      <FormActions>
        <Button onClick={onDone}>Cancel</Button>
        <Button type="submit" variant="primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create token"}
        </Button>
      </FormActions>
    </form>
  );
}

export default function TokensPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const allowed = useCan();
  const now = useNow(30_000);
  const mayManage = allowed("token.manage");
  const tokens = useQuery(trpc.token.list.queryOptions(undefined, { enabled: mayManage }));
  const revoke = useMutation(trpc.token.revoke.mutationOptions());
  const [creating, setCreating] = useState(false);

  if (!mayManage) {
    return (
      <AdminsOnly title="API tokens" icon={<KeyIcon />}>
        Ask an admin for an API token.
      </AdminsOnly>
    );
  }

  return (
    <>
      <PageHeader
        title="API tokens"
        description="Tokens let scripts and CI call the Fulcrum API with a fixed role. They stop working when revoked or when their creator is disabled."
        actions={
          <Button variant="primary" onClick={() => setCreating(true)} aria-expanded={creating}>
            <PlusIcon />
            New token
          </Button>
        }
      />
      {creating ? (
        <Card className="mb-6 p-5">
          <h2 className="mb-4 text-sm font-semibold">New API token</h2>
          <CreateTokenPanel onDone={() => setCreating(false)} />
        </Card>
      ) : null}
      {tokens.error ? <ErrorNotice error={tokens.error} className="mb-4" /> : null}
      {tokens.isPending ? (
        <SkeletonRows rows={3} />
      ) : tokens.data && tokens.data.length === 0 ? (
        creating ? null : (
          <EmptyState icon={<KeyIcon />} title="No API tokens">
            Create one for each script or pipeline that talks to Fulcrum, so you can revoke them one at a
            time.
          </EmptyState>
        )
      ) : (
        <Card>
          <Table>
            <thead>
              <tr>
                <Th>Name</Th>
                <Th>Role</Th>
                <Th>Prefix</Th>
                <Th>Created</Th>
                <Th>Last used</Th>
                <Th>Expires</Th>
                <Th>Status</Th>
                <Th />
              </tr>
            </thead>
            <tbody>
              {tokens.data?.map((t) => {
                const s = status(t, now);
                return (
                  <tr key={t.id} className={s.label === "active" ? "" : "text-zinc-400 dark:text-zinc-500"}>
                    <Td>
                      <div className="text-[13px] font-medium">{t.name}</div>
                      <div className="text-xs text-zinc-500 dark:text-zinc-400">by {t.createdBy.email}</div>
                    </Td>
                    <Td>
                      <RoleBadge role={t.role} />
                    </Td>
                    <Td className="font-mono text-xs">{t.prefix}…</Td>
                    <Td className="whitespace-nowrap text-[13px]">
                      <span title={formatDateTime(t.createdAt)}>{relativeTime(t.createdAt, now)}</span>
                    </Td>
                    <Td className="whitespace-nowrap text-[13px]">
                      {t.lastUsedAt ? (
                        <span title={formatDateTime(t.lastUsedAt)}>{relativeTime(t.lastUsedAt, now)}</span>
                      ) : (
                        "never"
                      )}
                    </Td>
                    <Td className="whitespace-nowrap text-[13px]">
                      {t.expiresAt ? (
                        <span title={formatDateTime(t.expiresAt)}>{relativeTime(t.expiresAt, now)}</span>
                      ) : (
                        "never"
                      )}
                    </Td>
                    <Td>
                      <Badge tone={s.tone}>{s.label}</Badge>
                    </Td>
                    <Td className="text-right">
                      {t.revokedAt ? null : (
                        <ConfirmButton
                          title={`Revoke ${t.name}?`}
                          confirmLabel="Revoke"
                          body="Requests with this token fail from now on. This cannot be undone."
                          onConfirm={async () => {
                            await revoke.mutateAsync({ id: t.id });
                            await queryClient.invalidateQueries({ queryKey: trpc.token.list.queryKey() });
                          }}
                        >
                          Revoke<span className="sr-only"> {t.name}</span>
                        </ConfirmButton>
                      )}
                    </Td>
                  </tr>
                );
              })}
            </tbody>
          </Table>
        </Card>
      )}
    </>
  );
}
