// Exits 0 when a PostgreSQL server answers at the given URL within 3 s.
import { createRequire } from "node:module";

const require = createRequire(new URL("../../packages/db/package.json", import.meta.url));
const pg = require("pg");
const client = new pg.Client({ connectionString: process.argv[2], connectionTimeoutMillis: 3000 });
client.on("error", () => {});
try {
  await client.connect();
  await client.query("select 1");
  await client.end();
  process.exit(0);
} catch {
  process.exit(1);
}
