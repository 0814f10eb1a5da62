import type { ReactNode } from "react";
import { Button, Card, Table, Th } from "../ui";

/**
 * A section of the Certificates page below its main table (ACME, trusted CAs):
 * a heading, for writers a button that opens the section's form in a card, then
 * the rows. The caller keeps `open` because its form closes itself once saved.
 */
export function CertificateSection({
  label,
  heading,
  openLabel,
  mayWrite,
  open,
  setOpen,
  intro,
  form,
  children,
}: {
  label: string;
  heading: string;
  openLabel: string;
  mayWrite: boolean;
  open: boolean;
  setOpen: (update: (open: boolean) => boolean) => void;
  intro?: ReactNode;
  form: ReactNode;
  children: ReactNode;
}) {
  return (
    <section className="mt-8" aria-label={label}>
      <div className="mb-3 flex items-center justify-between">
        <h2 className="text-sm font-semibold">{heading}</h2>
        {mayWrite ? (
          <Button onClick={() => setOpen((v) => !v)} aria-expanded={open}>
            {openLabel}
          </Button>
        ) : null}
      </div>
      {intro ? <p className="mb-3 text-xs text-zinc-500 dark:text-zinc-400">{intro}</p> : null}
      {open ? <Card className="mb-4 p-5">{form}</Card> : null}
      {children}
    </section>
  );
}

/** The certificate tables: a card, the column heads plus an empty one for the row's buttons. */
export function CertificateTable({ columns, children }: { columns: readonly string[]; children: ReactNode }) {
  return (
    <Card>
      <Table>
        <thead>
          <tr>
            {columns.map((c) => (
              <Th key={c}>{c}</Th>
            ))}
            <Th />
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </Table>
    </Card>
  );
}
