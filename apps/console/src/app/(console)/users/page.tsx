"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { z } from "zod";
import { FormActions, FormError, SelectField, TextField } from "../../../components/form";
import { PlusIcon, UsersIcon } from "../../../components/icons";
import { AdminsOnly } from "../../../components/page-states";
import {
  Badge,
  Button,
  Card,
  ConfirmButton,
  Dialog,
  ErrorNotice,
  PageHeader,
  SkeletonRows,
  Table,
  Td,
  Th,
} from "../../../components/ui";
import type { UserRow } from "../../../lib/api-types";
import { useCan, useMe } from "../../../lib/console-context";
import { formatDate } from "../../../lib/format";
import { useTRPC } from "../../../lib/trpc";
import { mergeErrors, validate } from "../../../lib/validate";
import { ROLES, type Role } from "../../../server/permissions";

/** Mirrors the server's user rules (domain/users.ts is server-only). */
const password = z.string().min(10, "Use at least 10 characters.").max(256, "Use at most 256 characters.");
const newUser = z.object({
  name: z.string().trim().min(1, "Enter a name.").max(100),
  email: z.email("Enter a valid email address.").trim().toLowerCase(),
  password,
  role: z.enum(ROLES),
});

const ROLE_HELP: Record<Role, string> = {
  viewer: "Viewers see everything and change nothing.",
  operator: "Operators change clusters, listeners, routes, pools and backends.",
  admin: "Admins also enroll agents and manage users and API tokens.",
};

function useInvalidateUsers() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: trpc.user.list.queryKey() });
}

function AddUserForm({ onDone }: { onDone: () => void }) {
  const trpc = useTRPC();
  const invalidate = useInvalidateUsers();
  const create = useMutation(trpc.user.create.mutationOptions());
  const [role, setRole] = useState<Role>("viewer");
  const [clientErrors, setClientErrors] = useState<Record<string, string> | null>(null);
  const errors = mergeErrors(clientErrors, create.error);

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const input = {
      name: String(f.get("name") ?? ""),
      email: String(f.get("email") ?? ""),
      password: String(f.get("password") ?? ""),
      role,
    };
    const invalid = validate(newUser, input);
    setClientErrors(invalid);
    if (invalid) return;
    try {
      await create.mutateAsync(input);
      await invalidate();
      onDone();
    } catch {
      // shown below
    }
  }

  return (
    <form onSubmit={onSubmit} noValidate className="space-y-4">
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <TextField label="Name" name="name" autoFocus autoComplete="off" error={errors.name} />
        <TextField label="Email" name="email" type="email" autoComplete="off" error={errors.email} />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          error={errors.password}
          hint="At least 10 characters. Share it privately."
        />
        <SelectField
          label="Role"
          name="role"
          value={role}
          onChange={(e) => setRole(e.target.value as Role)}
          error={errors.role}
          hint={ROLE_HELP[role]}
        >
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </SelectField>
      </div>
      <FormError error={create.error} fields={errors} shown={["name", "email", "password", "role"]} />
      <FormActions>
        <Button onClick={onDone}>Cancel</Button>
        <Button type="submit" variant="primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create user"}
        </Button>
      </FormActions>
    </form>
  );
}

function ResetPasswordDialog({ user, onClose }: { user: UserRow | null; onClose: () => void }) {
  const trpc = useTRPC();
  const reset = useMutation(trpc.user.resetPassword.mutationOptions());
  const [clientErrors, setClientErrors] = useState<Record<string, string> | null>(null);
  const errors = mergeErrors(clientErrors, reset.error);
  function close() {
    reset.reset();
    setClientErrors(null);
    onClose();
  }
  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (!user) return;
    const input = { id: user.id, password: String(new FormData(e.currentTarget).get("password") ?? "") };
    const invalid = validate(z.object({ id: z.string(), password }), input);
    setClientErrors(invalid);
    if (invalid) return;
    try {
      await reset.mutateAsync(input);
    } catch {
      // shown below
    }
  }
  return (
    <Dialog
      open={user !== null}
      onClose={close}
      title="Reset password"
      description={user ? `Set a new password for ${user.email}.` : undefined}
    >
      {reset.isSuccess ? (
        <div className="space-y-4">
          <p className="text-sm">
            The password was changed. Give it to {user?.name} through a private channel.
          </p>
          <FormActions>
            <Button variant="primary" onClick={close}>
              Done
            </Button>
          </FormActions>
        </div>
      ) : (
        <form onSubmit={onSubmit} noValidate className="space-y-4">
          <TextField
            label="New password"
            name="password"
            type="password"
            autoComplete="new-password"
            autoFocus
            error={errors.password}
            hint="At least 10 characters."
          />
          <FormError error={reset.error} fields={errors} shown={["password"]} />
          <FormActions>
            <Button onClick={close}>Cancel</Button>
            <Button type="submit" variant="primary" disabled={reset.isPending}>
              {reset.isPending ? "Saving…" : "Set password"}
            </Button>
          </FormActions>
        </form>
      )}
    </Dialog>
  );
}

function UserTableRow({ user, onResetPassword }: { user: UserRow; onResetPassword: () => void }) {
  const trpc = useTRPC();
  const me = useMe();
  const invalidate = useInvalidateUsers();
  const update = useMutation(trpc.user.update.mutationOptions({ onSettled: () => invalidate() }));
  const revoke = useMutation(trpc.user.revokeSessions.mutationOptions());
  const isMe = me.id === user.id;
  return (
    <tr>
      <Td>
        <div className="text-[13px] font-medium">
          {user.email}
          {isMe ? (
            <Badge tone="indigo" className="ml-2">
              you
            </Badge>
          ) : null}
        </div>
        {update.error ? (
          <p role="alert" className="mt-0.5 text-xs text-red-600 dark:text-red-400">
            {update.error.message}
          </p>
        ) : null}
      </Td>
      <Td className="text-[13px] text-zinc-600 dark:text-zinc-300">{user.name}</Td>
      <Td>
        <label className="sr-only" htmlFor={`role-${user.id}`}>
          Role of {user.email}
        </label>
        <select
          id={`role-${user.id}`}
          value={user.role}
          disabled={update.isPending}
          onChange={(e) => update.mutate({ id: user.id, role: e.target.value as Role })}
          className="h-8 rounded-md border border-zinc-300 bg-white pl-2 pr-7 text-[13px] dark:border-zinc-700 dark:bg-zinc-950"
        >
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </Td>
      <Td>
        <label className="inline-flex cursor-pointer items-center gap-2 text-[13px]">
          <input
            type="checkbox"
            role="switch"
            aria-checked={!user.disabled}
            checked={!user.disabled}
            disabled={isMe || update.isPending}
            onChange={(e) => update.mutate({ id: user.id, disabled: !e.target.checked })}
            className="peer sr-only"
          />
          <span
            aria-hidden
            className="relative h-5 w-9 rounded-full bg-zinc-300 transition-colors peer-checked:bg-emerald-500 peer-disabled:opacity-50 peer-focus-visible:ring-2 peer-focus-visible:ring-indigo-500 after:absolute after:left-0.5 after:top-0.5 after:h-4 after:w-4 after:rounded-full after:bg-white after:shadow after:transition-transform peer-checked:after:translate-x-4 dark:bg-zinc-700"
          />
          <span className={user.disabled ? "text-red-600 dark:text-red-400" : ""}>
            {user.disabled ? "disabled" : "active"}
          </span>
          <span className="sr-only"> account of {user.email}</span>
        </label>
      </Td>
      <Td className="whitespace-nowrap text-[13px] text-zinc-500 dark:text-zinc-400">
        {formatDate(user.createdAt)}
      </Td>
      <Td className="text-right">
        <div className="flex justify-end gap-0.5">
          <Button size="xs" variant="ghost" onClick={onResetPassword}>
            Reset password<span className="sr-only"> of {user.email}</span>
          </Button>
          <ConfirmButton
            variant="ghost"
            title={`Sign ${user.email} out everywhere?`}
            confirmLabel="Revoke sessions"
            body={`${user._count.sessions} active session${user._count.sessions === 1 ? "" : "s"} will end; they must sign in again.${isMe ? " This includes the session you are using." : ""}`}
            onConfirm={async () => {
              await revoke.mutateAsync({ userId: user.id });
              await invalidate();
            }}
          >
            Revoke sessions ({user._count.sessions})<span className="sr-only"> of {user.email}</span>
          </ConfirmButton>
        </div>
      </Td>
    </tr>
  );
}

export default function UsersPage() {
  const trpc = useTRPC();
  const allowed = useCan();
  const mayManage = allowed("user.manage");
  const users = useQuery(trpc.user.list.queryOptions(undefined, { enabled: mayManage }));
  const [adding, setAdding] = useState(false);
  const [resetting, setResetting] = useState<UserRow | null>(null);

  if (!mayManage) {
    return (
      <AdminsOnly title="Users" icon={<UsersIcon />}>
        Ask an admin to add people or change roles.
      </AdminsOnly>
    );
  }

  return (
    <>
      <PageHeader
        title="Users"
        description="People who can sign in to this console. Changing someone's role or disabling them signs them out at once."
        actions={
          <Button variant="primary" onClick={() => setAdding(true)} aria-expanded={adding}>
            <PlusIcon />
            Add user
          </Button>
        }
      />
      {adding ? (
        <Card className="mb-6 p-5">
          <h2 className="mb-4 text-sm font-semibold">New user</h2>
          <AddUserForm onDone={() => setAdding(false)} />
        </Card>
      ) : null}
      {users.error ? <ErrorNotice error={users.error} className="mb-4" /> : null}
      {users.isPending ? (
        <SkeletonRows rows={4} />
      ) : (
        <Card>
          <Table>
            <thead>
              <tr>
                <Th>Email</Th>
                <Th>Name</Th>
                <Th>Role</Th>
                <Th>Account</Th>
                <Th>Added</Th>
                <Th />
              </tr>
            </thead>
            <tbody>
              {users.data?.map((u) => (
                <UserTableRow key={u.id} user={u} onResetPassword={() => setResetting(u)} />
              ))}
            </tbody>
          </Table>
        </Card>
      )}
      <ResetPasswordDialog user={resetting} onClose={() => setResetting(null)} />
    </>
  );
}
