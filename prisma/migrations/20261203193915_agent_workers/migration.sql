-- AlterTable
ALTER TABLE "agents" ADD COLUMN     "workers" JSONB;
