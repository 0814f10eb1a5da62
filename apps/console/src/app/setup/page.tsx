"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { AuthCard } from "../../components/auth-card";
import { Field } from "../../components/field";
import { PageTitle } from "../../components/page-title";
import { authClient } from "../../lib/auth-client";
import { errorMessage, fieldErrors } from "../../lib/errors";
import { useTRPC } from "../../lib/trpc";

export default function SetupPage() {
  const trpc = useTRPC();
  const router = useRouter();
  const [signInError, setSignInError] = useState<string | null>(null);
  const create = useMutation(trpc.setup.createAdmin.mutationOptions());
  const errors = fieldErrors(create.error);

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const input = {
      name: String(form.get("name")),
      email: String(form.get("email")),
      password: String(form.get("password")),
    };
    try {
      await create.mutateAsync(input);
    } catch {
      return; // the form shows the server's field errors
    }
    const { error } = await authClient.signIn.email({ email: input.email, password: input.password });
    if (error) {
      setSignInError("Your admin account exists; sign in to continue.");
      router.replace("/login");
      return;
    }
    router.replace("/");
    router.refresh();
  }

  return (
    <AuthCard
      title="Set up Fulcrum"
      subtitle="Create the first admin. You can add operators and viewers afterwards."
    >
      <PageTitle parts={["Set up"]} />
      <form onSubmit={onSubmit} className="space-y-4">
        <Field label="Your name" name="name" required autoFocus error={errors.name} />
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="username"
          required
          error={errors.email}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={10}
          hint="At least 10 characters."
          error={errors.password}
        />
        {create.error && Object.keys(errors).length === 0 ? (
          <p role="alert" className="text-sm text-red-600">
            {errorMessage(create.error)}
          </p>
        ) : null}
        {signInError ? <p className="text-sm text-amber-600">{signInError}</p> : null}
        <button
          type="submit"
          disabled={create.isPending}
          className="w-full rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60"
        >
          {create.isPending ? "Creating…" : "Create admin and sign in"}
        </button>
      </form>
    </AuthCard>
  );
}
