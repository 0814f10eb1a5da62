-- CreateEnum
CREATE TYPE "RouteAction" AS ENUM ('proxy', 'redirect');

-- AlterEnum
ALTER TYPE "ListenerProtocol" ADD VALUE 'dns';

-- AlterTable
ALTER TABLE "backends" ADD COLUMN     "publicBaseUrl" TEXT;

-- AlterTable
ALTER TABLE "routes" ADD COLUMN     "action" "RouteAction" NOT NULL DEFAULT 'proxy',
ADD COLUMN     "redirect" JSONB NOT NULL DEFAULT '{}';

-- Hand-written: Prisma's schema language cannot express CHECK constraints.
ALTER TABLE "backends" ADD CONSTRAINT "backends_publicBaseUrl_check" CHECK ("publicBaseUrl" IS NULL OR "publicBaseUrl" ~ '^https?://[^?#]+$');
