"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { type ReactNode, useEffect, useMemo, useState } from "react";
import { authClient } from "../lib/auth-client";
import { ClusterContext, type ClusterContextValue, MeContext } from "../lib/console-context";
import { useTRPC } from "../lib/trpc";
import { mergeErrors, validate } from "../lib/validate";
import { clusterInput } from "../server/domain/schemas";
import { can, type Role } from "../server/permissions";
import { ChangeDialogHost } from "./changes/change-dialog-host";
import { FormActions, FormError, TextField } from "./form";
import {
  AgentIcon,
  AuditIcon,
  CertificateIcon,
  HistoryIcon,
  KeyIcon,
  ListenerIcon,
  OverviewIcon,
  PlusIcon,
  PoolIcon,
  TopologyIcon,
  UsersIcon,
} from "./icons";
import { inSection, SECTIONS, SectionTitle } from "./page-title";
import { ThemeToggle, useColorScheme } from "./theme";
import { ToastProvider } from "./toast";
import { Button, cx, Dialog, EmptyState, ErrorNotice, RoleBadge, Skeleton } from "./ui";

const CLUSTER_KEY = "fulcrum.cluster";

/** Paths whose pages work on one cluster; the others (users, tokens, audit) are global. */
function isClusterScoped(pathname: string): boolean {
  return (
    pathname === "/" ||
    ["/pools", "/listeners", "/certificates", "/topology", "/agents", "/config"].some((p) =>
      pathname.startsWith(p),
    )
  );
}

const ICONS: Record<string, ReactNode> = {
  "/": <OverviewIcon />,
  "/pools": <PoolIcon />,
  "/listeners": <ListenerIcon />,
  "/certificates": <CertificateIcon />,
  "/topology": <TopologyIcon />,
  "/agents": <AgentIcon />,
  "/config": <HistoryIcon />,
  "/audit": <AuditIcon />,
  "/users": <UsersIcon />,
  "/tokens": <KeyIcon />,
};

function Logo() {
  return (
    <Link href="/" className="flex items-center gap-2 px-2 text-sm font-semibold tracking-wide">
      <span aria-hidden className="inline-block h-3 w-3 rotate-45 bg-indigo-600 dark:bg-indigo-400" />
      <span className="text-zinc-900 dark:text-zinc-100">FULCRUM</span>
    </Link>
  );
}

function Sidebar({ role }: { role: Role | null }) {
  const pathname = usePathname();
  const isAdmin = role === "admin";
  return (
    <aside className="sticky top-0 flex h-screen w-48 shrink-0 flex-col border-r border-zinc-200 bg-white/60 px-3 py-4 lg:w-56 dark:border-zinc-800 dark:bg-zinc-900/40">
      <div className="mb-6 flex h-8 items-center">
        <Logo />
      </div>
      <nav aria-label="Main" className="flex flex-col gap-0.5">
        {SECTIONS.filter((n) => !n.admin || isAdmin).map((n) => {
          const active = inSection(pathname, n);
          return (
            <Link
              key={n.href}
              href={n.href}
              aria-current={active ? "page" : undefined}
              className={cx(
                "flex items-center gap-2.5 rounded-md px-2 py-1.5 text-sm transition-colors",
                active
                  ? "bg-zinc-100 font-medium text-zinc-900 dark:bg-zinc-800 dark:text-zinc-50"
                  : "text-zinc-600 hover:bg-zinc-100/70 hover:text-zinc-900 dark:text-zinc-400 dark:hover:bg-zinc-800/60 dark:hover:text-zinc-100",
              )}
            >
              <span className={active ? "text-indigo-600 dark:text-indigo-400" : ""}>{ICONS[n.href]}</span>
              {n.label}
            </Link>
          );
        })}
      </nav>
      <div className="mt-auto px-2 text-[11px] text-zinc-400 dark:text-zinc-600">Fulcrum control plane</div>
    </aside>
  );
}

function NewClusterDialog({
  open,
  onClose,
  onCreated,
}: {
  open: boolean;
  onClose: () => void;
  onCreated: (id: string) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const create = useMutation(trpc.cluster.create.mutationOptions());
  const [clientErrors, setClientErrors] = useState<Record<string, string> | null>(null);
  const errors = mergeErrors(clientErrors, create.error);

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const input = { name: String(new FormData(e.currentTarget).get("name") ?? "") };
    const invalid = validate(clusterInput, input);
    setClientErrors(invalid);
    if (invalid) return;
    try {
      const cluster = await create.mutateAsync(input);
      await queryClient.invalidateQueries({ queryKey: trpc.cluster.list.queryKey() });
      onCreated(cluster.id);
      create.reset();
      onClose();
    } catch {
      // shown below
    }
  }

  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="New cluster"
      description="A cluster is a group of load-balancer nodes sharing one configuration."
    >
      <form onSubmit={onSubmit} className="space-y-4" noValidate>
        <TextField
          label="Cluster name"
          name="name"
          placeholder="eu-west-edge"
          autoFocus
          error={errors.name}
        />
        <FormError error={create.error} fields={errors} shown={["name"]} />
        <FormActions>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={create.isPending}>
            {create.isPending ? "Creating…" : "Create cluster"}
          </Button>
        </FormActions>
      </form>
    </Dialog>
  );
}

function TopBar({
  email,
  role,
  clusterCtx,
  clustersLoading,
  onNewCluster,
}: {
  email: string | null;
  role: Role | null;
  clusterCtx: ClusterContextValue | null;
  clustersLoading: boolean;
  onNewCluster: (() => void) | null;
}) {
  const [signingOut, setSigningOut] = useState(false);
  async function signOut() {
    setSigningOut(true);
    try {
      await authClient.signOut();
    } finally {
      window.location.href = "/login";
    }
  }
  return (
    <header className="sticky top-0 z-10 flex h-14 items-center justify-between gap-4 border-b border-zinc-200 bg-zinc-50/85 px-6 backdrop-blur dark:border-zinc-800 dark:bg-zinc-950/85">
      <div className="flex min-w-0 items-center gap-2">
        <label htmlFor="cluster-picker" className="text-xs font-medium uppercase tracking-wide text-zinc-500">
          Cluster
        </label>
        {clustersLoading ? (
          <Skeleton className="h-8 w-40" />
        ) : clusterCtx ? (
          <select
            id="cluster-picker"
            value={clusterCtx.clusterId}
            onChange={(e) => clusterCtx.setClusterId(e.target.value)}
            className="h-8 max-w-56 rounded-md border border-zinc-300 bg-white pl-2.5 pr-8 text-sm font-medium outline-none focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/20 dark:border-zinc-700 dark:bg-zinc-900"
          >
            {clusterCtx.clusters.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        ) : (
          <span className="text-sm text-zinc-500">none yet</span>
        )}
        {onNewCluster ? (
          <Button variant="ghost" size="sm" onClick={onNewCluster} title="New cluster">
            <PlusIcon />
            <span className="hidden xl:inline">New cluster</span>
            <span className="sr-only xl:hidden">New cluster</span>
          </Button>
        ) : null}
      </div>
      <div className="flex items-center gap-3">
        {email ? (
          <span className="hidden max-w-56 truncate text-sm text-zinc-600 sm:inline dark:text-zinc-300">
            {email}
          </span>
        ) : (
          <Skeleton className="h-4 w-32" />
        )}
        {role ? <RoleBadge role={role} /> : null}
        <ThemeToggle />
        <Button size="sm" onClick={signOut} disabled={signingOut}>
          Sign out
        </Button>
      </div>
    </header>
  );
}

function ShellSkeleton() {
  return (
    <div role="status" aria-busy="true" aria-label="Loading" className="space-y-6">
      <div className="space-y-2">
        <Skeleton className="h-6 w-48" />
        <Skeleton className="h-4 w-96 max-w-full" />
      </div>
      <div className="grid gap-4 lg:grid-cols-2">
        <Skeleton className="h-44" />
        <Skeleton className="h-44" />
      </div>
    </div>
  );
}

/** The console's frame: sidebar, top bar, the signed-in actor and the selected cluster. */
export function ConsoleShell({ children }: { children: ReactNode }) {
  useColorScheme();
  const trpc = useTRPC();
  const pathname = usePathname();
  const me = useQuery(trpc.setup.me.queryOptions(undefined, { staleTime: 60_000 }));
  const clusters = useQuery(trpc.cluster.list.queryOptions(undefined, { enabled: me.isSuccess }));
  const [stored, setStored] = useState<string | null>(null);
  const [storageRead, setStorageRead] = useState(false);
  const [newClusterOpen, setNewClusterOpen] = useState(false);

  useEffect(() => {
    setStored(window.localStorage.getItem(CLUSTER_KEY));
    setStorageRead(true);
  }, []);

  const unauthorized =
    me.error &&
    "data" in me.error &&
    (me.error.data as { code?: string } | undefined)?.code === "UNAUTHORIZED";
  useEffect(() => {
    if (unauthorized) window.location.href = `/login?next=${encodeURIComponent(window.location.pathname)}`;
  }, [unauthorized]);

  const clusterCtx = useMemo<ClusterContextValue | null>(() => {
    const list = clusters.data;
    if (!list || list.length === 0 || !storageRead) return null;
    const cluster = list.find((c) => c.id === stored) ?? list[0]!;
    return {
      clusterId: cluster.id,
      cluster,
      clusters: list,
      setClusterId: (id: string) => {
        window.localStorage.setItem(CLUSTER_KEY, id);
        setStored(id);
      },
    };
  }, [clusters.data, stored, storageRead]);

  const role = (me.data?.role as Role | undefined) ?? null;
  const mayCreateCluster = role ? can(role, "cluster.write") : false;
  const scoped = isClusterScoped(pathname);

  let content: ReactNode;
  if (me.error && !unauthorized) content = <ErrorNotice error={me.error} />;
  else if (!me.data) content = <ShellSkeleton />;
  else if (!scoped) content = children;
  else if (clusters.error) content = <ErrorNotice error={clusters.error} />;
  else if (!clusters.data || !storageRead) content = <ShellSkeleton />;
  else if (!clusterCtx)
    content = (
      <EmptyState
        title="No clusters yet"
        action={
          mayCreateCluster ? (
            <Button variant="primary" onClick={() => setNewClusterOpen(true)}>
              <PlusIcon /> Create a cluster
            </Button>
          ) : null
        }
      >
        {mayCreateCluster
          ? "A cluster groups the load-balancer nodes that share one configuration. Create one to start adding pools and listeners."
          : "Ask an operator or admin to create a cluster."}
      </EmptyState>
    );
  else content = children;
  // Pages title themselves once they render; until then (or instead) the section does.
  if (content !== children)
    content = (
      <>
        <SectionTitle />
        {content}
      </>
    );

  return (
    <MeContext.Provider value={me.data ?? null}>
      <ClusterContext.Provider value={clusterCtx}>
        <ToastProvider>
          <div className="flex min-h-screen">
            <Sidebar role={role} />
            <div className="flex min-w-0 flex-1 flex-col">
              <TopBar
                email={me.data?.name ?? null}
                role={role}
                clusterCtx={clusterCtx}
                clustersLoading={clusters.isPending}
                onNewCluster={mayCreateCluster ? () => setNewClusterOpen(true) : null}
              />
              <main className="mx-auto w-full max-w-[1400px] flex-1 px-6 py-6">
                <ChangeDialogHost>{content}</ChangeDialogHost>
              </main>
            </div>
          </div>
          <NewClusterDialog
            open={newClusterOpen}
            onClose={() => setNewClusterOpen(false)}
            onCreated={(id) => {
              window.localStorage.setItem(CLUSTER_KEY, id);
              setStored(id);
            }}
          />
        </ToastProvider>
      </ClusterContext.Provider>
    </MeContext.Provider>
  );
}
