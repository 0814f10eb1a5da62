import { createFirstAdmin, needsSetup } from "../domain/users";
import { SetupDoneError } from "../errors";
import type { Services } from "../services";

/** FULCRUM_ADMIN_EMAIL/PASSWORD create the first admin for automation; a no-op once any user exists. */
export async function bootstrapAdmin(services: Services): Promise<void> {
  const admin = services.config.bootstrapAdmin;
  if (!admin || !(await needsSetup(services.prisma))) return;
  try {
    await createFirstAdmin(services.prisma, {
      name: "Admin",
      email: admin.email.toLowerCase(),
      password: admin.password,
    });
    services.log.info("created the first admin from FULCRUM_ADMIN_EMAIL", { email: admin.email });
  } catch (err) {
    // Another console process won the race; that is the outcome we wanted.
    if (!(err instanceof SetupDoneError)) throw err;
  }
}
