/** The guest's backend: 200 with the bench's ~100-byte body, keep-alive, on the port given. */
import { createServer } from "node:http";

const BODY = `${"x".repeat(99)}\n`;
const port = Number(process.argv[2]);
const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(BODY) });
  res.end(BODY);
});
server.keepAliveTimeout = 3_600_000;
server.listen(port, "127.0.0.1");
