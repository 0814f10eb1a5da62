-- Issue 18: HTTP/2 on http listeners (listenerHttp2Schema) and the protocol to a pool's backends
-- (poolUpstreamSchema), both in packages/protocol/src/http2.ts. Null: HTTP/1.1, as before.
ALTER TABLE "listeners" ADD COLUMN "http2" JSONB;
ALTER TABLE "pools" ADD COLUMN "upstream" JSONB;
